"""The outbox: queueing webhooks, claiming, sending and recording them, replaying them.

The life of an event:

1. `webhook_enqueue` (or `webhooks_enqueue_many`, many in one INSERT) writes it, pending and due
   now, in the transaction of the change that caused it: if that change rolls back, no webhook
   exists.
2. A worker claims ONE due event in a short transaction: on PostgreSQL it picks the row with
   `SELECT ... FOR UPDATE SKIP LOCKED` (workers never queue behind each other), and on every
   database the claim itself is a conditional UPDATE (`... WHERE status = 'pending' AND due AND
   (locked_until IS NULL OR locked_until <= now)`) that sets a lease: a fresh `lease_token` and
   `locked_until = now + WEBHOOK_LEASE_SECONDS` (60 s, well over the 10 s timeout). The conditional
   UPDATE is what makes a claim exclusive; SKIP LOCKED only spares the waiting. So SQLite (no SKIP
   LOCKED; its writers are serialised) runs the same code, and one worker there is enough.
   The same transaction writes the DeliveryAttempt row (its time), so an attempt whose worker dies
   mid-send is still on record.
3. The worker sends OUTSIDE any transaction (a slow receiver holds no lock), to the service's
   callback_url as it is at that moment.
4. It records the outcome with an UPDATE that only matches while `lease_token` is still its own,
   so a worker that comes back after its lease was taken over cannot overwrite anything.
   2xx: `delivered`. Anything else: the next retry after the contract's schedule (5 s, 5 min,
   30 min, 2 h, 5 h, 10 h, 10 h, each +-10 % jitter), or a longer `Retry-After` (capped at 24 h);
   after the last retry: `failed`.

A worker killed mid-send (SIGKILL, lost machine) leaves its lease; once `locked_until` passes, the
next worker claims the event again and sends it (at least once), under the same webhook-id.

A service without a callback_url: each attempt fails at once with error kind `no_callback_url`
(recorded like any other attempt, nothing sent) and follows the retry schedule, so setting the URL
within the ~28 h of the schedule still delivers the event; after that it is `failed` and can be
replayed.

Replays (`webhook_replay`, `webhooks_replay`) queue the event again under the same webhook-id,
due now, with the retry schedule started over (`attempts_since_queued` back to 0). Replaying an
event that a worker is sending right now does not break that worker's lease (no second concurrent
send): the running attempt's outcome is dropped and the event is sent again once that worker lets
go of it. An event whose payload was purged (`webhook_payloads_purge`) is never replayed: there is
nothing left to send.
"""

import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.accounts.models import Service
from config.outbound import conf
from config.outbound.client import OutboundResult, post_signed
from config.outbound.errors import PayloadPurged
from config.outbound.leases import lease_next
from config.outbound.models import DeliveryAttempt, WebhookEvent, failed_at, new_webhook_id
from config.progress import OnProgress
from config.purge import purge_in_batches, table

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 500
# Error kind of an attempt that could not be made: the service has nowhere to receive webhooks.
NO_CALLBACK_URL = "no_callback_url"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    # The lease was no longer ours when the outcome came back (replayed or taken over meanwhile).
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Claim:
    """One attempt a worker holds: everything needed to send it and to record what happened."""

    event_id: str
    event_type: str
    lease_token: UUID
    locked_until: datetime
    attempt_id: int
    # 1 for the first attempt since the event was (re)queued; picks the delay before the next.
    attempt_number: int
    url: str
    # Kept out of repr: a Claim in a traceback or a log must not carry a secret or the payload.
    # The service's signing secrets at claim time: two during the overlap after a rotation.
    secrets: tuple[str, ...] = field(repr=False)
    body: bytes = field(repr=False)


@dataclass
class DeliveryCounts:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    superseded: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def merge(self, other: "DeliveryCounts") -> None:
        for outcome in Outcome:
            setattr(self, outcome.value, getattr(self, outcome.value) + getattr(other, outcome.value))

    @property
    def total(self) -> int:
        return self.delivered + self.retrying + self.failed + self.superseded

    def __str__(self) -> str:
        return (
            f"{self.delivered} delivered, {self.retrying} to retry, {self.failed} failed, "
            f"{self.superseded} superseded"
        )


def webhook_enqueue(
    *, service: Service, event_type: str, payload: dict[str, Any], subject_id: UUID | None = None
) -> WebhookEvent:
    """Queue an event for the service's callback URL; call it inside the causing transaction."""
    event = webhook_build(
        service_id=service.pk, event_type=event_type, payload=payload, subject_id=subject_id
    )
    event.save(force_insert=True)
    return event


