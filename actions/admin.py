"""Admin for widget executions (Contact Submissions) and for triggered actions (contract 6).

Contact Submissions is the page staff open first. It is read-only, shows params masked whatever
the row's state (pending rows hold them in clear until they complete), and stays quick at millions
of rows: a capped count, indexed filters, a summary computed by the database at its own URL (the
page loads it after rendering) and cached briefly, and a CSV export streamed from a cursor.
"""

import contextlib
import hashlib
import uuid
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db.models import Q, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from actions.masking import mask_params
from actions.models import (
    MASKED_KINDS,
    Action,
    ActionExecution,
    ActionTrigger,
    ActionVersion,
    ContactSubmission,
    DeliveryMethod,
    DeliveryStatus,
    ErasureSource,
    ExecutionResult,
    TriggerStatus,
    VisitorErasure,
)
from actions.selectors.contact_submissions import (
    NOT_REPORTED,
    ContactSubmissionSummary,
    contact_submissions,
    contact_submissions_csv,
    contact_submissions_summary,
    contact_summary_of_nothing,
)
from actions.services.erasure import visitor_digests, visitor_erase, visitor_held
from config.admin import (
    BigTableAdminMixin,
    IdSearchMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    RelatedLookupFilter,
    choice_filter,
    has_model_permission,
    json_block,
    related_lookup_filter,
    reposted_fields,
)
from config.api.timestamps import utc_stamp
from conversations.models import Bot

# A summary scans the whole filtered set; page views within this window reuse it.
SUMMARY_CACHE_SECONDS = 60
RECENT_TRIGGERS = 20
# The filter value for "the browser did not report it" (a NULL column).
NOT_REPORTED_VALUE = "none"
# The most visitors one erasure confirmation names (and erases).
ERASE_AT_ONCE = 50


def visitor_prefix_range(prefix: str) -> tuple[str, str | None]:
    """[prefix, successor): the strings starting with `prefix`, as a range a B-tree index answers.

    `LIKE 'x%'` uses no plain index on PostgreSQL unless the collation is "C", and SQLite's LIKE
    ignores case; a range always uses exec_visitor. The search pairs it with `startswith`, so it
    never matches more. The bounds follow code-point order, which is the order of the C and
    C.UTF-8 collations (and of SQLite); under a language collation a few ids can sort outside
    them and be missed by a prefix search; the exact id is matched on its own, so it is always found.
    """
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are not characters a database stores
        last = 0xE000
    if last > 0x10FFFF:
        return prefix, (visitor_prefix_range(prefix[:-1])[1] if len(prefix) > 1 else None)
    return prefix, prefix[:-1] + chr(last)


class ContactSubmissionFilteredSet(ChangeList):
    """The changelist's filters, search and ordering, without counting or fetching a page.

    The CSV export streams `queryset` itself.
    """

    def get_results(self, request: HttpRequest) -> None:
        return None


