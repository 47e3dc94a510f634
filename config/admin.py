"""What every admin page of the project shares (contract 6).

Not an app's admin module: the apps' `admin.py` files import their building blocks from here.

- Lists never COUNT(*) a whole big table: `CappedCountPaginator` counts at most `COUNT_CAP` rows.
- A changelist filters only through its declared filters: Django lets any lookup on a local field
  through the query string (`?params__email=...`, `?webhook_secret__startswith=...`), which would
  turn a list into an oracle for what the page never shows.
- A filter on a foreign key never lists the related table (`RelatedLookupFilter`): there may be
  hundreds of thousands of bots, and Django's own filter loads and renders every one of them.
- Read-only pages and inlines for what only services change (the audit trail of the system).
- Which fields a page shows read-only is derived from what it shows, never listed a second time.
- An object id that its primary key cannot be is a 404 page (`LoopbackAdminSite` gives every
  registered admin `MalformedIdIsNotFound`); Django would send it to the index like a deleted row.
"""

import contextlib
import json
import uuid
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten, flatten_fieldsets
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Field, Model, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COUNT_CAP = 10_000
# The most related rows a foreign-key filter names at once.
RELATED_LOOKUP_LIMIT = 20

# What a declared list filter puts in the query string after its field name.
_FILTER_LOOKUPS = frozenset({"exact", "isnull", "isempty", "in", "gte", "gt", "lte", "lt", "id", "pk"})


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (`SELECT COUNT(*) FROM (... LIMIT n)`), never a whole table.

    Beyond the cap the list pages through the first COUNT_CAP rows and says there are more;
    filters narrow it down. Each page is an indexed `ORDER BY ... LIMIT ... OFFSET`.
    """

    more_than_cap = False

    @cached_property
    def count(self) -> int:
        object_list: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        counted = object_list[: COUNT_CAP + 1].count()
        self.more_than_cap = counted > COUNT_CAP
        return min(counted, COUNT_CAP)


class StrictLookupsMixin:
    """The changelist accepts in its query string only the lookups of its declared filters."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        field_filters: set[str] = set()
        simple_filters: set[str] = set()
        for item in self.get_list_filter(request):  # type: ignore[attr-defined]
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                simple_filters.add(str(item.parameter_name))
            elif isinstance(item, list | tuple):
                field_filters.add(item[0])
            else:
                field_filters.add(str(item))
        if lookup in simple_filters:
            return True
        field, *parts = lookup.split("__")
        return field in field_filters and all(part in _FILTER_LOOKUPS for part in parts)


class BigTableAdminMixin(StrictLookupsMixin):
    """A list that stays quick on a table of millions: no full count, one capped count.

    No facets either: "Show counts" would count every filter choice over the whole filtered set.
    """

    paginator: ClassVar[type] = CappedCountPaginator
    show_full_result_count: ClassVar[bool] = False
    show_facets: ClassVar[admin.ShowFacets] = admin.ShowFacets.NEVER
    list_per_page: ClassVar[int] = 50
    list_max_show_all: ClassVar[int] = 200


class IdSearchMixin:
    """Search by exact id (a UUID), else by one exact field: index lookups, never a table scan."""

    search_fallback_field: ClassVar[str | None] = None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        with contextlib.suppress(ValueError):
            return queryset.filter(pk=uuid.UUID(term)), False
        if self.search_fallback_field is None:
            return queryset.none(), False
        return queryset.filter(**{self.search_fallback_field: term}), False


def _shown_fields(options: Any) -> list[str]:
    """The names a change page (or an inline's row) shows: its declared fieldsets or fields.

    Read off the declarations, not `get_fieldsets()`: without them Django builds a form to find
    the fields, and building that form asks for the read-only fields again.
    """
    if options.fieldsets:
        return flatten_fieldsets(options.fieldsets)
    if options.fields:
        return flatten(options.fields)
    return [field.name for field in options.model._meta.fields]


class SystemFieldsReadOnlyMixin:
    """An editable page: what the system sets (ids, timestamps: the fields the model does not let
    a form edit) and what is computed for display are shown read-only."""

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        opts = self.model._meta  # type: ignore[attr-defined]
        editable = {field.name for field in [*opts.fields, *opts.many_to_many] if field.editable}
        return [name for name in _shown_fields(self) if name not in editable]


class ReadOnlyAdminMixin:
    """Rows written only by the system's own services: viewed here, never added, edited or deleted."""

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return _shown_fields(self)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown under their parent's page, "None yet." when there are none."""

    template = "admin/edit_inline/tabular_readonly.html"
    extra = 0
    can_delete = False
    show_change_link = False


