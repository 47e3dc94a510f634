"""Notifications: a service asks a person to decide; the person's answer goes back by webhook.

The answer lives on the notification row itself (not in a separate table), so answering is one
conditional UPDATE and reading a notification with its answer is one query.
"""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
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
    # No index of its own: notif_inbox starts with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True, default="")
    deadline = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
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

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The person's inbox, filtered by status or not, newest first (keyset on created_at, id).
            models.Index(
                F("recipient"), F("status"), F("created_at").desc(), F("id").desc(), name="notif_inbox_status"
            ),
            models.Index(F("recipient"), F("created_at").desc(), F("id").desc(), name="notif_inbox"),
            # The expiry sweep: pending rows by deadline, and nothing else.
            models.Index(
                fields=["deadline"],
                condition=Q(status="pending", deadline__isnull=False),
                name="notif_pending_deadline",
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
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient_id} ({self.status})"

    def is_overdue(self, now: datetime) -> bool:
        return (
            self.status == NotificationStatus.PENDING and self.deadline is not None and self.deadline <= now
        )

    def status_at(self, now: datetime) -> str:
        """The status as the API reports it: a pending notification past its deadline is expired,
        whether or not `expire_notifications` has marked it yet."""
        return NotificationStatus.EXPIRED if self.is_overdue(now) else self.status


def open_at(now: datetime) -> Q:
    """Pending and not past its deadline: the rows an answer or an invalidation may still change."""
    return Q(status=NotificationStatus.PENDING) & (Q(deadline__isnull=True) | Q(deadline__gt=now))


def overdue_at(now: datetime) -> Q:
    """Pending past its deadline: expired for every reader, waiting for the sweep to mark it."""
    return Q(status=NotificationStatus.PENDING, deadline__lte=now)
