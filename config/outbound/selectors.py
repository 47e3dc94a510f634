from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from config.accounts.models import Service
from config.outbound.models import DeliveryAttempt, WebhookEvent


def webhook_event_list(
    *,
    service: Service | None = None,
    subject_ids: list[UUID] | None = None,
    status: str | None = None,
    created_since: datetime | None = None,
) -> QuerySet[WebhookEvent]:
    """Events narrowed by whichever filters are given (e.g. to choose what to replay)."""
    events = WebhookEvent.objects.all()
    if service is not None:
        events = events.filter(service=service)
    if subject_ids is not None:
        events = events.filter(subject_id__in=subject_ids)
    if status is not None:
        events = events.filter(status=status)
    if created_since is not None:
        events = events.filter(created_at__gte=created_since)
    return events


def webhook_event_attempts(*, event: WebhookEvent) -> QuerySet[DeliveryAttempt]:
    """The event's attempts, newest first; one without a duration is in flight or was lost."""
    return DeliveryAttempt.objects.filter(event=event).order_by("-started_at", "-pk")