def has_model_permission(request: HttpRequest, model: type[Model], action: str) -> bool:
    """The user's Django permission `action` on `model`, for operations on read-only pages."""
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")


def reposted_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """Every field of an admin action's own form, for its confirmation page to post back, so the
    same action runs again, confirmed, whether it came from the list or from one object's page."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name not in {"csrfmiddlewaretoken", "confirm"}
        for value in values
    ]


def json_block(value: Any) -> SafeString:
    """A JSON value as an indented, escaped block."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="json-block">{}</pre>', text)


def value_table(value: Any, *, order: Sequence[str] = ()) -> SafeString:
    """A JSON value as people read it: an object as a table of its keys and values, a list of
    objects as a table with a column per key, other lists one item a line; nested values the
    same way, inside their cell; "none" for an empty one. Keys named in `order` come first, in
    that order, the others as stored (PostgreSQL's jsonb keeps its own order, not the sender's)."""
    if isinstance(value, dict):
        if not value:
            return mark_safe('<span class="quiet">none</span>')
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td>{}</td></tr>',
            ((key, value_table(value[key], order=order)) for key in _ordered(value, order)),
        )
        return format_html('<table class="definition">{}</table>', rows)
    if isinstance(value, list):
        if not value:
            return mark_safe('<span class="quiet">none</span>')
        if all(isinstance(item, dict) for item in value):
            columns = _ordered({key: None for item in value for key in item}, order)
            head = format_html_join("", '<th scope="col">{}</th>', ((column,) for column in columns))
            body = format_html_join(
                "",
                "<tr>{}</tr>",
                (
                    (
                        format_html_join(
                            "",
                            "<td>{}</td>",
                            (
                                (value_table(item[column], order=order) if column in item else "",)
                                for column in columns
                            ),
                        ),
                    )
                    for item in value
                ),
            )
            return format_html(
                '<table class="definition"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body
            )
        return format_html_join(
            mark_safe("<br>"), "{}", ((value_table(item, order=order),) for item in value)
        )
    if value is None:
        return format_html("<code>{}</code>", "null")
    if isinstance(value, bool | int | float):
        return format_html("<code>{}</code>", json.dumps(value))
    return format_html("{}", value)


def _ordered(keys: dict[str, Any], order: Sequence[str]) -> list[str]:
    rank = {key: index for index, key in enumerate(order)}
    return sorted(keys, key=lambda key: rank.get(key, len(rank)))


def choice_filter(
    *, field: str, title: str, choices: Sequence[tuple[str, str]], empty: tuple[str, str] | None = None
) -> type[admin.SimpleListFilter]:
    """A list filter on a choices column; `empty` = (value, label) of a choice for NULL.

    The parameter is the field's name, so a filtered URL reads `?delivery_status=failed`.
    """
    lookup_choices = [*choices, *([empty] if empty else [])]
    known = {choice for choice, _ in choices}

    class ChoiceFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return lookup_choices

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if value is None:
                return queryset
            if empty and value == empty[0]:
                return queryset.filter(**{f"{field}__isnull": True})
            if value not in known:
                return queryset.none()
            return queryset.filter(**{field: value})

    ChoiceFilter.title = title
    ChoiceFilter.__name__ = f"{field.title().replace('_', '')}Filter"
    return ChoiceFilter


