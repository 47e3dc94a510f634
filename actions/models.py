"""Widget action executions (contract 2) and triggered actions with their versions (contract 4)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from config.accounts.models import Service
from config.api.timestamps import utc_stamp
from conversations.models import Bot, Conversation

# ---------------------------------------------------------------------------------------------
# Widget actions


class ExecutionKind(models.TextChoices):
    CONTACT_FORM = "contact_form"
    NEWSLETTER = "newsletter"
    BOOKING = "booking"


# The kinds whose params carry personal data: masked when the row completes or expires.
MASKED_KINDS = (ExecutionKind.CONTACT_FORM, ExecutionKind.NEWSLETTER)


class ExecutionResult(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class DeliveryStatus(models.TextChoices):
    DELIVERED = "delivered"
    DEEPLINK_OPENED = "deeplink_opened"
    OPTIMISTIC = "optimistic"
    FAILED = "failed"


class DeliveryMethod(models.TextChoices):
    SAME_PAGE = "same_page"
    HIDDEN_IFRAME = "hidden_iframe"
    DEEP_LINK = "deep_link"


class ActionExecution(models.Model):
    """One proposed widget action; `result` is null while the visitor's browser has not answered.

    contactMetadata is kept as columns, not as a JSON blob, so the admin can filter, count and
    take percentiles of it in the database.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: exec_bot_recent starts with it (an UPDATE pays for every index).
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="executions", db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="executions")
    visitor_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=ExecutionKind.choices)
    label = models.CharField(max_length=200)
    target_url = models.CharField(max_length=2048)
    params = models.JSONField(default=dict, blank=True)
    params_masked_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=16, choices=ExecutionResult.choices, null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    delivery_status = models.CharField(max_length=16, choices=DeliveryStatus.choices, null=True, blank=True)
    delivery_method = models.CharField(max_length=16, choices=DeliveryMethod.choices, null=True, blank=True)
    signal_source = models.CharField(max_length=64, null=True, blank=True)
    network_status = models.PositiveSmallIntegerField(null=True, blank=True)
    submit_to_signal_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Contact Submissions: newest first within the two personal-data kinds, and its filters.
            models.Index(
                F("created_at").desc(),
                name="exec_contact_recent",
                condition=Q(kind__in=["contact_form", "newsletter"]),
            ),
            models.Index(fields=["bot", "-created_at"], name="exec_bot_recent"),
            models.Index(fields=["result", "-created_at"], name="exec_result_recent"),
            models.Index(fields=["delivery_status", "-created_at"], name="exec_delivery_status_recent"),
            models.Index(fields=["delivery_method", "-created_at"], name="exec_delivery_method_recent"),
            models.Index(fields=["visitor_id"], name="exec_visitor"),
            # expire_executions: pending rows by age.
            models.Index(fields=["created_at"], name="exec_pending_age", condition=Q(result__isnull=True)),
            # purge_data (RETAIN_EXECUTIONS): terminal rows by completion time.
            models.Index(
                fields=["completed_at"], name="exec_completed", condition=Q(completed_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["contact_form", "newsletter", "booking"]), name="exec_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(result__isnull=True)
                | Q(result__in=["success", "failure", "cancelled", "expired"]),
                name="exec_result_valid",
            ),
            models.CheckConstraint(
                condition=Q(result__isnull=True, completed_at__isnull=True)
                | Q(result__isnull=False, completed_at__isnull=False),
                name="exec_completed_iff_result",
            ),
            models.CheckConstraint(
                condition=Q(network_status__isnull=True)
                | Q(network_status__gte=100, network_status__lte=599),
                name="exec_network_status_range",
            ),
            models.CheckConstraint(
                condition=Q(submit_to_signal_ms__isnull=True) | Q(submit_to_signal_ms__lte=86_400_000),
                name="exec_submit_to_signal_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.result or 'pending'})"


class ErasureSource(models.TextChoices):
    SERVICE = "service"  # DELETE /v1/bots/{botId}/visitors/{visitorId}
    STAFF = "staff"  # the admin, from a Contact Submission
    OPERATOR = "operator"  # manage.py erase_visitor


class VisitorErasure(models.Model):
    """One erasure of a visitor of a bot (contract 8): what was deleted, when, and who asked.

    The visitor id itself is not kept: only `visitor_digest`, an HMAC of it under a key of the
    server's (actions.services.erasure), so someone holding an id can confirm it was erased while
    the table alone reveals none. Every request is recorded, the ones that found nothing too.
    """

    # Kept when the bot is deleted later: the record is the proof the erasure happened.
    bot = models.ForeignKey(Bot, on_delete=models.SET_NULL, null=True, related_name="erasures")
    visitor_digest = models.CharField(max_length=64)
    erased_at = models.DateTimeField(auto_now_add=True)
    executions = models.PositiveIntegerField()
    conversations = models.PositiveIntegerField()
    messages = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=ErasureSource.choices)
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="erasures"
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="erasures"
    )

    class Meta:
        ordering = ["-erased_at", "-id"]
        indexes = [
            # "Was this id erased?": the admin looks the digest up.
            models.Index(fields=["visitor_digest"], name="erasure_digest"),
            models.Index(F("erased_at").desc(), name="erasure_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["service", "staff", "operator"]), name="erasure_source_valid"
            ),
            # Who asked is one kind of requester, never two.
            models.CheckConstraint(
                condition=Q(service__isnull=True) | Q(staff_user__isnull=True), name="erasure_one_requester"
            ),
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.source}, {utc_stamp(self.erased_at)})"


