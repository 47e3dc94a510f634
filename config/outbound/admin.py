"""Admin for the outbox: every webhook event with its delivery attempts, and replay."""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from config.admin import (
    BigTableAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    RelatedLookupFilter,
    choice_filter,
    has_model_permission,
    json_block,
)
from config.api.timestamps import utc_stamp
from config.outbound.models import DeliveryAttempt, EmailAttempt, OutboundEmail, WebhookEvent
from config.outbound.services import webhooks_count_purged, webhooks_replay


class DeliveryAttemptInline(ReadOnlyTabularInline):
    model = DeliveryAttempt
    fields = ("started_at", "status_code", "duration_ms", "error", "response_excerpt")
    ordering = ("-started_at",)

    @admin.display(description="response (first 4 KiB)")
    def response_excerpt(self, obj: DeliveryAttempt) -> SafeString:
        return format_html("<code>{}</code>", Truncator(obj.response_body).chars(300))


@admin.register(WebhookEvent)
class WebhookEventAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "id",
        "event_type",
        "service",
        "status",
        "attempt_count",
        "next_attempt",
        "delivered_at",
        "last_error_excerpt",
    )
    list_select_related = ("service",)
    list_filter = (
        ("service", RelatedLookupFilter),
        choice_filter(field="status", title="status", choices=WebhookEvent.Status.choices),
        ("created_at", admin.DateFieldListFilter),
    )
    sortable_by = ("created_at",)
    search_fields = ("id",)
    search_help_text = "A webhook-id (exact) or the id of what the event is about (exact)."
    fields = (
        "id",
        "service",
        "event_type",
        "subject_id",
        "status",
        "attempt_count",
        "created_at",
        "next_attempt",
        "locked_until",
        "delivered_at",
        "failed_at",
        "last_error",
        "payload_purged_at",
        "payload_block",
    )
    inlines = (DeliveryAttemptInline,)
    actions = ("replay",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookEvent], search_term: str
    ) -> tuple[QuerySet[WebhookEvent], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            subject = uuid.UUID(term)
        except ValueError:
            return queryset.filter(pk=term), False
        return queryset.filter(subject_id=subject), False

    @admin.display(description="last error")
    def last_error_excerpt(self, obj: WebhookEvent) -> str:
        return Truncator(obj.last_error).chars(60)

    @admin.display(description="next attempt")
    def next_attempt(self, obj: WebhookEvent) -> str:
        return _next_attempt(obj)

    @admin.display(description="payload")
    def payload_block(self, obj: WebhookEvent) -> SafeString | str:
        if obj.payload_purged_at is not None:
            return "Purged (RETAIN_WEBHOOK_PAYLOADS); the event can no longer be replayed."
        return json_block(obj.payload)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, WebhookEvent, "change")

    @admin.action(
        description="Replay (send again, same webhook-id)",
        permissions=["replay"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        events = list(queryset)
        ids = [event.pk for event in events]
        count = webhooks_replay(events=ids)
        # A replayed event is pending, never purged: the purged ones now are the ones skipped.
        purged = webhooks_count_purged(events=WebhookEvent.objects.filter(pk__in=ids))
        for event in events:
            if event.payload_purged_at is None:
                self.log_change(request, event, "Replayed")
        self.message_user(request, f"{count} event(s) queued again.", messages.SUCCESS)
        if purged:
            self.message_user(
                request,
                f"{purged} event(s) skipped: their payload was purged (RETAIN_WEBHOOK_PAYLOADS), so "
                "there is nothing to send.",
                messages.WARNING,
            )


class EmailAttemptInline(ReadOnlyTabularInline):
    model = EmailAttempt
    fields = ("started_at", "smtp_code", "duration_ms", "error")
    ordering = ("-started_at",)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "to_address",
        "subject",
        "status",
        "attempt_count",
        "next_attempt",
        "sent_at",
        "last_error_excerpt",
    )
    list_filter = (
        choice_filter(field="status", title="status", choices=OutboundEmail.Status.choices),
        ("created_at", admin.DateFieldListFilter),
    )
    sortable_by = ("created_at",)
    search_fields = ("about_id",)
    search_help_text = "The id of what the e-mail is about: a notification's id (exact)."
    fields = (
        "id",
        "to_address",
        "subject",
        "about_id",
        "status",
        "attempt_count",
        "created_at",
        "next_attempt",
        "locked_until",
        "sent_at",
        "last_error",
        "body",
    )
    inlines = (EmailAttemptInline,)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboundEmail], search_term: str
    ) -> tuple[QuerySet[OutboundEmail], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            about = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False
        return queryset.filter(about_id=about), False

    @admin.display(description="last error")
    def last_error_excerpt(self, obj: OutboundEmail) -> str:
        return Truncator(obj.last_error).chars(60)

    @admin.display(description="next attempt")
    def next_attempt(self, obj: OutboundEmail) -> str:
        return _next_attempt(obj)


def _next_attempt(obj: WebhookEvent | OutboundEmail) -> str:
    """When it goes out next: only a pending one will; a delivered, sent or failed one has none
    (the column keeps the time it last had, which means nothing any more)."""
    if obj.status != obj.Status.PENDING:
        return "-"
    return utc_stamp(obj.next_attempt_at)
