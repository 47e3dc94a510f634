import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Prefetch, Q, QuerySet, prefetch_related_objects

from config.accounts.models import Service
from config.api.errors import InvalidRequest
from config.api.ids import parse_id
from config.db import Param, Prepared
from notifications.errors import NotificationAccessDenied, NotificationNotFound
from notifications.models import (
    Notification,
    NotificationRecipient,
    NotificationStatus,
    expired_for_readers,
    open_at,
    responded_for_readers,
)

# Every recipient of the notifications read, with their user, in order: one query for a page.
RECIPIENTS = Prefetch(
    "recipient_links", queryset=NotificationRecipient.objects.select_related("user").order_by("position")
)
# Set on a notification the selectors found readable by a user: the user's pk, so the answer's
# own check (notification_readable_by) needs no second query.
_CHECKED_FOR = "_recipient_checked_for"


def _with_people() -> QuerySet[Notification]:
    return Notification.objects.select_related("service", "recipient", "responder").prefetch_related(
        RECIPIENTS
    )


def users_get(*, usernames: list[str], field: str) -> list[Any]:
    """The active users these usernames name, in their order; 400 naming `field` when one is
    unknown, inactive or repeated."""
    if len(set(usernames)) != len(usernames):
        raise InvalidRequest(f"{field}: names one person twice.", details={"field": field})
    found = {
        user.get_username(): user
        for user in get_user_model().objects.filter(username__in=usernames, is_active=True)
    }
    if len(found) != len(usernames):
        raise InvalidRequest(f"{field}: there is no such (active) user.", details={"field": field})
    return [found[username] for username in usernames]


def recipients_get(*, recipient: str | None, recipients: list[str] | None) -> list[Any]:
    """The people a new notification is for: `recipient` or `recipients` (contract 7), not both."""
    if recipient is not None and recipients is not None:
        raise InvalidRequest(
            "recipients: send recipient or recipients, not both.", details={"field": "recipients"}
        )
    if recipients is not None:
        return users_get(usernames=recipients, field="recipients")
    if recipient is None:
        raise InvalidRequest("recipient: this field is required.", details={"field": "recipient"})
    return users_get(usernames=[recipient], field="recipient")


def notification_get_for_service(*, service: Service, notification_id: Any) -> Notification:
    """Another service's notification answers exactly like a missing one (404)."""
    pk = parse_id(notification_id, error=NotificationNotFound)
    notification = _with_people().filter(pk=pk, service=service).first()
    if notification is None:
        raise NotificationNotFound()
    return notification


# Who may read (and answer) a notification, said once for every reader: the client API, the
# inbox and the answer itself: its recipients (contract 7), escalated ones once added.


def notifications_readable_by(*, user: Any) -> QuerySet[Notification]:
    """The notifications this person may read and answer: those they are a recipient of."""
    return Notification.objects.filter(recipient_links__user=user)


def notification_readable_by(*, notification: Notification, user: Any) -> bool:
    """Whether this person may read and answer `notification`; free when a selector here found it
    for them."""
    if getattr(notification, _CHECKED_FOR, None) == user.pk:
        return True
    return NotificationRecipient.objects.filter(notification=notification, user=user).exists()


def _for_recipient(*related: str) -> Prepared[Notification]:
    def build() -> QuerySet[Notification]:
        # select_related() with no names would follow every relation.
        rows = Notification.objects.select_related(*related) if related else Notification.objects.all()
        return rows.filter(recipient_links__user=Param("user"), pk=Param("pk"))

    return Prepared(build)


# The person's own notification, in the shape each reader needs; answering and the inbox's pages
# are hot paths, so each shape is compiled once (`Prepared`).
_TO_RESPOND = _for_recipient()
_TO_ANSWER_IN_INBOX = _for_recipient("service")
_WITH_PEOPLE = _for_recipient("service", "recipient", "responder")


def _get_for_recipient(rows: Prepared[Notification], *, user: Any, notification_id: Any) -> Notification:
    """404 when it does not exist, then 403 when it is addressed to someone else (the seed's order).

    The row comes joined to the caller's recipient row, in one query; only when that finds
    nothing does a second one tell a missing notification from someone else's. (The join compiles
    in about half the time of an EXISTS annotation, and answering is the hot path.)
    """
    pk = parse_id(notification_id, error=NotificationNotFound)
    notification = rows.one(user=user.pk, pk=pk)
    if notification is None:
        if Notification.objects.filter(pk=pk).exists():
            raise NotificationAccessDenied()
        raise NotificationNotFound()
    setattr(notification, _CHECKED_FOR, user.pk)
    return notification


