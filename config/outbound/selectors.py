import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import OuterRef, Q, QuerySet, Subquery

from config.accounts.models import Service
from config.api.errors import NotFound
from config.outbound.models import DeliveryAttempt, WebhookEvent


def webhook_event_list(
    *,
    service: Service | None = None,
    subject_ids: list[UUID] | None = None,
    status: str | None = None,
    event_type: str | None = None,
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
    if event_type is not None:
        events = events.filter(event_type=event_type)
    if created_since is not None:
        events = events.filter(created_at__gte=created_since)
    return events


def webhook_event_attempts(*, event: WebhookEvent, oldest_first: bool = False) -> QuerySet[DeliveryAttempt]:
    """The event's attempts, newest first (or oldest first); one without a duration is in flight
    or was lost."""
    attempts = DeliveryAttempt.objects.filter(event=event).order_by("-started_at", "-pk")
    return attempts.reverse() if oldest_first else attempts


PAGE_SIZE = 50


@dataclass(frozen=True)
class EventCursor:
    """Where a page of the delivery log ends: the last event's (created_at, id), newest first."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "EventCursor":
        """The cursor `encode` made, or ValueError (a time without its zone included)."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            created_at, event_id = json.loads(raw)
            cursor = cls(created_at=datetime.fromisoformat(created_at), id=event_id)
        except (binascii.Error, ValueError, TypeError, AttributeError, UnicodeDecodeError):
            raise ValueError("not a cursor this server made") from None
        if cursor.created_at.tzinfo is None or not isinstance(cursor.id, str):
            raise ValueError("not a cursor this server made")
        return cursor


@dataclass(frozen=True)
class EventPage:
    events: list[WebhookEvent]
    # Each event's latest attempt, by event id (absent: no attempt yet).
    last_attempts: dict[str, DeliveryAttempt]
    next: EventCursor | None


def webhook_events_page_for_service(
    *,
    service: Service,
    status: str | None = None,
    event_type: str | None = None,
    created_since: datetime | None = None,
    after: EventCursor | None = None,
    limit: int = PAGE_SIZE,
) -> EventPage:
    """One page of the service's delivery log, newest first, with each event's latest attempt.

    Ordered by (created_at, id), the order of the indexes that start with the service (and its
    status or type), so a page is one index range however many events the service has.
    """
    events = webhook_event_list(
        service=service, status=status, event_type=event_type, created_since=created_since
    )
    if after is not None:
        # `created_at <= ...` repeats what the OR implies, as a bound an index scan can start
        # from: without it, a page deep in the log was found by reading every newer row first.
        events = events.filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.id),
            created_at__lte=after.created_at,
        )
    page = list(events.order_by("-created_at", "-id")[: limit + 1])
    cursor = None
    if len(page) > limit:
        page = page[:limit]
        cursor = EventCursor(created_at=page[-1].created_at, id=page[-1].pk)
    return EventPage(events=page, last_attempts=_last_attempts(page), next=cursor)


def _last_attempts(events: list[WebhookEvent]) -> dict[str, DeliveryAttempt]:
    if not events:
        return {}
    latest = (
        DeliveryAttempt.objects.filter(event=OuterRef("pk")).order_by("-started_at", "-pk").values("pk")[:1]
    )
    # One index probe per event (attempt_event_time, read backwards); events without an attempt
    # yet give None, dropped here rather than by a second copy of the subquery in the SQL.
    attempt_ids = (
        WebhookEvent.objects.filter(pk__in=[event.pk for event in events])
        .annotate(last_attempt_id=Subquery(latest))
        .values_list("last_attempt_id", flat=True)
    )
    chosen = [attempt_id for attempt_id in attempt_ids if attempt_id is not None]
    return {attempt.event_id: attempt for attempt in DeliveryAttempt.objects.filter(pk__in=chosen)}


def webhook_event_get_for_service(*, service: Service, webhook_id: str) -> WebhookEvent:
    """The service's own event; another service's answers exactly like a missing one (404)."""
    event = WebhookEvent.objects.filter(pk=webhook_id, service=service).first()
    if event is None:
        raise NotFound("There is no such webhook event.")
    return event
