"""The outbox: every webhook is a row written in the transaction of the change that caused it.

`deliver_webhooks` workers claim due rows (a lease: `lease_token` and `locked_until`), send them
outside any transaction and record each attempt. The row's id is the Standard Webhooks
`webhook-id`, stable across retries and replays. See config/outbound/services.py for the rules.
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from config.accounts.models import Service
from config.api.timestamps import utc_stamp


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def failed_at() -> Coalesce:
    """When a failed event failed: its `failed_at`, else when its last attempt was due."""
    return Coalesce("failed_at", "next_attempt_at")


class WebhookEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=64, default=new_webhook_id, editable=False)
    # No index of its own: the webhook_service_* indexes start with it (every answer inserts a row).
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="webhook_events", db_index=False
    )
    event_type = models.CharField(max_length=64)
    # What the event is about (a notification's id), so it can be found and replayed.
    subject_id = models.UUIDField(null=True, blank=True)
    # Null once purged (`payload_purged_at`): the retention of RETAIN_WEBHOOK_PAYLOADS (contract 8).
    payload = models.JSONField(null=True, blank=True)
    payload_purged_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Every attempt ever made; `attempts_since_queued` counts those since the event was last queued
    # (created or replayed) and picks the next delay of the retry schedule.
    attempt_count = models.PositiveIntegerField(default=0)
    attempts_since_queued = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # The lease of the worker sending it now: only the holder of `lease_token` may record the
    # outcome; once `locked_until` has passed (a dead worker), any worker may claim it again.
    lease_token = models.UUIDField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When the worker gave up (the last retry failed); cleared by a replay, like delivered_at.
    # Null on a failed event written by other means: `failed_at()` falls back on its last due time.
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The workers' claim query: due pending events, oldest first.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_due"),
            models.Index(fields=["subject_id"], name="webhook_subject"),
            # The delivery log (contract 10): a service's events newest first, by (created_at, id)
            # (the page cursor), unfiltered or by status or type; `since` is a bound on created_at.
            # Read backwards, each is one range scan however many events the service has.
            models.Index(fields=["service", "created_at", "id"], name="webhook_service_recent"),
            models.Index(fields=["service", "status", "created_at", "id"], name="webhook_service_status"),
            models.Index(fields=["service", "event_type", "created_at", "id"], name="webhook_service_type"),
            # The admin's outbox, newest first, unfiltered.
            models.Index(F("created_at").desc(), name="webhook_recent"),
            # purge_data: finished events whose payload is still kept, oldest first. Partial, so a
            # pending event (every insert) writes no entry, and a purged one leaves the index.
            models.Index(
                fields=["delivered_at"],
                condition=Q(status="delivered", payload_purged_at__isnull=True),
                name="webhook_purgeable_delivered",
            ),
            models.Index(
                failed_at(),
                condition=Q(status="failed", payload_purged_at__isnull=True),
                name="webhook_purgeable_failed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]), name="webhook_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="webhook_delivered_has_time",
            ),
            models.CheckConstraint(
                condition=Q(attempts_since_queued__lte=models.F("attempt_count")),
                name="webhook_attempts_since_queued_lte_total",
            ),
            # A payload is gone exactly when it was purged, and a pending event is never purged.
            models.CheckConstraint(
                condition=Q(payload__isnull=True, payload_purged_at__isnull=False)
                | Q(payload__isnull=False, payload_purged_at__isnull=True),
                name="webhook_payload_iff_not_purged",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(payload_purged_at__isnull=True),
                name="webhook_pending_not_purged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id} ({self.status})"


class DeliveryAttempt(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="attempts")
    # Written when the worker claims the event, completed when it records the outcome: an attempt
    # whose worker died mid-send stays visible, without a duration.
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    response_body = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["event", "started_at"], name="attempt_event_time")]

    def __str__(self) -> str:
        outcome = self.status_code if self.status_code is not None else (self.error or "in flight")
        return f"attempt on {self.event_id} at {utc_stamp(self.started_at)}: {outcome}"


class OutboundEmail(models.Model):
    """One e-mail to one person, written in the transaction of what it tells them about and sent
    by the `deliver_webhooks` workers under the same kind of lease as a webhook event."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    to_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    # What the e-mail is about (a notification's id), so the admin finds a notification's e-mails.
    about_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # The sending worker's lease, as on WebhookEvent.
    lease_token = models.UUIDField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The workers' claim query: due pending e-mails, oldest first.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="email_due"),
            models.Index(fields=["about_id"], name="email_about"),
            # The admin's list, newest first, by status or not.
            models.Index(F("created_at").desc(), name="email_recent"),
            models.Index(fields=["status", "created_at"], name="email_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sent", "failed"]), name="email_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="email_sent_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"e-mail “{self.subject}” ({self.status})"


class EmailAttempt(models.Model):
    email = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE, related_name="attempts")
    # Written at the claim, completed with the outcome: a worker that died mid-send leaves an
    # attempt without a duration.
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # The SMTP server's reply code when it gave one (250 accepted; 4xx, 5xx refused).
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["email", "started_at"], name="email_attempt_time")]

    def __str__(self) -> str:
        outcome = self.error or ("sent" if self.duration_ms is not None else "in flight")
        return f"attempt on {self.email_id} at {utc_stamp(self.started_at)}: {outcome}"