def notification_get_for_recipient(*, user: Any, notification_id: Any) -> Notification:
    """The person's own notification with its people, to render it whole."""
    notification = _get_for_recipient(_WITH_PEOPLE, user=user, notification_id=notification_id)
    prefetch_related_objects([notification], RECIPIENTS)
    return notification


def notification_get_for_inbox_page(*, user: Any, notification_id: Any) -> Notification:
    """The person's own notification as its inbox page shows it: with its service, first
    recipient and responder, and its recipients only once escalated (the page names them then)."""
    notification = _get_for_recipient(_WITH_PEOPLE, user=user, notification_id=notification_id)
    if notification.escalated_at is not None:
        prefetch_related_objects([notification], RECIPIENTS)
    return notification


def notification_get_to_respond(*, user: Any, notification_id: Any) -> Notification:
    """The person's own notification and nothing joined: answering it needs neither the recipients
    (the check comes with the row), the responder (the caller) nor the service (the webhook is
    queued for `service_id`)."""
    return _get_for_recipient(_TO_RESPOND, user=user, notification_id=notification_id)


def notification_get_to_answer_in_inbox(*, user: Any, notification_id: Any) -> Notification:
    """`notification_get_to_respond` with the service, whose name the inbox's confirmation says."""
    return _get_for_recipient(_TO_ANSWER_IN_INBOX, user=user, notification_id=notification_id)


@dataclass(frozen=True)
class Cursor:
    """Where a page of the inbox ends: the last row's (created_at, id), newest first."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """The cursor `encode` made, or ValueError. A time without its zone is refused: compared
        with the rows' aware times it would be read in the server's zone, not where it ended."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            created_at, row_id = json.loads(raw)
            cursor = cls(created_at=datetime.fromisoformat(created_at), id=uuid.UUID(row_id))
        except (binascii.Error, ValueError, TypeError, AttributeError, UnicodeDecodeError):
            raise ValueError("not a cursor this server made") from None
        if cursor.created_at.tzinfo is None:
            raise ValueError("the cursor's time has no time zone")
        return cursor


def _status_condition(status: str, now: datetime) -> Q:
    if status == NotificationStatus.PENDING:
        return open_at(now)
    if status == NotificationStatus.EXPIRED:
        return expired_for_readers(now)
    if status == NotificationStatus.RESPONDED:
        return responded_for_readers(now)
    return Q(status=status)


def notifications_for_recipient(
    *, user: Any, now: datetime, status: str | None = None, after: Cursor | None = None, limit: int = 50
) -> tuple[list[Notification], Cursor | None]:
    """One page of the person's own notifications, newest first, and the cursor of the next page.

    Walks the person's recipient rows in their index's order (nrecip_user_recent); every condition
    is in one filter() so all of them, and the ordering, use the one join to those rows.
    """
    condition = Q(recipient_links__user=user)
    if status is not None:
        condition &= _status_condition(status, now)
    if after is not None:
        condition &= Q(recipient_links__notification_created_at__lt=after.created_at) | Q(
            recipient_links__notification_created_at=after.created_at,
            recipient_links__notification__lt=after.id,
        )
    rows = _with_people().filter(condition)
    ordering = ("-recipient_links__notification_created_at", "-recipient_links__notification_id")
    page = list(rows.order_by(*ordering)[: limit + 1])
    if len(page) <= limit:
        return page, None
    last = page[limit - 1]
    return page[:limit], Cursor(created_at=last.created_at, id=last.id)


def _closed_at(now: datetime) -> Q:
    """Not open at `now`: answered, withdrawn, expired, or past its deadline unmarked."""
    return ~Q(status=NotificationStatus.PENDING) | Q(deadline__lte=now)


# The whole inbox (unfiltered) is counted at least this far, from the recipient rows' index
# alone: "page 3 of 20" is exact in an inbox of up to 20 pages (docs/decisions.md).
INBOX_COUNT_AT_LEAST = 1000