@admin.register(ContactSubmission)
class ContactSubmissionAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Every contactMetadata field is a column; the masked params are on each row's page and in the CSV.
    list_display = (
        "created",
        "bot",
        "kind",
        "visitor",
        "result_display",
        "delivery_status",
        "delivery_method",
        "signal_source",
        "network",
        "timing",
        "completed",
    )
    list_display_links = ("created",)
    list_select_related = ("bot",)
    list_filter = (
        ("bot", RelatedLookupFilter),
        choice_filter(
            field="kind", title="kind", choices=[(kind.value, kind.label) for kind in MASKED_KINDS]
        ),
        choice_filter(
            field="result", title="result", choices=ExecutionResult.choices, empty=("pending", "Pending")
        ),
        choice_filter(
            field="delivery_status",
            title="delivery status",
            choices=DeliveryStatus.choices,
            empty=(NOT_REPORTED_VALUE, NOT_REPORTED),
        ),
        choice_filter(
            field="delivery_method",
            title="delivery method",
            choices=DeliveryMethod.choices,
            empty=(NOT_REPORTED_VALUE, NOT_REPORTED),
        ),
        ("created_at", admin.DateFieldListFilter),
    )
    # The search box; get_search_results decides what a term matches.
    search_fields = ("visitor_id",)
    search_help_text = "A visitor id (exact, or its beginning) or an execution id (exact)."
    # Only the order an index gives: created_at, in every filter's index.
    sortable_by = ("created",)
    fieldsets = (
        (None, {"fields": ("id", "kind", "label", "target_url", "bot", "conversation", "visitor_id")}),
        ("Outcome", {"fields": ("result_display", "error", "created_at", "completed_at")}),
        (
            "contactMetadata",
            {
                "fields": (
                    "delivery_status",
                    "delivery_method",
                    "signal_source",
                    "network_status",
                    "submit_to_signal_ms",
                )
            },
        ),
        ("Params (masked)", {"fields": ("params_block", "params_masked_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ContactSubmission]:
        return contact_submissions()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ContactSubmission], search_term: str
    ) -> tuple[QuerySet[ContactSubmission], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        low, high = visitor_prefix_range(term)
        prefix = Q(visitor_id__gte=low, visitor_id__startswith=term)
        if high is not None:
            prefix &= Q(visitor_id__lt=high)
        match = Q(visitor_id=term) | prefix
        with contextlib.suppress(ValueError):
            match |= Q(pk=uuid.UUID(term))
        return queryset.filter(match), False

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: ContactSubmission) -> str:
        return utc_stamp(obj.created_at)

    @admin.display(description="completed")
    def completed(self, obj: ContactSubmission) -> str:
        return utc_stamp(obj.completed_at)

    @admin.display(description="visitor id")
    def visitor(self, obj: ContactSubmission) -> SafeString:
        return format_html('<span title="{}">{}</span>', obj.visitor_id, Truncator(obj.visitor_id).chars(24))

    @admin.display(description="network", empty_value="-")
    def network(self, obj: ContactSubmission) -> int | None:
        return obj.network_status

    @admin.display(description="to signal", empty_value="-")
    def timing(self, obj: ContactSubmission) -> str | None:
        return None if obj.submit_to_signal_ms is None else f"{obj.submit_to_signal_ms:,} ms"

    @admin.display(description="result")
    def result_display(self, obj: ContactSubmission) -> str:
        return obj.result or "pending"

    @admin.display(description="params")
    def params_block(self, obj: ContactSubmission) -> SafeString:
        return json_block(mask_params(obj.params))

    # -- erasure (contract 8) --------------------------------------------------------------------

    actions = ("erase_visitor",)

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, ActionExecution, "delete")

    @admin.action(
        description="Erase this visitor (every execution, conversation and message of theirs)",
        permissions=["erase"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def erase_visitor(self, request: HttpRequest, queryset: QuerySet[ContactSubmission]) -> HttpResponse:
        """Erase the visitors of the chosen submissions, each of their bot, after a confirmation
        page that says what would go; the same service as DELETE /v1/bots/{botId}/visitors/{id}."""
        visitors = list(
            queryset.order_by("bot_id", "visitor_id")
            .values_list("bot_id", "visitor_id")
            .distinct()[:ERASE_AT_ONCE]
        )
        bots = Bot.objects.in_bulk([bot_id for bot_id, _visitor in visitors])
        if request.POST.get("confirm") != "yes":
            return self._erase_confirmation(request, visitors=visitors, bots=bots)
        erased = 0
        for bot_id, visitor_id in visitors:
            counts, _record = visitor_erase(
                bot=bots[bot_id],
                visitor_id=visitor_id,
                source=ErasureSource.STAFF,
                staff_user=cast(User, request.user),
            )
            erased += counts.executions
        self.message_user(
            request,
            f"{len(visitors)} visitor(s) erased ({erased} execution(s) in all, with their conversations "
            "and messages). Each erasure is recorded below.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:actions_visitorerasure_changelist"))

    def _erase_confirmation(
        self, request: HttpRequest, *, visitors: list[tuple[uuid.UUID, str]], bots: dict[Any, Bot]
    ) -> TemplateResponse:
        posted = reposted_fields(request)
        held = [
            {
                "bot": bots[bot_id],
                "visitor_id": visitor_id,
                "counts": visitor_held(bot=bots[bot_id], visitor_id=visitor_id),
            }
            for bot_id, visitor_id in visitors
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase visitors",
            "opts": self.opts,
            "visitors": held,
            "limit": ERASE_AT_ONCE,
            "posted": posted,
        }
        return TemplateResponse(request, "admin/actions/contactsubmission/erase_visitor.html", context)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        match = request.resolver_match
        if match is not None and match.url_name in (self._export_url_name, self._summary_url_name):
            return ContactSubmissionFilteredSet
        return ChangeList

    @property
    def _export_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export"

    @property
    def _summary_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_summary"

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv", self.admin_site.admin_view(self.export_csv_view), name=self._export_url_name
        )
        summary = path("summary/", self.admin_site.admin_view(self.summary_view), name=self._summary_url_name)
        return [export, summary, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {"title": "Contact Submissions", **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if isinstance(response, TemplateResponse) and context and "cl" in context:
            # The page never waits for the summary: it links to it, and its script loads it.
            query = context["cl"].get_query_string(remove=["p"])
            context["export_url"] = reverse(f"admin:{self._export_url_name}") + query
            context["summary_url"] = reverse(f"admin:{self._summary_url_name}") + query
        return response

    def summary_view(self, request: HttpRequest) -> HttpResponse:
        """The summary of the set the list's filters and search select (the list's query string)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        try:
            filtered = self.get_changelist_instance(request)
        except admin.options.IncorrectLookupParameters:
            return HttpResponseRedirect(changelist_url + "?e=1")
        summary = self._summary(filtered.queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": "Contact Submissions summary",
            "opts": self.opts,
            "summary": summary,
            "summary_statuses": self._status_links(filtered, summary, changelist_url=changelist_url),
            "changelist_url": changelist_url + filtered.get_query_string(remove=["p"]),
        }
        response = TemplateResponse(request, "admin/actions/contactsubmission/summary.html", context)
        response["Cache-Control"] = "private, no-store"
        return response

    @staticmethod
    def _status_links(
        changelist: ChangeList, summary: ContactSubmissionSummary, *, changelist_url: str
    ) -> list[dict[str, Any]]:
        """Each deliveryStatus count, linking to the list narrowed to that status."""
        current = changelist.params.get("delivery_status")
        links = []
        for status in summary.by_delivery_status:
            key = status.value or NOT_REPORTED_VALUE
            links.append(
                {
                    "key": key,
                    "label": status.label,
                    "count": status.count,
                    "active": current == key,
                    "url": changelist_url + changelist.get_query_string({"delivery_status": key}, ["p"]),
                }
            )
        return links

    def _summary(self, queryset: QuerySet[ContactSubmission]) -> ContactSubmissionSummary:
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing: nothing to scan
            return contact_summary_of_nothing()
        key = "admin:contact-submissions:summary:" + hashlib.sha256(repr((sql, params)).encode()).hexdigest()
        summary = cache.get(key)
        if not isinstance(summary, ContactSubmissionSummary):
            summary = contact_submissions_summary(queryset=queryset)
            cache.set(key, summary, SUMMARY_CACHE_SECONDS)
        return summary

    def export_csv_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            filtered = self.get_changelist_instance(request)
        except admin.options.IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:actions_contactsubmission_changelist") + "?e=1")
        response = StreamingHttpResponse(
            contact_submissions_csv(queryset=filtered.queryset), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="contact-submissions-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response


@admin.register(VisitorErasure)
class VisitorErasureAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The erasure records: who asked, when, what went. No visitor id is stored; the search box
    takes one, computes its digest (visitor_digests) and finds the erasures of exactly that id."""

    list_display = ("erased_at", "bot", "source", "requested_by", "executions", "conversations", "messages")
    list_select_related = ("bot", "service", "staff_user")
    list_filter = (
        ("bot", RelatedLookupFilter),
        choice_filter(field="source", title="who asked", choices=ErasureSource.choices),
        ("erased_at", admin.DateFieldListFilter),
    )
    sortable_by = ("erased_at",)
    search_fields = ("visitor_digest",)
    search_help_text = (
        "Was this id erased? Type a visitor id (exact): its digest is computed and the erasures "
        "of that id are listed. The records keep no id."
    )
    fields = (
        "erased_at",
        "bot",
        "source",
        "service",
        "staff_user",
        "executions",
        "conversations",
        "messages",
        "visitor_digest",
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[VisitorErasure], search_term: str
    ) -> tuple[QuerySet[VisitorErasure], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(visitor_digest__in=visitor_digests(search_term)), False

    @admin.display(description="who asked")
    def requested_by(self, obj: VisitorErasure) -> str:
        if obj.source == ErasureSource.SERVICE:
            return f"service {obj.service}" if obj.service else "a service (since deleted)"
        if obj.source == ErasureSource.STAFF:
            return f"staff {obj.staff_user}" if obj.staff_user else "a staff user (since deleted)"
        return "an operator (erase_visitor)"


# ---------------------------------------------------------------------------------------------
# Triggered actions


class ActionVersionInline(ReadOnlyTabularInline):
    model = ActionVersion
    fields = ("version", "target_url", "fire_on", "timeout_ms", "description", "created_at")
    ordering = ("-version",)


class LatestTriggersFormSet(BaseInlineFormSet):
    """Only the latest triggers: an action may have been triggered millions of times."""

    def get_queryset(self) -> Any:
        if not hasattr(self, "_latest"):
            self._latest = list(super().get_queryset().order_by("-created_at")[:RECENT_TRIGGERS])
        return self._latest


class RecentTriggerInline(ReadOnlyTabularInline):
    model = ActionTrigger
    formset = LatestTriggersFormSet
    verbose_name_plural = f"latest {RECENT_TRIGGERS} triggers"
    fields = (
        "created_at",
        "action_version",
        "decision",
        "dry_run",
        "status",
        "cause",
        "duration_ms",
        "idempotency_key",
    )
    show_change_link = True

    @admin.display(description="why it failed")
    def cause(self, obj: ActionTrigger) -> str:
        return _cause(obj)


def _cause(trigger: ActionTrigger) -> str:
    """Why a trigger failed: the cause recorded with it, else (a trigger recorded before causes
    were, or one abandoned mid-send) its error's type; nothing for one that did not fail."""
    if trigger.failure_cause:
        return trigger.failure_cause
    error = trigger.error
    if isinstance(error, dict) and isinstance(error.get("error"), dict):
        return str(error["error"].get("type", ""))
    return ""


@admin.register(Action)
class ActionAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("action_id", "service", "version", "fire_on", "timeout_ms", "target_url", "updated_at")
    list_select_related = ("service",)
    list_filter = (("service", RelatedLookupFilter), "fire_on")
    search_fields = ("action_id",)
    search_help_text = "An action id (exact, or its beginning)."
    # The model orders by the service's id (no join under a row lock); people read names.
    ordering = ("service__name", "action_id")
    fields = (
        "service",
        "action_id",
        "version",
        "target_url",
        "fire_on",
        "timeout_ms",
        "description",
        "created_at",
        "updated_at",
        "trigger_history",
    )
    inlines = (ActionVersionInline, RecentTriggerInline)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Action], search_term: str
    ) -> tuple[QuerySet[Action], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(action_id__startswith=term), False

    @admin.display(description="trigger history")
    def trigger_history(self, obj: Action) -> SafeString:
        url = reverse("admin:actions_actiontrigger_changelist") + f"?action__id__exact={obj.pk}"
        return format_html('<a href="{}">Every trigger of this action, newest first</a>', url)


@admin.register(ActionTrigger)
class ActionTriggerAdmin(IdSearchMixin, BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "action",
        "service",
        "action_version",
        "decision",
        "dry_run",
        "status",
        "cause",
        "duration_ms",
    )
    list_select_related = ("action", "service")
    list_filter = (
        ("service", RelatedLookupFilter),
        ("action", related_lookup_filter(name_field="action_id")),
        choice_filter(field="status", title="status", choices=TriggerStatus.choices),
        "dry_run",
        ("created_at", admin.DateFieldListFilter),
    )
    sortable_by = ("created_at",)
    search_fields = ("id",)
    search_help_text = "A trigger id (exact)."
    fields = (
        "id",
        "service",
        "action",
        "action_version",
        "created_at",
        "decision",
        "dry_run",
        "status",
        "cause",
        "duration_ms",
        "idempotency_key",
        "request_payload_block",
        "payload_sent_block",
        "error_block",
    )

    @admin.display(description="why it failed")
    def cause(self, obj: ActionTrigger) -> str:
        return _cause(obj)

    @admin.display(description="payload (as the service sent it)")
    def request_payload_block(self, obj: ActionTrigger) -> SafeString | str:
        return json_block(obj.request_payload) if obj.request_payload is not None else "None"

    @admin.display(description="payload sent")
    def payload_sent_block(self, obj: ActionTrigger) -> SafeString | str:
        return json_block(obj.payload_sent) if obj.payload_sent is not None else "-"

    @admin.display(description="error (as the API answered it)")
    def error_block(self, obj: ActionTrigger) -> SafeString | str:
        return json_block(obj.error) if obj.error is not None else "-"
