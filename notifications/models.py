"""Notifications: a service asks a person to decide; the person's answer goes back by webhook.

The answer lives on the notification row itself (not in a separate table), so answering is one
conditional UPDATE and reading a notification with its answer is one query.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Expression, F, Q
from django.db.models.functions import Coalesce

from config.accounts.models import Service


class NotificationStatus(models.TextChoices):
    PENDING = "pending"
    RESPONDED = "responded"
    EXPIRED = "expired"
    INVALIDATED = "invalidated"


class ResponseType(models.TextChoices):
    SIMPLE = "simple"
    BINARY = "binary"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    TEXT = "text"
    NUMERIC = "numeric"
    SCALE = "scale"


def finished_at() -> Coalesce:
    """When a terminal notification became terminal (each terminal state carries its own time)."""
    return Coalesce("responded_at", "expired_at", "invalidated_at")


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: notif_service_status starts with it (an answer's UPDATE pays for every index).
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    # The first recipient (contract 7's `recipient`), kept on the row for the admin's list and
    # search; who may read and answer is NotificationRecipient. No index of its own: notif_inbox
    # starts with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True, default="")
    deadline = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The answer the deadline gives when nobody did (contract 7), `{"action_id", "response_data"}`
    # as notifications.validation normalised it; needs a deadline.
    on_deadline = models.JSONField(null=True, blank=True)
    # `{"after_seconds", "recipients": [usernames]}` as the service sent it; who is added is
    # escalation_user_ids (the users the usernames named at creation), when is escalate_at.
    escalate = models.JSONField(null=True, blank=True)
    escalation_user_ids = models.JSONField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The action definitions as notifications.validation normalised them (defaults filled in).
    actions = models.JSONField()
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    invalidation_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    # The answer, set once by the one conditional UPDATE that wins.
    response_action_id = models.CharField(max_length=64, null=True, blank=True)
    response_data = models.JSONField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notification_responses",
    )
    # True when the answer is the default outcome of the deadline (then responder is null).
    response_defaulted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The first recipient's notifications (admin search, a user's deletion); a person's own
            # lists go through NotificationRecipient.
            models.Index(F("recipient"), F("created_at").desc(), F("id").desc(), name="notif_inbox"),
            # Pending rows by deadline (those without one last), and nothing else: the expiry sweep
            # (due ones), and a person's open ones at the top of the inbox and in its count (with
            # the id, so that the count is read from the index and the recipients' alone).
            models.Index(fields=["deadline", "id"], condition=Q(status="pending"), name="notif_pending"),
            # The escalation sweep: pending rows not yet escalated, by when they escalate.
            models.Index(
                fields=["escalate_at"],
                condition=Q(status="pending", escalate_at__isnull=False, escalated_at__isnull=True),
                name="notif_pending_escalation",
            ),
            # The admin's list per service and status, newest first.
            models.Index(fields=["service", "status", "created_at"], name="notif_service_status"),
            models.Index(F("created_at").desc(), name="notif_recent"),
            # purge_data (RETAIN_NOTIFICATIONS): terminal rows by the time they became terminal.
            models.Index(finished_at(), condition=~Q(status="pending"), name="notif_finished"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in NotificationStatus]),
                name="notif_status_valid",
            ),
            # Each terminal state carries its time, and only an answered row carries an answer.
            models.CheckConstraint(
                condition=(
                    Q(status="responded", responded_at__isnull=False, response_action_id__isnull=False)
                    | (~Q(status="responded") & Q(responded_at__isnull=True, response_action_id__isnull=True))
                ),
                name="notif_response_iff_responded",
            ),
            models.CheckConstraint(
                condition=~Q(status="expired") | Q(expired_at__isnull=False),
                name="notif_expired_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="invalidated") | Q(invalidated_at__isnull=False),
                name="notif_invalidated_has_time",
            ),
            models.CheckConstraint(
                condition=Q(on_deadline__isnull=True) | Q(deadline__isnull=False),
                name="notif_default_needs_deadline",
            ),
            # A defaulted answer has no responder and is the deadline's.
            models.CheckConstraint(
                condition=Q(response_defaulted=False) | Q(status="responded", responder__isnull=True),
                name="notif_defaulted_has_no_responder",
            ),
            models.CheckConstraint(
                condition=Q(escalate__isnull=True, escalate_at__isnull=True)
                | Q(escalate__isnull=False, escalate_at__isnull=False),
                name="notif_escalate_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipients_label()}"

    def recipients_label(self) -> str:
        """Who it asks, in a few words: the first recipient's username, and how many more
        ("alex (+2 more)"). Reads the prefetched `recipient_links` when there are."""
        more = len(self.recipient_links.all()) - 1
        first = self.recipient.get_username()
        return f"{first} (+{more} more)" if more > 0 else first

    def is_overdue(self, now: datetime) -> bool:
        return (
            self.status == NotificationStatus.PENDING and self.deadline is not None and self.deadline <= now
        )

    def defaults_at(self, now: datetime) -> bool:
        """Past its deadline unanswered with a default outcome: answered by it for every reader."""
        return self.on_deadline is not None and self.is_overdue(now)

    def status_at(self, now: datetime) -> str:
        """The status as the API reports it: a pending notification past its deadline is expired,
        or responded when it has a default outcome, whether or not `expire_notifications` has
        marked it yet."""
        if not self.is_overdue(now):
            return self.status
        return NotificationStatus.RESPONDED if self.on_deadline is not None else NotificationStatus.EXPIRED

    def answer_at(self, now: datetime) -> "Answer | None":
        """The answer as every reader sees it at `now`: the recorded one, the default outcome from
        the deadline on, or None."""
        if self.status == NotificationStatus.RESPONDED and self.responded_at is not None:
            return Answer(
                action_id=self.response_action_id or "",
                response_data=self.response_data,
                responded_at=self.responded_at,
                responder=self.responder if self.responder_id is not None else None,
                defaulted=self.response_defaulted,
            )
        if self.defaults_at(now) and self.on_deadline is not None and self.deadline is not None:
            return Answer(
                action_id=self.on_deadline["action_id"],
                response_data=self.on_deadline["response_data"],
                responded_at=self.deadline,
                responder=None,
                defaulted=True,
            )
        return None

    def recipient_usernames(self) -> list[str]:
        """Every recipient's username in order (the given ones, then the escalated); reads the
        prefetched `recipient_links` (selectors.RECIPIENTS) when there is one."""
        return [link.user.get_username() for link in self.recipient_links.all()]


@dataclass(frozen=True)
class Answer:
    action_id: str
    response_data: Any
    responded_at: datetime
    responder: Any
    defaulted: bool


class NotificationRecipient(models.Model):
    """A person who may read and answer a notification (contract 7): given at creation, or added
    by its escalation."""

    # No index of its own: nrecip_once starts with it.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="recipient_links", db_index=False
    )
    # No index of its own: nrecip_user_recent starts with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_links", db_index=False
    )
    # 0.. in the order given; escalated ones from ESCALATED_POSITIONS on, in the order of `escalate`.
    position = models.PositiveSmallIntegerField()
    escalated = models.BooleanField(default=False)
    # The notification's created_at, copied (it never changes): a person's list, newest first,
    # is one index scan of this table.
    notification_created_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "user"], name="nrecip_once"),
            models.UniqueConstraint(fields=["notification", "position"], name="nrecip_position_once"),
        ]
        indexes = [
            # A person's notifications newest first (the client list, keyset on created_at, id).
            models.Index(
                F("user"),
                F("notification_created_at").desc(),
                F("notification").desc(),
                name="nrecip_user_recent",
            ),
        ]

    def __str__(self) -> str:
        marker = " (escalated)" if self.escalated else ""
        return f"{self.user.get_username()}{marker} on {self.notification.title}"


MAX_RECIPIENTS = 20
ESCALATED_POSITIONS = MAX_RECIPIENTS


def open_at(now: datetime | Expression) -> Q:
    """Pending and not past its deadline: the rows an answer or an invalidation may still change
    (`now` may be a `config.db.Param`, in a prepared statement)."""
    return Q(status=NotificationStatus.PENDING) & (Q(deadline__isnull=True) | Q(deadline__gt=now))


def overdue_at(now: datetime) -> Q:
    """Pending past its deadline: expired (or answered by default) for every reader, waiting for
    the sweep to mark it."""
    return Q(status=NotificationStatus.PENDING, deadline__lte=now)


def expired_for_readers(now: datetime) -> Q:
    """Expired for every reader: marked, or overdue without a default outcome."""
    return Q(status=NotificationStatus.EXPIRED) | (overdue_at(now) & Q(on_deadline__isnull=True))


def responded_for_readers(now: datetime) -> Q:
    """Answered for every reader: by a person, or by the default outcome from the deadline on."""
    return Q(status=NotificationStatus.RESPONDED) | (overdue_at(now) & Q(on_deadline__isnull=False))


def escalation_due_at(now: datetime) -> Q:
    """Open, its escalation's moment come, not yet escalated: the rows the sweep escalates."""
    return open_at(now) & Q(escalate_at__lte=now, escalated_at__isnull=True)
