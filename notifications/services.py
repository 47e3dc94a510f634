"""Writes on notifications. Every state change is decided by the database (a conditional UPDATE on
an open row, or a row lock), and every webhook is queued in the transaction of its change.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone

from config.accounts.models import Service
from config.accounts.services import user_token_issue
from config.api.errors import ApiError, InvalidRequest, Unauthenticated
from config.api.ratelimit import address_subject, rate_limit_check, rate_limit_refund
from config.api.timestamps import rfc3339
from config.db import Param, Prepared, update_then_insert
from config.outbound.models import DeliveryAttempt, EmailAttempt, OutboundEmail, WebhookEvent
from config.outbound.services import (
    NewWebhook,
    webhook_build,
    webhooks_count_purged,
    webhooks_enqueue_many,
    webhooks_replay,
)
from config.progress import OnProgress
from config.purge import purge_in_batches, table
from notifications.emails import notification_emails_queue
from notifications.errors import (
    InvalidActionId,
    NotificationAccessDenied,
    NotificationAlreadyResponded,
    NotificationExpired,
    NotificationInvalidated,
)
from notifications.models import (
    ESCALATED_POSITIONS,
    Notification,
    NotificationRecipient,
    NotificationStatus,
    escalation_due_at,
    finished_at,
    open_at,
    overdue_at,
)
from notifications.selectors import RECIPIENTS, notification_readable_by, users_get
from notifications.serializers import responder_render
from notifications.validation import (
    actions_validate,
    default_outcome_validate,
    escalation_validate,
    response_data_validate,
)

RESPONDED_EVENT = "notification.responded"
EXPIRED_EVENT = "notification.expired"
ESCALATED_EVENT = "notification.escalated"
NOTIFICATION_EVENTS = (RESPONDED_EVENT, EXPIRED_EVENT, ESCALATED_EVENT)

SWEEP_BATCH_SIZE = 1000

# Brute-force protection of POST /api/v1/client/token: failed attempts only, in fixed windows.
# Per username, so one account cannot be guessed at; per client address, so one client cannot
# spray many accounts. Behind a proxy, the address is what RATELIMIT_IP_META_KEY names.
# Every attempt is counted before its password is checked and a success takes back only its own
# hit, so however many guesses arrive at once, on however many processes, at most the limit are
# checked. Without Redis, logins answer 503: unthrottled guessing is not a degraded mode.
TOKEN_FAILURES_PER_USERNAME = "5/15m"
TOKEN_FAILURES_PER_ADDRESS = "20/15m"


def notification_state_error(
    notification: Notification, *, now: datetime, answering: bool = False
) -> ApiError | None:
    """The 409 a terminal (or overdue) notification answers with; None while it is open.

    The code is that of its state as read at `now`, except that a person `answering` after the
    deadline meets NOTIFICATION_EXPIRED even where the default outcome answered it (contract 7).
    """
    if answering and (notification.response_defaulted or notification.defaults_at(now)):
        return NotificationExpired()
    status = notification.status_at(now)
    if status == NotificationStatus.RESPONDED:
        return NotificationAlreadyResponded()
    if status == NotificationStatus.INVALIDATED:
        return NotificationInvalidated()
    if status == NotificationStatus.EXPIRED:
        return NotificationExpired()
    return None


def _lost_race(notification: Notification, *, now: datetime, answering: bool = False) -> ApiError:
    # The conditional UPDATE found the row no longer open: someone else changed it first.
    notification.refresh_from_db(fields=["status", "deadline", "response_defaulted"])
    return (
        notification_state_error(notification, now=now, answering=answering) or NotificationAlreadyResponded()
    )


@transaction.atomic
def notification_create(
    *,
    service: Service,
    recipients: list[User],
    title: str,
    actions: Any,
    description: str = "",
    deadline: datetime | None = None,
    metadata: dict[str, Any] | None = None,
    on_deadline: Any = None,
    escalate: Any = None,
) -> Notification:
    """Store the notification for `recipients` (in order), with its default outcome and its
    escalation checked (contract 7); 400 naming the field otherwise."""
    now = timezone.now()
    if deadline is not None and deadline <= now:
        raise InvalidRequest("deadline: must be in the future.", details={"field": "deadline"})
    definitions = actions_validate(actions)
    default_outcome = None
    if on_deadline is not None:
        if deadline is None:
            raise InvalidRequest("on_deadline: needs a deadline.", details={"field": "on_deadline"})
        default_outcome = default_outcome_validate(on_deadline, actions=definitions)
    escalation_users: list[User] = []
    escalate_at = None
    if escalate is not None:
        after_seconds, usernames = escalation_validate(escalate)
        escalation_users = users_get(usernames=usernames, field="escalate")
        if {user.pk for user in escalation_users} & {user.pk for user in recipients}:
            raise InvalidRequest(
                "escalate: recipients names someone who is already a recipient.",
                details={"field": "escalate"},
            )
        escalate = {"after_seconds": after_seconds, "recipients": usernames}
        escalate_at = now + timedelta(seconds=after_seconds)
    notification = Notification.objects.create(
        service=service,
        recipient=recipients[0],
        title=title,
        description=description,
        deadline=deadline,
        metadata=metadata or {},
        actions=definitions,
        on_deadline=default_outcome,
        escalate=escalate,
        escalation_user_ids=[user.pk for user in escalation_users] or None,
        escalate_at=escalate_at,
    )
    NotificationRecipient.objects.bulk_create(
        NotificationRecipient(
            notification=notification,
            user=user,
            position=position,
            notification_created_at=notification.created_at,
        )
        for position, user in enumerate(recipients)
    )
    prefetch_related_objects([notification], RECIPIENTS)
    notification_emails_queue(notification=notification, recipients=recipients)
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


# The row an answer may still change: the answer's conditional UPDATE, compiled once.
_OPEN = Prepared(lambda: Notification.objects.filter(open_at(Param("now")), pk=Param("pk")))


def notification_respond(
    *, notification: Notification, responder: User, action_id: Any, response_data: Any
) -> Notification:
    """Record the one answer and queue `notification.responded`, both or neither
    (`update_then_insert`: one statement on PostgreSQL).

    Checks run in the contract's order after the 404: 403, 409, INVALID_ACTION_ID, then the
    answer itself (400 MISSING_REQUIRED_FIELD / INVALID_RESPONSE_DATA, 422 CONSTRAINT_VIOLATION).
    Of concurrent answers, whichever recipients send them, the conditional UPDATE lets exactly
    one through.
    """
    now = timezone.now()
    if not notification_readable_by(notification=notification, user=responder):
        raise NotificationAccessDenied()
    state_error = notification_state_error(notification, now=now, answering=True)
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
            "defaulted": False,
            "metadata": notification.metadata,
        },
    )
    if not update_then_insert(
        rows=_OPEN, where={"now": now, "pk": notification.pk}, changes=changes, new=responded
    ):
        raise _lost_race(notification, now=now, answering=True)
    for field, value in changes.items():
        setattr(notification, field, value)
    return notification


# ---------------------------------------------------------------------------------------------
# The sweep: what the deadline and the escalation do (contract 3 and 7)


@dataclass(frozen=True)
class SweepCounts:
    """What one `expire_notifications` run did (or, dry, would do), per kind of transition."""

    expired: int
    defaulted: int
    escalated: int


def notifications_sweep(
    *, dry_run: bool = False, batch_size: int = SWEEP_BATCH_SIZE, on_progress: OnProgress | None = None
) -> SweepCounts:
    """Every deadline-driven transition that is due: overdue notifications expired (or answered
    by their default outcome), due escalations done, each with its webhook (and e-mails).

    Set-based, in batches, each its own transaction, so memory stays flat on any number of rows.
    On PostgreSQL each batch is one statement that locks its rows with SKIP LOCKED, changes and
    returns them, so concurrent runs take disjoint rows and nothing happens twice; SQLite runs
    one writer at a time. Expiry and default outcomes go first: an escalation whose notification
    is past its deadline is not done. `on_progress` is called with each batch's count.
    """
    now = timezone.now()
    if dry_run:
        overdue = Notification.objects.filter(overdue_at(now))
        return SweepCounts(
            expired=overdue.filter(on_deadline__isnull=True).count(),
            defaulted=overdue.filter(on_deadline__isnull=False).count(),
            escalated=Notification.objects.filter(escalation_due_at(now)).count(),
        )
    return SweepCounts(
        expired=_in_batches(_expire_batch, batch_size=batch_size, on_progress=on_progress),
        defaulted=_in_batches(_default_batch, batch_size=batch_size, on_progress=on_progress),
        escalated=_in_batches(_escalate_batch, batch_size=batch_size, on_progress=on_progress),
    )


def _in_batches(step: Callable[..., int], *, batch_size: int, on_progress: OnProgress | None) -> int:
    total = 0
    while True:
        with transaction.atomic():
            done = step(now=timezone.now(), batch_size=batch_size)
        total += done
        if on_progress is not None:
            on_progress(done)
        if done < batch_size:
            return total


# Columns a batch may return that hold JSON (PostgreSQL hands jsonb over as text here).
_JSON_COLUMNS = frozenset({"metadata", "on_deadline", "escalate", "escalation_user_ids"})


def _claim(
    *,
    due: QuerySet[Notification],
    order: str,
    batch_size: int,
    returning: tuple[str, ...],
    assignments: str,
    params: tuple[Any, ...],
    update_elsewhere: Callable[[list[dict[str, Any]]], None],
) -> list[dict[str, Any]]:
    """Change up to `batch_size` due rows, first by `order`, and return their `returning` columns.
    Call it in a transaction.

    On PostgreSQL one statement locks (SKIP LOCKED), updates (`assignments`, SQL over the row's
    own columns, with `params`) and returns the rows; elsewhere a locking SELECT, then
    `update_elsewhere` of what it read.
    """
    chosen_rows = due.order_by(order).select_for_update(skip_locked=True)
    if connection.vendor != "postgresql":
        batch = list(chosen_rows.values(*returning)[:batch_size])
        if batch:
            update_elsewhere(batch)
        return batch
    chosen, chosen_params = chosen_rows.values_list("id")[:batch_size].query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    columns = ", ".join(f"{table}.{quote(column)}" for column in returning)
    # MATERIALIZED: the locking SELECT runs once, whatever plan the UPDATE gets.
    sql = (
        f"WITH chosen AS MATERIALIZED ({chosen}) "  # noqa: S608 - the ORM's SQL and our own names; values are parameters
        f"UPDATE {table} SET {assignments} FROM chosen WHERE {table}.id = chosen.id RETURNING {columns}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*chosen_params, *params))
        return [
            {
                column: json.loads(value) if column in _JSON_COLUMNS and value is not None else value
                for column, value in zip(returning, row, strict=True)
            }
            for row in cursor.fetchall()
        ]


def _expire_batch(*, now: datetime, batch_size: int) -> int:
    def update_elsewhere(batch: list[dict[str, Any]]) -> None:
        Notification.objects.filter(pk__in=[row["id"] for row in batch]).update(
            status=NotificationStatus.EXPIRED, expired_at=now
        )

    batch = _claim(
        due=Notification.objects.filter(overdue_at(now), on_deadline__isnull=True),
        order="deadline",
        batch_size=batch_size,
        returning=("id", "service_id", "metadata"),
        assignments="status = %s, expired_at = %s",
        params=(NotificationStatus.EXPIRED, now),
        update_elsewhere=update_elsewhere,
    )
    expired_at = rfc3339(now)
    webhooks_enqueue_many(
        events=[
            NewWebhook(
                service_id=row["service_id"],
                event_type=EXPIRED_EVENT,
                subject_id=row["id"],
                payload={
                    "notification_id": str(row["id"]),
                    "expired_at": expired_at,
                    "metadata": row["metadata"],
                },
            )
            for row in batch
        ],
        batch_size=batch_size,
    )
    return len(batch)


def _default_batch(*, now: datetime, batch_size: int) -> int:
    """Record the default outcome of overdue notifications that have one: answered at their
    deadline, by nobody (contract 7)."""

    def update_elsewhere(batch: list[dict[str, Any]]) -> None:
        for row in batch:
            Notification.objects.filter(pk=row["id"]).update(
                status=NotificationStatus.RESPONDED,
                response_action_id=row["on_deadline"]["action_id"],
                response_data=row["on_deadline"]["response_data"],
                responded_at=row["deadline"],
                response_defaulted=True,
            )

    batch = _claim(
        due=Notification.objects.filter(overdue_at(now), on_deadline__isnull=False),
        order="deadline",
        batch_size=batch_size,
        returning=("id", "service_id", "metadata", "on_deadline", "deadline"),
        # A JSON null answer (a simple action's) is stored as SQL NULL, as a person's is.
        assignments=(
            "status = %s, response_action_id = on_deadline ->> 'action_id', "
            "response_data = NULLIF(on_deadline -> 'response_data', 'null'::jsonb), "
            "responded_at = deadline, response_defaulted = true"
        ),
        params=(NotificationStatus.RESPONDED,),
        update_elsewhere=update_elsewhere,
    )
    webhooks_enqueue_many(
        events=[
            NewWebhook(
                service_id=row["service_id"],
                event_type=RESPONDED_EVENT,
                subject_id=row["id"],
                payload={
                    "notification_id": str(row["id"]),
                    "action_id": row["on_deadline"]["action_id"],
                    "response_data": row["on_deadline"]["response_data"],
                    "responded_at": rfc3339(row["deadline"]),
                    "responder": None,
                    "defaulted": True,
                    "metadata": row["metadata"],
                },
            )
            for row in batch
        ],
        batch_size=batch_size,
    )
    return len(batch)


def _escalate_batch(*, now: datetime, batch_size: int) -> int:
    """Add the escalation's recipients to open notifications whose moment has come (contract 7),
    e-mail them and queue `notification.escalated`."""

    def update_elsewhere(batch: list[dict[str, Any]]) -> None:
        Notification.objects.filter(pk__in=[row["id"] for row in batch]).update(escalated_at=now)

    batch = _claim(
        due=Notification.objects.filter(escalation_due_at(now)),
        order="escalate_at",
        batch_size=batch_size,
        returning=("id", "service_id", "metadata", "escalate", "escalation_user_ids", "created_at"),
        assignments="escalated_at = %s",
        params=(now,),
        update_elsewhere=update_elsewhere,
    )
    _escalated_recipients_add(batch, batch_size=batch_size)
    escalated_at = rfc3339(now)
    webhooks_enqueue_many(
        events=[
            NewWebhook(
                service_id=row["service_id"],
                event_type=ESCALATED_EVENT,
                subject_id=row["id"],
                payload={
                    "notification_id": str(row["id"]),
                    "escalated_at": escalated_at,
                    "recipients": row["escalate"]["recipients"],
                    "metadata": row["metadata"],
                },
            )
            for row in batch
        ],
        batch_size=batch_size,
    )
    escalation_emails_queue(notification_ids=[row["id"] for row in batch])
    return len(batch)


def _escalated_recipients_add(batch: list[dict[str, Any]], *, batch_size: int) -> None:
    """The recipients the batch's escalations add, in its transaction; once only because only the
    claim that set `escalated_at` gets here (and nrecip_once would refuse a second row).

    On PostgreSQL one `INSERT ... SELECT` from the claimed rows' `escalation_user_ids`, so none of
    them is built in Python.
    """
    if connection.vendor != "postgresql":
        NotificationRecipient.objects.bulk_create(
            (
                NotificationRecipient(
                    notification_id=row["id"],
                    user_id=user_id,
                    position=ESCALATED_POSITIONS + index,
                    escalated=True,
                    notification_created_at=row["created_at"],
                )
                for row in batch
                for index, user_id in enumerate(row["escalation_user_ids"])
            ),
            batch_size=batch_size,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(NotificationRecipient)} "  # noqa: S608 - names from the models
            "(notification_id, user_id, position, escalated, notification_created_at) "
            "SELECT notification.id, added.user_id::integer, %s + added.number - 1, true, "
            "notification.created_at "
            f"FROM {table(Notification)} AS notification CROSS JOIN LATERAL "
            "jsonb_array_elements_text(notification.escalation_user_ids) "
            "WITH ORDINALITY AS added(user_id, number) "
            "WHERE notification.id = ANY(%s::uuid[])",
            (ESCALATED_POSITIONS, [row["id"] for row in batch]),
        )


def escalation_emails_queue(*, notification_ids: list[UUID]) -> None:
    """The e-mail of contract 9 to each recipient these escalations added, in their transaction."""
    added: dict[UUID, list[User]] = {}
    # Only people with an address get an e-mail, and the body needs only these columns: a batch
    # of a thousand escalations is not a thousand whole notifications built in Python.
    links = (
        NotificationRecipient.objects.filter(
            notification_id__in=notification_ids, position__gte=ESCALATED_POSITIONS
        )
        .exclude(user__email="")
        .select_related("user")
        .only("notification_id", "user__email")
    )
    for link in links:
        added.setdefault(link.notification_id, []).append(link.user)
    body_columns = ("title", "description", "deadline", "service", "service__name")
    for notification in (
        Notification.objects.filter(pk__in=added).select_related("service").only(*body_columns)
    ):
        notification_emails_queue(notification=notification, recipients=added[notification.pk])


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
    on_progress: OnProgress | None = None,
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
        queued=webhooks_replay(events=events, dry_run=dry_run, on_progress=on_progress),
        skipped_purged=webhooks_count_purged(events=events),
    )


def notifications_purge(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    batch_size: int = 1000,
    on_progress: OnProgress | None = None,
) -> int:
    """Delete the notifications that reached a terminal state more than `older_than` ago, with
    their answers (on the row), their webhook events and attempts, and the e-mails about them
    (which carry their titles); how many (or would be).

    Batched like every purge (`purge_in_batches`): on PostgreSQL one statement per batch deletes
    the chosen notifications, their recipients, their events and the events' attempts, and their
    e-mails and the e-mails' attempts.
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
        OutboundEmail.objects.filter(about_id__in=ids).delete()
        _deleted, per_model = Notification.objects.filter(pk__in=ids).delete()
        return per_model.get(Notification._meta.label, 0)

    # The events' and e-mails' keys once (MATERIALIZED), for their attempts and for themselves.
    statement = (
        f", events AS MATERIALIZED (SELECT id FROM {table(WebhookEvent)} "  # noqa: S608 - names from the models
        "WHERE subject_id IN (SELECT id FROM chosen))"
        f", attempts AS (DELETE FROM {table(DeliveryAttempt)} WHERE event_id IN (SELECT id FROM events))"
        f", gone_events AS (DELETE FROM {table(WebhookEvent)} WHERE id IN (SELECT id FROM events))"
        f", emails AS MATERIALIZED (SELECT id FROM {table(OutboundEmail)} "
        "WHERE about_id IN (SELECT id FROM chosen))"
        f", email_attempts AS (DELETE FROM {table(EmailAttempt)} WHERE email_id IN (SELECT id FROM emails))"
        f", gone_emails AS (DELETE FROM {table(OutboundEmail)} WHERE id IN (SELECT id FROM emails))"
        f", recipients AS (DELETE FROM {table(NotificationRecipient)} "
        "WHERE notification_id IN (SELECT id FROM chosen))"
        f", purged AS (DELETE FROM {table(Notification)} WHERE id IN (SELECT id FROM chosen) RETURNING 1)"
    )
    return purge_in_batches(
        finished, purge, batch_size=batch_size, statement=statement, on_progress=on_progress
    )


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