class RelatedLookupFilter(admin.FieldListFilter):
    """A foreign-key filter that never lists the related table: a text box and the rows it picks.

    `?bot=<text>` picks the related row with that id, or the rows named exactly that (their
    `name_field`); `?bot__id__exact=<id>`, Django's own spelling, picks one row (links use it).
    The chosen rows (at most RELATED_LOOKUP_LIMIT named) link to the list narrowed to each.
    Use it as `list_filter = [("bot", RelatedLookupFilter)]`, or `related_lookup_filter(...)`
    for a related model named by another field.
    """

    template = "admin/related_lookup_filter.html"
    name_field: ClassVar[str] = "name"

    def __init__(
        self,
        field: "Field[Any, Any]",
        request: HttpRequest,
        params: dict[str, list[str]],
        model: type[Model],
        model_admin: Any,
        field_path: str,
    ) -> None:
        self.related_model: type[Model] = field.remote_field.model  # type: ignore[union-attr]
        self.target_field: Field[Any, Any] = field.target_field  # type: ignore[attr-defined]
        self.lookup_kwarg = f"{field_path}__{self.target_field.name}__exact"
        self.text_kwarg = field_path
        super().__init__(field, request, params, model, model_admin, field_path)
        self.text = self._last(self.text_kwarg)
        own = {self.lookup_kwarg, self.text_kwarg, PAGE_VAR, ERROR_FLAG}
        # The other filters and the search, carried along when the text box is submitted.
        self.hidden_params = [
            (name, value) for name, values in request.GET.lists() if name not in own for value in values
        ]
        self.placeholder = (
            f"{self.related_model._meta.verbose_name} id or exact {self.name_field.replace('_', ' ')}"
        )
        related = self._related()
        self.chosen: list[Model] = [] if related is None else list(related[: RELATED_LOOKUP_LIMIT + 1])

    def expected_parameters(self) -> list[str | None]:
        return [self.lookup_kwarg, self.text_kwarg]

    def _last(self, name: str) -> str:
        values = self.used_parameters.get(name)
        return str(values[-1]).strip() if isinstance(values, list) and values else ""

    def _pk(self, value: str) -> Any:
        """The value as a primary key of the related model; ValidationError when it cannot be one."""
        return self.target_field.to_python(value)

    def _related(self) -> QuerySet[Any] | None:
        """The related rows the parameters pick, or None when they pick nothing in particular."""
        chosen_id, text = self._last(self.lookup_kwarg), self.text
        if not chosen_id and not text:
            return None
        match = Q()
        try:
            if chosen_id:
                match &= Q(pk=self._pk(chosen_id))
        except ValidationError as exc:
            raise IncorrectLookupParameters(exc) from exc
        if "\x00" in text:  # no stored name holds one, and PostgreSQL refuses it in a query
            return self.related_model._default_manager.none()
        if text:
            named = Q(**{self.name_field: text})
            with contextlib.suppress(ValidationError):  # text that cannot be an id is a name only
                named |= Q(pk=self._pk(text))
            match &= named
        return self.related_model._default_manager.filter(match).order_by(self.name_field, "pk")

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        related = self._related()
        if related is None:
            return queryset
        if len(self.chosen) <= RELATED_LOOKUP_LIMIT:  # the usual case: one row, by its id
            return queryset.filter(**{f"{self.field_path}__in": [row.pk for row in self.chosen]})
        return queryset.filter(**{f"{self.field_path}__in": related.values("pk")})

    def choices(self, changelist: ChangeList) -> Any:
        chosen_id = self._last(self.lookup_kwarg)
        yield {
            "selected": not chosen_id and not self.text,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg, self.text_kwarg]),
            "display": "All",
        }
        for row in self.chosen[:RELATED_LOOKUP_LIMIT]:
            yield {
                "selected": chosen_id == str(row.pk),
                "query_string": changelist.get_query_string({self.lookup_kwarg: row.pk}, [self.text_kwarg]),
                "display": str(row),
            }

    @property
    def more_than_shown(self) -> bool:
        return len(self.chosen) > RELATED_LOOKUP_LIMIT

    @property
    def nothing_found(self) -> bool:
        return not self.chosen and bool(self.text or self._last(self.lookup_kwarg))


def related_lookup_filter(*, name_field: str) -> type[RelatedLookupFilter]:
    """A RelatedLookupFilter for a related model whose rows are named by `name_field`."""
    return type(
        f"RelatedLookupFilterBy{name_field.title().replace('_', '')}",
        (RelatedLookupFilter,),
        {"name_field": name_field},
    )


class MalformedIdIsNotFound:
    """An id in an admin URL that the primary key cannot hold is a 404 (contract 6)."""

    model: type[Model]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        field = self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
        try:
            field.to_python(object_id)  # type: ignore[union-attr]
        except (ValidationError, ValueError):
            raise Http404("There is no such object.") from None
        return super().get_object(request, object_id, from_field)  # type: ignore[misc]


class LoopbackAdminSite(admin.AdminSite):
    """The admin, named for the product, its "View site" link going to the inbox (the site's page
    for the people it serves); every admin registered on it refuses malformed ids with a 404."""

    site_header = "Loopback"
    site_title = "Loopback"
    index_title = "Loopback administration"
    site_url = "/inbox/"
    # The lists need the width: at 1280 px the sidebar left a list with filters about 630 px.
    enable_nav_sidebar = False

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        base = admin_class or admin.ModelAdmin
        strict = type(base.__name__, (MalformedIdIsNotFound, base), {"__module__": base.__module__})
        super().register(model_or_iterable, strict, **options)
