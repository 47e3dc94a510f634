"""Admin for services and their credentials.

Secrets never appear here: keys and tokens are shown by their display prefix, the webhook signing
secret not at all. Rotating a service's key (or its webhook secret) first asks for confirmation
(a page whose form posts the action again, confirmed; nothing rotates before that POST), then
answers with a page that shows the new one once; it is not stored anywhere it could be shown again
(no message cookie, no session, no log entry).
"""

from typing import ClassVar

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from config.accounts.models import Credential, Service, ServiceKey, UserToken
from config.accounts.services import credential_revoke, service_key_rotate, service_webhook_secret_rotate
from config.admin import (
    BigTableAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    RelatedLookupFilter,
    SystemFieldsReadOnlyMixin,
    has_model_permission,
    reposted_fields,
)
from config.api.timestamps import utc_stamp

BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class ServiceKeyInline(ReadOnlyTabularInline):
    model = ServiceKey
    fields = ("prefix", "created_at", "revoked_at")
    verbose_name_plural = "keys (by prefix; the key itself is shown once, when issued)"


@admin.register(Service)
class ServiceAdmin(SystemFieldsReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "callback_url", "active_keys", "created_at")
    search_fields = ("^name",)
    fields = ("id", "name", "callback_url", "created_at", "previous_secret_valid_until")
    inlines = (ServiceKeyInline,)
    actions = ("rotate_key", "rotate_webhook_secret")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new service's key and webhook secret are handed out once, by `create_service`.
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # No lookups through the URL: `?webhook_secret__startswith=` would be an oracle.
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return (
            super()
            .get_queryset(request)
            .defer("webhook_secret", "previous_webhook_secret")
            .prefetch_related("keys")
        )

    @admin.display(description="active keys")
    def active_keys(self, obj: Service) -> SafeString:
        keys = [key for key in obj.keys.all() if key.is_active]
        return format_html_join(", ", "<code>{}…</code>", ((key.prefix,) for key in keys))

    @admin.action(
        description="Rotate the key (shows the new key once)", permissions=["change"], location=BOTH_LOCATIONS
    )
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[Service]) -> HttpResponse:
        if request.POST.get("confirm") != "yes":
            return self._confirmation(
                request,
                queryset,
                title="Rotate service keys",
                question="Issue a new key for each of these services?",
                consequence="Every key they hold now is revoked at once: whatever still sends one "
                "gets 401 until it has the new key, which is shown once, on the next page.",
                confirm_label="Rotate the keys",
            )
        issued = []
        for service in queryset.order_by("name"):
            new_key = service_key_rotate(service=service)
            self.log_change(
                request, service, f"Rotated the service key; the new key is {new_key.key.prefix}…"
            )
            issued.append({"service": service, "secret": new_key.secret, "prefix": new_key.key.prefix})
        context = {
            **self.admin_site.each_context(request),
            "title": "New service key" if len(issued) == 1 else "New service keys",
            "opts": self.opts,
            "issued": issued,
        }
        response = TemplateResponse(request, "admin/accounts/service/key_rotated.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(
        description="Rotate the webhook secret (shows the new one once; the previous one keeps signing "
        "for WEBHOOK_SECRET_OVERLAP)",
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def rotate_webhook_secret(self, request: HttpRequest, queryset: QuerySet[Service]) -> HttpResponse:
        if request.POST.get("confirm") != "yes":
            return self._confirmation(
                request,
                queryset,
                title="Rotate webhook secrets",
                question="Issue a new webhook signing secret for each of these services?",
                consequence="Their webhooks and triggers are signed with the new secret from now on, "
                "and with the previous one too for WEBHOOK_SECRET_OVERLAP; the new one is shown "
                "once, on the next page.",
                confirm_label="Rotate the secrets",
            )
        issued = []
        for service in queryset.order_by("name"):
            rotated = service_webhook_secret_rotate(service=service)
            until = rotated.previous_valid_until
            self.log_change(
                request,
                service,
                f"Rotated the webhook secret; the previous one signs too until {utc_stamp(until)}",
            )
            issued.append({"service": service, "secret": rotated.secret, "previous_valid_until": until})
        context = {
            **self.admin_site.each_context(request),
            "title": "New webhook secret" if len(issued) == 1 else "New webhook secrets",
            "opts": self.opts,
            "issued": issued,
        }
        response = TemplateResponse(request, "admin/accounts/service/webhook_secret_rotated.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def _confirmation(
        self, request: HttpRequest, queryset: QuerySet[Service], **texts: str
    ) -> TemplateResponse:
        posted = reposted_fields(request)
        context = {
            **self.admin_site.each_context(request),
            **texts,
            "opts": self.opts,
            "services": list(queryset.order_by("name")),
            "posted": posted,
        }
        return TemplateResponse(request, "admin/accounts/service/confirm_rotation.html", context)


class CredentialAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Credentials by prefix, with revocation; the digest is never shown."""

    # What the revoke action's message calls one of them.
    noun: ClassVar[str]
    sortable_by = ("created_at",)
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, self.model, "change")

    @admin.display(description="state")
    def state(self, obj: Credential) -> str:
        return "active" if obj.is_active else "revoked"

    @admin.action(description="Revoke", permissions=["revoke"], location=BOTH_LOCATIONS)
    def revoke(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        credentials = list(queryset.filter(revoked_at__isnull=True))
        for credential in credentials:
            credential_revoke(credential=credential)
            self.log_change(request, credential, "Revoked")
        self.message_user(request, f"{len(credentials)} {self.noun}(s) revoked.", messages.SUCCESS)


@admin.register(ServiceKey)
class ServiceKeyAdmin(CredentialAdmin):
    noun = "key"
    list_display = ("prefix", "service", "state", "created_at", "revoked_at")
    list_select_related = ("service",)
    list_filter = (("service", RelatedLookupFilter), ("revoked_at", admin.EmptyFieldListFilter))
    fields = ("id", "prefix", "service", "created_at", "revoked_at")


@admin.register(UserToken)
class UserTokenAdmin(CredentialAdmin):
    noun = "token"
    list_display = ("prefix", "user", "state", "created_at", "revoked_at")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username",)
    search_help_text = "A username (exact)."
    fields = ("id", "prefix", "user", "created_at", "revoked_at")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[UserToken], search_term: str
    ) -> tuple[QuerySet[UserToken], bool]:
        term = search_term.strip()
        return (queryset.filter(user__username=term) if term else queryset), False
