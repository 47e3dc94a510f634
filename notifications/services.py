"""Writes on notifications. Every state change is decided by the database (a conditional UPDATE on
an open row, or a row lock), and every webhook is queued in the transaction of its change.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from config.accounts.models import Service
from config.accounts.services import user_token_issue
from config.api.errors import ApiError, InvalidRequest, Unauthenticated
from config.api.ratelimit import address_subject, rate_limit_check, rate_limit_refund
from config.api.timestamps import rfc3339
from config.db import update_then_insert
from config.outbound.models import WebhookEvent
from config.outbound.services import (
    NewWebhook,
    webhook_build,
    webhooks_count_purged,
    webhooks_enqueue_many,
    webhooks_replay,
)
from config.purge import purge_in_batches
from notifications.emails import notification_emails_queue
from notifications.errors import (
    InvalidActionId,
    NotificationAccessDenied,
    NotificationAlreadyResponded,
    NotificationExpired,
    NotificationInvalidated,
)
from notifications.models import Notification, NotificationStatus, finished_at, open_at, overdue_at
from notifications.selectors import notification_readable_by
from notifications.serializers import responder_render
from notifications.validation import actions_validate, response_data_validate

RESPONDED_EVENT = "notification.responded"
EXPIRED_EVENT = "notification.expired"
NOTIFICATION_EVENTS = (RESPONDED_EVENT, EXPIRED_EVENT)

EXPIRE_BATCH_SIZE = 1000

# Brute-force protection of POST /api/v1/client/token: failed attempts only, in fixed windows.
# Per username, so one account cannot be guessed at; per client address, so one client cannot
# spray many accounts. Behind a proxy, the address is what RATELIMIT_IP_META_KEY names.
# Every attempt is counted before its password is checked and a success takes back only its own
# hit, so however many guesses arrive at once, on however many processes, at most the limit are
# checked. Without Redis, logins answer 503: unthrottled guessing is not a degraded mode.
TOKEN_FAILURES_PER_USERNAME = "5/15m"
TOKEN_FAILURES_PER_ADDRESS = "20/15m"


def notification_state_error(notification: Notification, *, now: datetime) -> ApiError | None:
    """The 409 a terminal (or overdue) notification answers with; None while it is open."""
    if notification.status == NotificationStatus.RESPONDED:
        return NotificationAlreadyResponded()
    if notification.status == NotificationStatus.INVALIDATED:
        return NotificationInvalidated()
    if notification.status == NotificationStatus.EXPIRED or notification.is_overdue(now):
        return NotificationExpired()
    return None


def _lost_race(notification: Notification, *, now: datetime) -> ApiError:
    # The conditional UPDATE found the row no longer open: someone else changed it first.
    notification.refresh_from_db(fields=["status", "deadline"])
    return notification_state_error(notification, now=now) or NotificationAlreadyResponded()


def notification_create(
    *,
    service: Service,
    recipient: User,
    title: str,
    actions: Any,
    description: str = "",
    deadline: datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> Notification:
    """Store the notification and, in its transaction, the e-mail to its recipient (contract 9)."""
    now = timezone.now()
    if deadline is not None and deadline <= now:
        raise InvalidRequest("deadline: must be in the future.", details={"field": "deadline"})
    metadata = metadata or {}
    actions = actions_validate(actions)
    with transaction.atomic():
        notification = Notification.objects.create(
            service=service,
            recipient=recipient,
            title=title,
            description=description,
            deadline=deadline,
            metadata=metadata,
            actions=actions,
        )
        notification_emails_queue(notification=notification, recipients=[recipient])
    return notification


def notification_invalidate(*, notification: Notification, reason: str) -> Notification:
    """Withdraw a pending notification; 409 with the code of its state when it is not pending."""
    now = timezone.now()
    with transaction.atomic():
        won = Notification.objects.filter(open_at(now), pk=notification.pk).update(
            status=NotificationStatus.INVALIDATED, invalidated_at=now, invalidation_reason=reason
        )
    if not won:
        raise _lost_race(notification, now=now)
    notification.status = NotificationStatus.INVALIDATED
    notification.invalidated_at = now
    notification.invalidation_reason = reason
    return notification


def notification_respond(
    *, notification: Notification, responder: User, action_id: Any, response_data: Any
) -> Notification:
    """Record the one answer and queue `notification.responded`, both or neither
    (`update_then_insert`: one statement on PostgreSQL).

    Checks run in the contract's order after the 404: 403, 409, INVALID_ACTION_ID, then the
    answer itself (400 MISSING_REQUIRED_FIELD / INVALID_RESPONSE_DATA, 422 CONSTRAINT_VIOLATION).
    Of concurrent answers the conditional UPDATE lets exactly one through.
    """
    now = timezone.now()
    if not notification_readable_by(notification=notification, user=responder):
        raise NotificationAccessDenied()
    state_error = notification_state_error(notification, now=now)
    if state_error is not None:
        raise state_error
    action = next((item for item in notification.actions if item["id"] == action_id), None)
    if action is None:
        raise InvalidActionId()
    answer = response_data_validate(action=action, value=response_data)
    changes = {
        "status": NotificationStatus.RESPONDED,
        "response_action_id": action_id,
        "response_data": answer,
        "responded_at": now,
        "responder": responder,
    }
    responded = webhook_build(
        service_id=notification.service_id,
        event_type=RESPONDED_EVENT,
        subject_id=notification.pk,
        payload={
            "notification_id": str(notification.pk),
            "action_id": action_id,
            "response_data": answer,
            "responded_at": rfc3339(now),
            "responder": responder_render(responder),
            "metadata": notification.metadata,
        },
    )
    open_row = Notification.objects.filter(open_at(now), pk=notification.pk)
    if not update_then_insert(rows=open_row, changes=changes, new=responded):
        raise _lost_race(notification, now=now)
    for field, value in changes.items():
        setattr(notification, field, value)
    return notification


def notifications_expire_overdue(*, dry_run: bool = False, batch_size: int = EXPIRE_BATCH_SIZE) -> int:
    """Mark pending notifications past their deadline expired and queue `notification.expired`.

    Works in batches, each its own transaction, so memory stays flat on any number of rows. On
    PostgreSQL each batch locks its rows with SKIP LOCKED, so concurrent runs take disjoint rows
    and no notification is expired or announced twice; SQLite runs one writer at a time. Each
    batch's webhooks are queued in one INSERT, in the batch's transaction.
    """
    if dry_run:
        return Notification.objects.filter(overdue_at(timezone.now())).count()
    total = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            batch = _expire_batch(now=now, batch_size=batch_size)
            if not batch:
                break
            expired_at = rfc3339(now)
            webhooks_enqueue_many(
                events=[
                    NewWebhook(
                        service_id=service_id,
                        event_type=EXPIRED_EVENT,
                        subject_id=notification_id,
                        payload={
                            "notification_id": str(notification_id),
                            "expired_at": expired_at,
                            "metadata": metadata,
                        },
                    )
                    for notification_id, service_id, metadata in batch
                ],
                batch_size=batch_size,
            )
        total += len(batch)
        if len(batch) < batch_size:
            break
    return total


def _expire_batch(*, now: datetime, batch_size: int) -> list[tuple[UUID, UUID, Any]]:
    """Expire up to `batch_size` overdue notifications, oldest deadline first.

    Returns each one's (id, service_id, metadata). Call it in a transaction. On PostgreSQL one
    statement locks (SKIP LOCKED), updates and returns the rows; elsewhere a locking SELECT, then
    an UPDATE of what it read.
    """
    overdue = (
        Notification.objects.filter(overdue_at(now))
        .order_by("deadline")
        .select_for_update(skip_locked=True)
        .values_list("id", "service_id", "metadata")[:batch_size]
    )
    if connection.vendor != "postgresql":
        batch = list(overdue)
        Notification.objects.filter(pk__in=[row[0] for row in batch]).update(
            status=NotificationStatus.EXPIRED, expired_at=now
        )
        return batch
    chosen, chosen_params = overdue.values_list("id").query.sql_with_params()
    table = connection.ops.quote_name(Notification._meta.db_table)
    # MATERIALIZED: the locking SELECT runs once, whatever plan the UPDATE gets.
    sql = (
        f"WITH chosen AS MATERIALIZED ({chosen}) "  # noqa: S608 - the ORM's SQL, its values are parameters
        f"UPDATE {table} SET status = %s, expired_at = %s FROM chosen WHERE {table}.id = chosen.id "
        f"RETURNING {table}.id, {table}.service_id, {table}.metadata"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*chosen_params, NotificationStatus.EXPIRED, now))
        # Django has psycopg hand jsonb over as text, for JSONField to decode.
        return [(row_id, service_id, json.loads(value)) for row_id, service_id, value in cursor.fetchall()]


@dataclass(frozen=True)
class ReplayCounts:
    queued: int
    # Events left alone because their payload was purged (RETAIN_WEBHOOK_PAYLOADS).
    skipped_purged: int


def notification_events_replay(
    *,
    notifications: QuerySet[Notification],
    dry_run: bool = False,
    failed_only: bool = False,
    since: datetime | None = None,
) -> ReplayCounts:
    """Queue the stored events of these notifications again, each under its own webhook-id.

    `failed_only` keeps the events whose delivery gave up; `since` those stored at or after it.
    Events whose payload was purged are skipped and counted. Set-based (the outbox replays in
    batches of UPDATEs), so any number of notifications is fine.
    """
    events = WebhookEvent.objects.filter(
        subject_id__in=notifications.values("pk"), event_type__in=NOTIFICATION_EVENTS
    )
    if failed_only:
        events = events.filter(status=WebhookEvent.Status.FAILED)
    if since is not None:
        events = events.filter(created_at__gte=since)
    return ReplayCounts(
        queued=webhooks_replay(events=events, dry_run=dry_run),
        skipped_purged=webhooks_count_purged(events=events),
    )


def notifications_purge(*, older_than: timedelta, dry_run: bool = False, batch_size: int = 1000) -> int:
    """Delete the notifications that reached a terminal state more than `older_than` ago, with
    their answers (on the row) and their webhook events and attempts; how many (or would be).

    Batched like every purge (`purge_in_batches`): one short transaction per batch of ids.
    """
    finished = (
        Notification.objects.alias(finished=finished_at())
        .filter(~Q(status=NotificationStatus.PENDING), finished__lt=timezone.now() - older_than)
        .order_by("finished")
    )
    if dry_run:
        return finished.count()

    def purge(ids: list[UUID]) -> int:
        WebhookEvent.objects.filter(subject_id__in=ids).delete()
        _deleted, per_model = Notification.objects.filter(pk__in=ids).delete()
        return per_model.get(Notification._meta.label, 0)

    return purge_in_batches(finished, purge, batch_size=batch_size)


def client_token_obtain(*, request: HttpRequest, username: str, password: str) -> str:
    """A new `ut_` user token for a correct username and password; 429 after repeated failures."""
    return user_token_issue(
        user=person_authenticate(request=request, username=username, password=password)
    ).secret


def person_authenticate(*, request: HttpRequest, username: str, password: str) -> User:
    """The active person with this username and password, or 401; 429 after repeated failures,
    503 while the counters are unreachable.

    The one login throttle: the token endpoint and the inbox's login page both come through here,
    so they share its counters.
    """
    limits = [
        ("notifications.client_token.username", username.casefold(), TOKEN_FAILURES_PER_USERNAME),
        ("notifications.client_token.address", address_subject(request), TOKEN_FAILURES_PER_ADDRESS),
    ]
    hits = [
        rate_limit_check(
            group=group,
            subject=subject,
            rate=rate,
            message="Too many failed logins.",
            fail_open=False,
        )
        for group, subject, rate in limits
    ]
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise Unauthenticated("The username or the password is wrong.")
    for hit in hits:
        rate_limit_refund(hit)
    return cast(User, user)
