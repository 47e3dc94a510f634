"""Contact Submissions for the admin: the rows, the summary of a filtered set, its CSV export (contract 6).

Everything is computed by the database over the filtered set, whatever its size: counts in one
aggregate; the percentiles with PostgreSQL's `percentile_cont` in that same aggregate, or on
SQLite (which has none) by reading the one or two values at the right offset of the sorted column.
Params leave this module only masked, whatever the row's state.
"""

import csv
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet
from django.utils import timezone

from actions.masking import mask_params
from actions.models import MASKED_KINDS, ContactSubmission, DeliveryStatus

PERCENTILES = (0.5, 0.95)
EXPORT_CHUNK_ROWS = 2000
NOT_REPORTED = "Not reported"
# Rows per piece of the streamed CSV: few enough pieces, each small.
_ROWS_PER_PIECE = 200
# A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`; NULLs are skipped."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"

    def __init__(self, expression: str, *, fraction: float) -> None:
        # A number from this module, never from a request: safe to write into the SQL.
        super().__init__(expression, fraction=repr(float(fraction)))


@dataclass(frozen=True)
class DeliveryStatusCount:
    value: str | None
    label: str
    count: int


@dataclass(frozen=True)
class ContactSubmissionSummary:
    total: int
    by_delivery_status: tuple[DeliveryStatusCount, ...]
    # Rows that reported submitToSignalMs: the population of the percentiles.
    timed: int
    p50_ms: float | None
    p95_ms: float | None
    computed_at: datetime


def contact_submissions() -> QuerySet[ContactSubmission]:
    """Every execution of the two kinds whose params hold personal data, newest first."""
    return ContactSubmission.objects.filter(kind__in=MASKED_KINDS).order_by("-created_at")


def contact_submissions_summary(*, queryset: QuerySet[ContactSubmission]) -> ContactSubmissionSummary:
    """Count per deliveryStatus and p50/p95 of submitToSignalMs over `queryset` (already filtered)."""
    queryset = queryset.select_related(None).order_by()
    aggregates: dict[str, Any] = {
        "total": Count("pk"),
        "timed": Count("submit_to_signal_ms"),
        "not_reported": Count("pk", filter=Q(delivery_status__isnull=True)),
    }
    for status in DeliveryStatus:
        aggregates[f"status_{status.value}"] = Count("pk", filter=Q(delivery_status=status.value))
    postgres = connections[queryset.db].vendor == "postgresql"
    if postgres:
        for fraction in PERCENTILES:
            aggregates[_percentile_key(fraction)] = PercentileCont("submit_to_signal_ms", fraction=fraction)
    row = queryset.aggregate(**aggregates)

    if postgres:
        p50, p95 = (row[_percentile_key(fraction)] for fraction in PERCENTILES)
    else:
        p50, p95 = (
            _percentile_by_offset(queryset=queryset, fraction=fraction, population=row["timed"])
            for fraction in PERCENTILES
        )
    counts = [
        DeliveryStatusCount(value=status.value, label=str(status.label), count=row[f"status_{status.value}"])
        for status in DeliveryStatus
    ]
    counts.append(DeliveryStatusCount(value=None, label=NOT_REPORTED, count=row["not_reported"]))
    return ContactSubmissionSummary(
        total=row["total"],
        by_delivery_status=tuple(counts),
        timed=row["timed"],
        p50_ms=p50,
        p95_ms=p95,
        computed_at=timezone.now(),
    )


def contact_summary_of_nothing() -> ContactSubmissionSummary:
    """The summary of a filtered set that cannot hold a row, without asking the database."""
    counts = [DeliveryStatusCount(value=s.value, label=str(s.label), count=0) for s in DeliveryStatus]
    counts.append(DeliveryStatusCount(value=None, label=NOT_REPORTED, count=0))
    return ContactSubmissionSummary(
        total=0,
        by_delivery_status=tuple(counts),
        timed=0,
        p50_ms=None,
        p95_ms=None,
        computed_at=timezone.now(),
    )


def _percentile_key(fraction: float) -> str:
    return f"p{round(fraction * 100)}"


def _percentile_by_offset(
    *, queryset: QuerySet[ContactSubmission], fraction: float, population: int
) -> float | None:
    """percentile_cont by hand: the value at rank fraction * (n - 1), interpolated between neighbours."""
    if population == 0:
        return None
    rank = fraction * (population - 1)
    lower = math.floor(rank)
    values: list[int] = [
        value
        for value in queryset.filter(submit_to_signal_ms__isnull=False)
        .order_by("submit_to_signal_ms")
        .values_list("submit_to_signal_ms", flat=True)[lower : lower + 2]
        if value is not None
    ]
    if not values:  # rows went away between the count and this read
        return None
    if len(values) == 1 or rank == lower:
        return float(values[0])
    return values[0] + (values[1] - values[0]) * (rank - lower)


# ---------------------------------------------------------------------------------------------
# CSV export

CSV_COLUMNS = (
    ("executionId", "id"),
    ("createdAt", "created_at"),
    ("completedAt", "completed_at"),
    ("botId", "bot_id"),
    ("botName", "bot__name"),
    ("conversationId", "conversation_id"),
    ("visitorId", "visitor_id"),
    ("kind", "kind"),
    ("label", "label"),
    ("targetUrl", "target_url"),
    ("result", "result"),
    ("error", "error"),
    ("deliveryStatus", "delivery_status"),
    ("deliveryMethod", "delivery_method"),
    ("signalSource", "signal_source"),
    ("networkStatus", "network_status"),
    ("submitToSignalMs", "submit_to_signal_ms"),
    ("params", "params"),
)


class _Echo:
    """A file that hands back what is written, so csv.writer formats one row at a time."""

    def write(self, value: str) -> str:
        return value


def contact_submissions_csv(*, queryset: QuerySet[ContactSubmission]) -> Iterator[str]:
    """The rows of `queryset` as CSV text, in pieces, read from the database in chunks.

    The rows are never all in memory (a server-side cursor on PostgreSQL); params are masked.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    rows = queryset.values_list(*(column for _, column in CSV_COLUMNS)).iterator(chunk_size=EXPORT_CHUNK_ROWS)
    piece: list[str] = []
    for row in rows:
        piece.append(writer.writerow(_csv_cells(row)))
        if len(piece) == _ROWS_PER_PIECE:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def _csv_cells(row: Iterable[Any]) -> list[Any]:
    *columns, params = row
    return [_csv_cell(value) for value in columns] + [
        json.dumps(mask_params(params), ensure_ascii=False, sort_keys=True)
    ]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
