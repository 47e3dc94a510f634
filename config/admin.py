"""What every admin page of the project shares (contract 6).

Not an app's admin module: the apps' `admin.py` files import their building blocks from here.

- Lists never COUNT(*) a whole big table: `CappedCountPaginator` counts at most `COUNT_CAP` rows.
- A changelist filters only through its declared filters: Django lets any lookup on a local field
  through the query string (`?params__email=...`, `?webhook_secret__startswith=...`), which would
  turn a list into an oracle for what the page never shows.
- Read-only pages and inlines for what only services change (the audit trail of the system).
"""

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

COUNT_CAP = 10_000

# What a declared list filter puts in the query string after its field name.
_FILTER_LOOKUPS = frozenset({"exact", "isnull", "in", "gte", "gt", "lte", "lt", "id", "pk"})


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
    """A list that stays quick on a table of millions: no full count, one capped count."""

    paginator: ClassVar[type] = CappedCountPaginator
    show_full_result_count: ClassVar[bool] = False
    list_per_page: ClassVar[int] = 50
    list_max_show_all: ClassVar[int] = 200


class ReadOnlyAdminMixin:
    """Rows written only by the system's own services: viewed here, never added, edited or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


def has_model_permission(request: HttpRequest, model: type[Model], action: str) -> bool:
    """The user's Django permission `action` on `model`, for operations on read-only pages."""
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")


def json_block(value: Any) -> SafeString:
    """A JSON value as an indented, escaped block."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="json-block">{}</pre>', text)


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