# ---------------------------------------------------------------------------------------------
# Triggered actions


class FireOn(models.TextChoices):
    TRUE = "true"
    FALSE = "false"
    ALWAYS = "always"


class Action(models.Model):
    """A service's action as it is now; every version, this one included, is an ActionVersion."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="actions")
    action_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    target_url = models.CharField(max_length=2048)
    fire_on = models.CharField(max_length=8, choices=FireOn.choices, default=FireOn.TRUE)
    timeout_ms = models.PositiveIntegerField(default=5000)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # By the foreign key's column: "service" would sort by the service's name through a join,
        # and a SELECT ... FOR UPDATE over that join locks the service's row too.
        ordering = ["service_id", "action_id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "action_id"], name="action_unique_per_service"),
            models.CheckConstraint(
                condition=Q(action_id__regex=r"^[a-z0-9][a-z0-9_-]{0,63}$"), name="action_id_format"
            ),
            models.CheckConstraint(
                condition=Q(fire_on__in=["true", "false", "always"]), name="action_fire_on_valid"
            ),
            models.CheckConstraint(
                condition=Q(timeout_ms__gte=100, timeout_ms__lte=30_000), name="action_timeout_range"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="action_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id} v{self.version}"


class ActionVersion(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    target_url = models.CharField(max_length=2048)
    fire_on = models.CharField(max_length=8, choices=FireOn.choices)
    timeout_ms = models.PositiveIntegerField()
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["action", "version"], name="action_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.action.action_id} v{self.version}"


class TriggerStatus(models.TextChoices):
    TRIGGERED = "triggered"
    SKIPPED = "skipped"
    FAILED = "failed"
    WOULD_TRIGGER = "would_trigger"
    # An Idempotency-Key's row while its first request is still sending.
    IN_PROGRESS = "in_progress"


class ActionTrigger(models.Model):
    """Every trigger request, dry runs included, and the ActionResult it answered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="action_triggers")
    # No index of its own: trigger_action_recent starts with it (every trigger inserts a row).
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="triggers", db_index=False)
    action_version = models.PositiveIntegerField()
    decision = models.BooleanField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=TriggerStatus.choices)
    # The `payload` of the trigger request as the service sent it (null when it sent none), dry
    # runs and skipped ones included; payload_sent is the body that went out, when one did.
    request_payload = models.JSONField(null=True, blank=True)
    payload_sent = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Why a send failed, precisely, for people: "connection refused to hooks.example.com:443",
    # "timed out after 5000 ms", "hooks.example.com:443 answered 502" (services.triggers).
    failure_cause = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # SHA-256 of the request body, to tell a retry from a different request under one key.
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["action", "-created_at"], name="trigger_action_recent"),
            # The admin's trigger history, newest first, unfiltered.
            models.Index(F("created_at").desc(), name="trigger_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="trigger_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["triggered", "skipped", "failed", "would_trigger", "in_progress"]),
                name="trigger_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action.action_id} v{self.action_version}: {self.status}"


# ---------------------------------------------------------------------------------------------
# Admin


class ContactSubmission(ActionExecution):
    """The executions of the two kinds whose params hold personal data, as the admin lists them.

    A proxy, so that Contact Submissions has its own admin page and its own view permission.
    """

    class Meta:
        proxy = True
        ordering = ["-created_at"]
        verbose_name = "contact submission"
        verbose_name_plural = "contact submissions"