@dataclass(frozen=True)
class InboxRows:
    """A person's notifications in the inbox's order (contract 9), a sequence for a Paginator: the
    open ones first, soonest deadline first and those without one after them, then the others
    newest first.

    Two queries, each one index range whatever the person's history: the open ones are found
    among the pending rows (notif_pending), and the others by walking the person's recipient rows
    newest first (nrecip_user_recent), stopping at the page's end.

    `count` goes one row past `count_to` (the end of the page asked for; None: to the end), the
    whole inbox's at least INBOX_COUNT_AT_LEAST: numbering a million rows' pages would read them
    all, and a filtered count reads each row it passes. `count_capped` says it stopped early.

    A list filtered to closed ones (answered, expired, withdrawn) with `page_size` given is
    counted from its page: that page and one row more are fetched once, in one walk, and the page
    is served from them. Counting first and then fetching walked the same rows twice, reading
    every notification passed on the way twice (docs/benchmarks.md, finding 8).
    """

    user: Any
    now: datetime
    status: str | None = None
    count_to: int | None = None
    page_size: int | None = None

    def _readable(self) -> QuerySet[Notification]:
        return notifications_readable_by(user=self.user).select_related("service", "responder")

    def _open(self) -> QuerySet[Notification]:
        return (
            self._readable()
            .filter(open_at(self.now))
            .order_by(F("deadline").asc(nulls_last=True), "-created_at", "-id")
        )

    def _closed(self) -> QuerySet[Notification]:
        condition = _closed_at(self.now)
        if self.status is not None:
            condition &= _status_condition(self.status, self.now)
        # Ordered by the recipient row's copy of created_at (the ordering reuses the readers'
        # join), so that the walk is the index's.
        return (
            self._readable()
            .filter(condition)
            .order_by("-recipient_links__notification_created_at", "-recipient_links__notification_id")
        )

    @cached_property
    def waiting(self) -> int:
        """How many of the person's notifications still wait for an answer (whatever the filter)."""
        return notifications_readable_by(user=self.user).filter(open_at(self.now)).count()

    @property
    def _open_shown(self) -> int:
        return self.waiting if self.status in (None, NotificationStatus.PENDING) else 0

    @property
    def _count_limit(self) -> int | None:
        if self.count_to is None or self.status == NotificationStatus.PENDING:
            return None
        return max(self.count_to, INBOX_COUNT_AT_LEAST) if self.status is None else self.count_to

    def _capped(self, rows: QuerySet[Any]) -> int:
        limit = self._count_limit
        return rows.count() if limit is None else rows[: limit + 1].count()

    @cached_property
    def _fetched(self) -> tuple[int, list[Notification]] | None:
        """Where the closed rows fetched with the count start, and those rows: the page that ends
        at `count_to` and the row after it (None: this list is counted apart from its rows)."""
        if self.status in (None, NotificationStatus.PENDING) or self.count_to is None or not self.page_size:
            return None
        start = max(0, self.count_to - self.page_size)
        return start, list(self._closed()[start : self.count_to + 1])

    @cached_property
    def _count(self) -> int:
        if self.status == NotificationStatus.PENDING:
            return self.waiting
        if self.status is None:
            # Open or not, every recipient row is one: counted from its index alone, in its order.
            links = NotificationRecipient.objects.filter(user=self.user)
            return self._capped(links.order_by("-notification_created_at", "-notification_id").values("pk"))
        if self._fetched is not None:
            start, fetched = self._fetched
            # Nothing from `start` on: the page is past the list's end, which must then be counted.
            if fetched or start == 0:
                return start + len(fetched)
        return self._capped(self._closed().values("pk"))

    def count(self) -> int:
        return self._count

    @property
    def count_capped(self) -> bool:
        limit = self._count_limit
        return limit is not None and self._count > limit

    def __getitem__(self, window: slice) -> list[Notification]:
        start, stop = window.start or 0, window.stop
        opened = self._open_shown
        rows: list[Notification] = []
        if start < opened:
            rows += list(self._open()[start : min(stop, opened)])
        if stop > opened and self.status != NotificationStatus.PENDING:
            rows += self._closed_window(max(0, start - opened), stop - opened)
        return rows

    def _closed_window(self, start: int, stop: int) -> list[Notification]:
        if self._fetched is not None:
            first, fetched = self._fetched
            if first <= start and stop <= first + len(fetched):
                return fetched[start - first : stop - first]
        return list(self._closed()[start:stop])