def webhook_build(
    *, service_id: UUID, event_type: str, payload: dict[str, Any], subject_id: UUID | None = None
) -> WebhookEvent:
    """The event `webhook_enqueue` queues, not saved yet: for a caller that writes it in the
    statement of its own change (`config.db.update_then_insert`)."""
    return WebhookEvent(
        service_id=service_id,
        event_type=event_type,
        subject_id=subject_id,
        payload={"type": event_type, **payload},
        next_attempt_at=timezone.now(),
    )


@dataclass(frozen=True)
class NewWebhook:
    """One event for `webhooks_enqueue_many`: what `webhook_enqueue` takes, the service by its id."""

    service_id: UUID
    event_type: str
    payload: dict[str, Any]
    subject_id: UUID | None = None


def webhooks_enqueue_many(*, events: Iterable[NewWebhook], batch_size: int = 1000) -> int:
    """Queue many events like `webhook_enqueue`, one INSERT per `batch_size`; returns how many.

    Call it inside the causing transaction, as `webhook_enqueue`: a sweep of a thousand rows
    pays one round trip instead of a thousand.
    """
    events = list(events)
    if connection.vendor != "postgresql":
        rows = [
            webhook_build(
                service_id=event.service_id,
                event_type=event.event_type,
                payload=event.payload,
                subject_id=event.subject_id,
            )
            for event in events
        ]
        WebhookEvent.objects.bulk_create(rows, batch_size=batch_size)
        return len(rows)
    for start in range(0, len(events), batch_size):
        _insert_as_json(events[start : start + batch_size])
    return len(events)


# The columns whose values differ from event to event; every other column takes the value
# `webhook_build` gives every new event (pending, due now, no attempts).
_EVENT_COLUMNS = (
    ("id", "varchar"),
    ("service_id", "uuid"),
    ("event_type", "varchar"),
    ("subject_id", "uuid"),
    ("payload", "jsonb"),
)


def _insert_as_json(events: list[NewWebhook]) -> None:
    """One `INSERT ... SELECT ... FROM jsonb_to_recordset(...)` on PostgreSQL.

    The rows travel as one JSON document, built straight from the events: psycopg would
    otherwise quote every value of a bulk_create in Python, and a model instance per event cost
    more than the INSERT itself.
    """
    given = {name for name, _ in _EVENT_COLUMNS}
    shared = [field for field in WebhookEvent._meta.concrete_fields if field.attname not in given]
    first = events[0]
    template = webhook_build(service_id=first.service_id, event_type=first.event_type, payload={})
    shared_values = [
        field.get_db_prep_save(field.pre_save(template, add=True), connection) for field in shared
    ]
    records = [
        {
            "id": new_webhook_id(),
            "service_id": str(event.service_id),
            "event_type": event.event_type,
            "subject_id": None if event.subject_id is None else str(event.subject_id),
            "payload": {"type": event.event_type, **event.payload},
        }
        for event in events
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(name) for name in [*(name for name, _ in _EVENT_COLUMNS), *(str(f.column) for f in shared)]
    )
    selected = ", ".join(
        [
            *(f"e.{quote(name)}" for name, _ in _EVENT_COLUMNS),
            *(f"%s::{field.db_type(connection)}" for field in shared),
        ]
    )
    record_type = ", ".join(f"{quote(name)} {kind}" for name, kind in _EVENT_COLUMNS)
    sql = (
        f"INSERT INTO {quote(WebhookEvent._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"SELECT {selected} FROM jsonb_to_recordset(%s::jsonb) AS e({record_type})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*shared_values, json.dumps(records)])


def _requeued(now: datetime) -> dict[str, Any]:
    # `locked_until` stays: a worker sending the event right now keeps it until it lets go.
    return {
        "status": WebhookEvent.Status.PENDING,
        "next_attempt_at": now,
        "attempts_since_queued": 0,
        "lease_token": None,
        "last_error": "",
        "delivered_at": None,
        "failed_at": None,
    }


def webhook_replay(*, event: WebhookEvent, now: datetime | None = None) -> int:
    """Queue one stored event again, under the same webhook-id; returns how many were (1).

    The one-event form of `webhooks_replay`, so both follow the one rule of what may be replayed.
    An event whose payload was purged is refused, 409 PAYLOAD_PURGED: its conditional UPDATE
    (`payload_purged_at IS NULL`) matched nothing, so a purge racing the replay cannot leave a
    pending event without a payload.
    """
    replayed = webhooks_replay(events=WebhookEvent.objects.filter(pk=event.pk), now=now)
    if not replayed:
        raise PayloadPurged()
    return replayed


