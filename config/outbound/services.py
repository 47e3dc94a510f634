from typing import Any
from uuid import UUID

from django.utils import timezone

from config.accounts.models import Service
from config.outbound.models import WebhookEvent


def webhook_enqueue(
    *, service: Service, event_type: str, payload: dict[str, Any], subject_id: UUID | None = None
) -> WebhookEvent:
    """Queue an event for the service's callback URL; call it inside the causing transaction."""
    return WebhookEvent.objects.create(
        service=service,
        event_type=event_type,
        subject_id=subject_id,
        payload={"type": event_type, **payload},
        next_attempt_at=timezone.now(),
    )


def webhook_replay(*, event: WebhookEvent) -> WebhookEvent:
    """Queue a stored event again, under the same webhook-id, whatever its state."""
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.PENDING, next_attempt_at=timezone.now(), locked_until=None
    )
    event.refresh_from_db()
    return event
