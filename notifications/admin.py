"""Admin for notifications: their answer, deadline and webhook deliveries, with the operations the
operator commands offer (invalidate, expire overdue, replay), each through the notifications
services, so the admin changes nothing the API would not.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from config.admin import (
    BigTableAdminMixin,
    IdSearchMixin,
    ReadOnlyAdminMixin,
    RelatedLookupFilter,
    choice_filter,
    has_model_permission,
    json_block,
    value_table,
)
from config.api.errors import ApiError
from config.api.timestamps import utc_stamp
from config.outbound.models import WebhookEvent
from notifications.models import Notification, NotificationStatus
from notifications.services import (
    notification_events_replay,
    notification_invalidate,
    notifications_sweep,
)

BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
REASON_MAX_LENGTH = 500
# How an action definition and its options read, left to right (contract 3's fields).
DEFINITION_ORDER = (
    "id",
    "value",
    "label",
    "response_type",
    "options",
    "constraints",
    "true_label",
    "false_label",
)
# Webhook deliveries listed on a notification's page; a notification has one or two events.
DELIVERIES_SHOWN = 10


@admin.register(Notification)
class NotificationAdmin(IdSearchMixin, BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    search_fallback_field = "recipient_links__user__username"
    list_display = (
        "created_at",
        "title",
        "recipients",
        "service",
        "status_display",
        "deadline",
        "responded_at",
        "response_action_id",
    )
    list_display_links = ("created_at", "title")
    list_select_related = ("recipient", "service")
    list_filter = (
        ("service", RelatedLookupFilter),
        choice_filter(field="status", title="status", choices=NotificationStatus.choices),
        ("created_at", admin.DateFieldListFilter),
    )
    sortable_by = ("created_at",)
    search_fields = ("recipient_links__user__username",)
    search_help_text = "A notification id (exact) or a recipient's username (exact)."
    fieldsets = (
        (None, {"fields": ("id", "service", "recipients_list", "title", "description", "created_at")}),
        (
            "State",
            {"fields": ("status_display", "deadline", "expired_at", "invalidated_at", "invalidation_reason")},
        ),
        (
            "Answer",
            {
                "fields": (
                    "response_action_id",
                    "response_data_block",
                    "responded_at",
                    "responder",
                    "response_defaulted",
                )
            },
        ),
        ("Default outcome", {"fields": ("on_deadline_block",)}),
        ("Escalation", {"fields": ("escalate_block", "escalate_at", "escalated_at")}),
        ("Definition", {"fields": ("actions_block", "metadata_block")}),
        ("Webhook deliveries", {"fields": ("deliveries",)}),
    )
    actions = ("invalidate", "replay")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        # Each row's "+N more" counts its recipients: one query for the page, not one a row.
        return super().get_queryset(request).prefetch_related("recipient_links")

    @admin.display(description="recipients")
    def recipients(self, obj: Notification) -> str:
        return obj.recipients_label()

    def get_fieldsets(self, request: HttpRequest, obj: Notification | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if has_model_permission(request, WebhookEvent, "view"):
            return fieldsets
        # The outbox is its own permission: without it, no webhook deliveries here either.
        return [(name, options) for name, options in fieldsets if name != "Webhook deliveries"]

    @admin.display(description="status")
    def status_display(self, obj: Notification) -> str:
        status = obj.status_at(timezone.now())
        if status != obj.status:
            return f"{status} (deadline passed; not yet marked)"
        return status

    @admin.display(description="recipients")
    def recipients_list(self, obj: Notification) -> SafeString | str:
        links = obj.recipient_links.select_related("user").order_by("position")
        return format_html_join(
            ", ",
            "{}{}",
            ((link.user.get_username(), " (escalated)" if link.escalated else "") for link in links),
        )

    @admin.display(description="default outcome at the deadline")
    def on_deadline_block(self, obj: Notification) -> SafeString | str:
        return value_table(obj.on_deadline) if obj.on_deadline is not None else "None"

    @admin.display(description="escalation")
    def escalate_block(self, obj: Notification) -> SafeString | str:
        return value_table(obj.escalate) if obj.escalate is not None else "None"

    @admin.display(description="response data")
    def response_data_block(self, obj: Notification) -> SafeString | str:
        return json_block(obj.response_data) if obj.responded_at else "-"

    @admin.display(description="actions")
    def actions_block(self, obj: Notification) -> SafeString:
        return value_table(obj.actions, order=DEFINITION_ORDER)

    @admin.display(description="metadata")
    def metadata_block(self, obj: Notification) -> SafeString:
        return value_table(obj.metadata)

    @admin.display(description="events and their attempts")
    def deliveries(self, obj: Notification) -> SafeString | str:
        events = list(
            WebhookEvent.objects.filter(subject_id=obj.pk)
            .prefetch_related("attempts")
            .order_by("created_at")[:DELIVERIES_SHOWN]
        )
        if not events:
            return "None yet."
        return format_html_join("", "{}", ((_delivery_html(event),) for event in events))

    # -- operations -----------------------------------------------------------------------------

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, Notification, "change")

    @admin.action(
        description="Invalidate (withdraw while pending)", permissions=["operate"], location=BOTH_LOCATIONS
    )
    def invalidate(self, request: HttpRequest, queryset: QuerySet[Notification]) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") != "yes" or not 0 < len(reason) <= REASON_MAX_LENGTH:
            return self._invalidate_confirmation(request, queryset, reason_missing="confirm" in request.POST)
        invalidated, refused = 0, 0
        for notification in queryset:
            try:
                notification_invalidate(notification=notification, reason=reason)
            except ApiError:
                refused += 1
                continue
            invalidated += 1
            self.log_change(request, notification, f"Invalidated: {reason}")
        self.message_user(request, f"{invalidated} notification(s) invalidated.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} notification(s) left as they were: no longer pending (answered, expired or "
                "already invalidated).",
                messages.WARNING,
            )
        return None

    def _invalidate_confirmation(
        self, request: HttpRequest, queryset: QuerySet[Notification], *, reason_missing: bool
    ) -> TemplateResponse:
        # The page posts back every field of the action's own form, so the same action runs
        # again, this time with a reason, whether it came from the list or from one notification.
        posted = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in {"csrfmiddlewaretoken", "reason", "confirm"}
            for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Invalidate notifications",
            "opts": self.opts,
            "notifications": list(
                queryset.select_related("recipient").prefetch_related("recipient_links")[:100]
            ),
            "count": queryset.count(),
            "posted": posted,
            "reason_missing": reason_missing,
            "reason_max_length": REASON_MAX_LENGTH,
        }
        return TemplateResponse(request, "admin/notifications/notification/invalidate.html", context)

    @admin.action(
        description="Replay their webhooks (same webhook-id)",
        permissions=["operate"],
        location=BOTH_LOCATIONS,
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        counts = notification_events_replay(notifications=queryset)
        for notification in queryset:
            self.log_change(request, notification, "Replayed its webhooks")
        self.message_user(request, f"{counts.queued} webhook event(s) queued again.", messages.SUCCESS)
        if counts.skipped_purged:
            self.message_user(
                request,
                f"{counts.skipped_purged} webhook event(s) skipped: their payload was purged "
                "(RETAIN_WEBHOOK_PAYLOADS), so there is nothing to send.",
                messages.WARNING,
            )

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_expire_overdue"
        expire = path("expire-overdue/", self.admin_site.admin_view(self.expire_overdue_view), name=name)
        return [expire, *super().get_urls()]

    def expire_overdue_view(self, request: HttpRequest) -> HttpResponse:
        """Do every transition due (expiry, default outcome, escalation), as `expire_notifications` does."""
        if not self.has_operate_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:notifications_notification_changelist")
        if request.method == "POST":
            counts = notifications_sweep()
            self.message_user(
                request,
                f"{counts.expired} overdue notification(s) expired, {counts.defaulted} answered by their "
                f"default outcome, {counts.escalated} escalated.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(changelist_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Expire overdue notifications",
            "opts": self.opts,
            "due": notifications_sweep(dry_run=True),
            "changelist_url": changelist_url,
        }
        return TemplateResponse(request, "admin/notifications/notification/expire_overdue.html", context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_expire_overdue": self.has_operate_permission(request)}
        return super().changelist_view(request, extra_context)


NO_ATTEMPT_YET = mark_safe('<tr><td colspan="4">No attempt yet.</td></tr>')


def _delivery_html(event: WebhookEvent) -> SafeString:
    url = reverse("admin:outbound_webhookevent_change", args=[quote(event.pk)])
    attempts = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>",
        (
            (
                utc_stamp(attempt.started_at),
                attempt.status_code if attempt.status_code is not None else "-",
                attempt.duration_ms,
                attempt.error or "",
            )
            for attempt in event.attempts.all()
        ),
    )
    return format_html(
        '<div class="delivery"><p><a href="{}"><code>{}</code></a> {} · <strong>{}</strong> · '
        "{} attempt(s) · queued {}</p>"
        '<table class="delivery-attempts"><thead><tr><th>started</th><th>HTTP status</th>'
        "<th>duration</th><th>error</th></tr></thead><tbody>{}</tbody></table></div>",
        url,
        event.pk,
        event.event_type,
        event.status,
        event.attempt_count,
        utc_stamp(event.created_at),
        attempts or NO_ATTEMPT_YET,
    )