def webhooks_replay(
    *,
    events: QuerySet[WebhookEvent] | Iterable[str],
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = 5000,
    on_progress: OnProgress | None = None,
) -> int:
    """Queue many events again (a queryset, or webhook ids); returns how many were (or would be).

    Every replay passes here: the API's (one event or a set), `replay_notifications` and both
    admin replays, so what may not be sent again is decided in this one place: events whose
    payload was purged are skipped (not counted; `webhooks_count_purged` counts them).

    Set-based, in batches walked by primary key, so a million events are a few hundred short
    UPDATEs rather than one long transaction or a million round trips.
    """
    if not isinstance(events, QuerySet):
        events = WebhookEvent.objects.filter(pk__in=list(events))
    events = events.filter(payload_purged_at__isnull=True)
    if dry_run:
        return events.count()
    changes = _requeued(now or timezone.now())
    ids = events.order_by("pk").values_list("pk", flat=True)
    replayed = 0
    last_id: str | None = None
    while True:
        page = ids if last_id is None else ids.filter(pk__gt=last_id)
        batch = list(page[:batch_size])
        if not batch:
            return replayed
        done = WebhookEvent.objects.filter(pk__in=batch, payload_purged_at__isnull=True).update(**changes)
        replayed += done
        if on_progress is not None:
            on_progress(done)
        last_id = batch[-1]


def webhooks_count_purged(*, events: QuerySet[WebhookEvent]) -> int:
    """How many of these events a replay skips because their payload was purged."""
    return events.filter(payload_purged_at__isnull=False).count()


_FINISHED = (WebhookEvent.Status.DELIVERED, WebhookEvent.Status.FAILED)


def webhook_payloads_purge(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    batch_size: int = 1000,
    on_progress: OnProgress | None = None,
) -> int:
    """Purge the payload of every event delivered or failed more than `older_than` ago, and the
    answer bodies its attempts kept; the number of events purged (or that would be).

    The event keeps its status, its times and its attempts (time, status, duration, error); its
    payload becomes null and `payload_purged_at` says when. Pending events are never touched.
    Each batch is one statement on PostgreSQL (`purge_in_batches`): the chosen events, locked
    with SKIP LOCKED so concurrent runs take different rows, their attempts' bodies and the
    events themselves, conditional on the event being finished and not purged yet (elsewhere the
    same in one short transaction).
    """
    cutoff = timezone.now() - older_than
    kept = WebhookEvent.objects.filter(payload_purged_at__isnull=True)
    # Each in the order of its partial index (webhook_purgeable_delivered, webhook_purgeable_failed).
    finished = {
        "delivered_at": kept.filter(status=WebhookEvent.Status.DELIVERED, delivered_at__lt=cutoff),
        "failed": kept.alias(failed=failed_at()).filter(status=WebhookEvent.Status.FAILED, failed__lt=cutoff),
    }
    if dry_run:
        return sum(candidates.count() for candidates in finished.values())

    def purge(ids: list[str]) -> int:
        now = timezone.now()
        DeliveryAttempt.objects.filter(event_id__in=ids).exclude(response_body="").update(response_body="")
        return WebhookEvent.objects.filter(
            pk__in=ids, payload_purged_at__isnull=True, status__in=_FINISHED
        ).update(payload=None, payload_purged_at=now)

    statement = (
        f", bodies AS (UPDATE {table(DeliveryAttempt)} SET response_body = '' "  # noqa: S608 - names from the models
        "WHERE event_id IN (SELECT id FROM chosen) AND response_body <> '')"
        f", purged AS (UPDATE {table(WebhookEvent)} AS event SET payload = NULL, payload_purged_at = %s "
        "FROM chosen WHERE event.id = chosen.id AND event.payload_purged_at IS NULL "
        "AND event.status IN (%s, %s) RETURNING 1)"
    )
    return sum(
        purge_in_batches(
            candidates.order_by(time_field),
            purge,
            batch_size=batch_size,
            statement=statement,
            params=(timezone.now(), *_FINISHED),
            on_progress=on_progress,
        )
        for time_field, candidates in finished.items()
    )


def retry_delay(
    *, attempt_number: int, retry_after_seconds: int | None = None, schedule: tuple[float, ...] | None = None
) -> timedelta | None:
    """The wait after failed attempt number `attempt_number` of this round; None: give up.

    `schedule` defaults to the webhooks' (e-mails have their own). A `Retry-After` longer than the
    scheduled delay is honoured, up to WEBHOOK_RETRY_AFTER_MAX_SECONDS (24 h); a shorter one is
    not (the schedule already backs off as the contract promises).
    """
    schedule = conf.retry_schedule_seconds() if schedule is None else schedule
    if attempt_number > len(schedule):
        return None
    jitter = conf.retry_jitter()
    seconds = schedule[attempt_number - 1] * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 -- spread, not a secret
    if retry_after_seconds is not None and retry_after_seconds > seconds:
        seconds = max(seconds, min(float(retry_after_seconds), conf.retry_after_max_seconds()))
    return timedelta(seconds=seconds)


