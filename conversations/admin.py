"""Admin for bots (with their allowlist, validated on save) and conversations with their messages."""

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import (
    BigTableAdminMixin,
    IdSearchMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    RelatedLookupFilter,
    SystemFieldsReadOnlyMixin,
)
from conversations.allowlist import InvalidUrl, validate_patterns
from conversations.models import Bot, Conversation, Message


class AllowlistField(forms.CharField):
    """An allowlist edited as text, one pattern per line; cleaned into the validated list."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(pattern) for pattern in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def clean(self, value: Any) -> list[str]:
        patterns = super().clean(value)
        try:
            return validate_patterns(patterns)
        except InvalidUrl as exc:
            raise forms.ValidationError(str(exc), code="invalid_pattern") from None


class BotForm(forms.ModelForm):
    allowed_targets = AllowlistField(
        required=False,
        label="Allowed targets",
        help_text=(
            "One pattern per line: https://example.com (that origin, any path), "
            "https://example.com/contact (that path and below), https://*.example.com (any subdomain)."
        ),
    )

    class Meta:
        model = Bot
        fields = ("service", "name", "allowed_targets")


@admin.register(Bot)
class BotAdmin(BigTableAdminMixin, SystemFieldsReadOnlyMixin, admin.ModelAdmin):
    form = BotForm
    list_display = ("name", "service", "allowlist_size", "created_at", "updated_at")
    list_select_related = ("service",)
    list_filter = (("service", RelatedLookupFilter),)
    search_fields = ("name",)
    search_help_text = "A bot's name (its beginning) or id (exact)."
    fields = ("id", "service", "name", "allowed_targets", "created_at", "updated_at")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Bot], search_term: str
    ) -> tuple[QuerySet[Bot], bool]:
        return _name_or_id(queryset, search_term), False

    @admin.display(description="allowed targets")
    def allowlist_size(self, obj: Bot) -> int:
        return len(obj.allowed_targets or [])


def _name_or_id(queryset: QuerySet[Bot], term: str) -> QuerySet[Bot]:
    term = term.strip()
    if not term:
        return queryset
    try:
        return queryset.filter(pk=uuid.UUID(term))
    except ValueError:
        return queryset.filter(name__startswith=term)


class MessageInline(ReadOnlyTabularInline):
    model = Message
    fields = ("created_at", "role", "content")
    ordering = ("created_at", "id")


@admin.register(Conversation)
class ConversationAdmin(IdSearchMixin, BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    search_fallback_field = "visitor_id"
    list_display = ("created_at", "bot", "visitor_id")
    list_select_related = ("bot",)
    list_filter = (("bot", RelatedLookupFilter), ("created_at", admin.DateFieldListFilter))
    sortable_by = ("created_at",)
    search_fields = ("visitor_id",)
    search_help_text = "A visitor id (exact) or a conversation id (exact)."
    fields = ("id", "bot", "visitor_id", "created_at")
    inlines = (MessageInline,)