def webhook_claim_next(*, now: datetime | None = None, due_by: datetime | None = None) -> Claim | None:
    """Take the lease on the next due event (due by `due_by`, default `now`), or None if none is."""
    now = now or timezone.now()
    lease = lease_next(
        model=WebhookEvent,
        attempt_model=DeliveryAttempt,
        attempt_of="event",
        now=now,
        due_by=due_by or now,
        counters=("attempt_count", "attempts_since_queued"),
        related=("service",),
    )
    if lease is None:
        return None
    event: WebhookEvent = lease.row
    return Claim(
        event_id=event.pk,
        event_type=event.event_type,
        lease_token=lease.token,
        locked_until=lease.locked_until,
        attempt_id=lease.attempt_id,
        attempt_number=event.attempts_since_queued + 1,
        url=event.service.callback_url,
        secrets=tuple(event.service.signing_secrets(now=now)),
        body=json.dumps(event.payload).encode(),
    )


def webhook_send(*, claim: Claim, timeout_seconds: float | None = None) -> OutboundResult:
    """Send the claimed event (no database work here: it runs outside any transaction)."""
    if not claim.url:
        return OutboundResult(
            status_code=None,
            duration_ms=0,
            error_kind=NO_CALLBACK_URL,
            error="the service has no callback_url",
            body_prefix="",
            retry_after_seconds=None,
        )
    return post_signed(
        url=claim.url,
        secrets=claim.secrets,
        message_id=claim.event_id,
        body=claim.body,
        timeout_seconds=timeout_seconds if timeout_seconds is not None else conf.timeout_seconds(),
    )


def webhook_record_outcome(*, claim: Claim, result: OutboundResult, now: datetime | None = None) -> Outcome:
    """Record the attempt, and move the event on if the lease is still ours."""
    now = now or timezone.now()
    error = result.error[:ERROR_MAX_LENGTH]
    changes: dict[str, Any]
    if result.ok:
        outcome = Outcome.DELIVERED
        changes = {"status": WebhookEvent.Status.DELIVERED, "delivered_at": now, "last_error": ""}
    else:
        delay = retry_delay(
            attempt_number=claim.attempt_number, retry_after_seconds=result.retry_after_seconds
        )
        if delay is None:
            outcome = Outcome.FAILED
            changes = {"status": WebhookEvent.Status.FAILED, "failed_at": now, "last_error": error}
        else:
            outcome = Outcome.RETRYING
            changes = {"next_attempt_at": now + delay, "last_error": error}
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=claim.attempt_id).update(
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=error,
            response_body=result.body_prefix,
        )
        ours = WebhookEvent.objects.filter(pk=claim.event_id, lease_token=claim.lease_token)
        if not ours.update(**changes, lease_token=None, locked_until=None):
            # Replayed while we were sending: let it go now instead of when our lease would end.
            # (A lease that ran out and was taken over has another `locked_until`: left alone.)
            WebhookEvent.objects.filter(
                pk=claim.event_id, lease_token__isnull=True, locked_until=claim.locked_until
            ).update(locked_until=None)
            outcome = Outcome.SUPERSEDED
    logger.info(
        "webhook attempt",
        extra={
            "webhook_id": claim.event_id,
            "event_type": claim.event_type,
            "attempt": claim.attempt_number,
            "outcome": outcome.value,
            "status_code": result.status_code,
            "error_kind": result.error_kind,
            "duration_ms": result.duration_ms,
        },
    )
    return outcome


def webhook_deliver_next(
    *, now: datetime | None = None, due_by: datetime | None = None, timeout_seconds: float | None = None
) -> Outcome | None:
    """Claim, send and record one due event; None when nothing is due."""
    claim = webhook_claim_next(now=now, due_by=due_by)
    if claim is None:
        return None
    result = webhook_send(claim=claim, timeout_seconds=timeout_seconds)
    return webhook_record_outcome(claim=claim, result=result, now=now)


def webhooks_deliver_due(
    *, now: datetime | None = None, should_stop: Callable[[], bool] | None = None
) -> DeliveryCounts:
    """Send every event due when the call starts, one at a time; stops early when asked.

    Events that fail and come due again during the run (the 5 s retry) wait for the next run, so a
    run always ends. `now` stands in for the clock (tests walk the retry schedule with it).
    """
    due_by = now or timezone.now()
    counts = DeliveryCounts()
    while should_stop is None or not should_stop():
        outcome = webhook_deliver_next(now=now, due_by=due_by)
        if outcome is None:
            break
        counts.add(outcome)
    return counts
