"""Retention (contract 8): `purge_data` runs every app's purge steps, each under its own setting.

`config/` knows no app, so it discovers the steps: an installed app that keeps data with a limit
has a module `<app>.retention` whose `PURGE_STEPS` lists them. A step purges rows older than a
duration, in batches, and says how many it purged (or would).
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils.module_loading import module_has_submodule

from config.formats import parse_retention
from config.progress import OnProgress

# Rows per statement: large enough that a million rows are a few hundred statements, small enough
# that each holds its locks for a fraction of a second.
DEFAULT_BATCH_SIZE = 5000


class Purge(Protocol):
    def __call__(
        self,
        *,
        older_than: timedelta,
        dry_run: bool = False,
        batch_size: int = ...,
        on_progress: OnProgress | None = None,
    ) -> int: ...


@dataclass(frozen=True)
class PurgeStep:
    # The key of its count in `purge_data`'s output, e.g. "webhook_payloads".
    kind: str
    # The Django setting holding its retention (a DURATION, or "0" to keep forever).
    setting: str
    purge: Purge


@dataclass(frozen=True)
class PurgeOutcome:
    kind: str
    setting: str
    retention: str
    # None when the retention is "keep forever" (nothing was looked at).
    count: int | None


def purge_steps() -> list[PurgeStep]:
    """Every installed app's steps, in INSTALLED_APPS order."""
    return [
        step
        for app_config in apps.get_app_configs()
        if module_has_submodule(app_config.module, "retention")
        for step in importlib.import_module(f"{app_config.name}.retention").PURGE_STEPS
    ]


def retention_of(step: PurgeStep) -> timedelta | None:
    """The step's retention from its setting; ValueError (naming the setting) for a bad value."""
    try:
        return parse_retention(str(getattr(settings, step.setting)))
    except ValueError as exc:
        raise ValueError(f"{step.setting}: {exc}") from None


def purge_all(
    *, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE, on_progress: OnProgress | None = None
) -> list[PurgeOutcome]:
    """Run every step under its retention. Settings are all checked before any step runs."""
    steps = [(step, retention_of(step)) for step in purge_steps()]
    outcomes = []
    for step, older_than in steps:
        count = None
        if older_than is not None:
            count = step.purge(
                older_than=older_than, dry_run=dry_run, batch_size=batch_size, on_progress=on_progress
            )
        outcomes.append(
            PurgeOutcome(
                kind=step.kind,
                setting=step.setting,
                retention=str(getattr(settings, step.setting)),
                count=count,
            )
        )
    return outcomes


def purge_in_batches(
    candidates: QuerySet[Any],
    purge: Callable[[list[Any]], int],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: OnProgress | None = None,
    statement: str | None = None,
    params: tuple[Any, ...] = (),
) -> int:
    """Purge `candidates` `batch_size` at a time, first in the queryset's order (an index range);
    the total purged.

    On PostgreSQL with a `statement`, each batch is that one statement: SQL that follows
    `WITH chosen(id) AS MATERIALIZED (<the next batch of candidates' keys, locked with SKIP
    LOCKED>)` with more CTEs (`, name AS (...)`, taking `params`) that purge the rows in `chosen`,
    one of them named `purged` returning a row per row it purged. Nothing leaves the database but
    two counts. Elsewhere each batch is one short transaction: the keys are read (locked with SKIP
    LOCKED where the database can), then `purge` is applied to them and says how many it purged.
    Concurrent runs take different rows. Either way the purge must make its rows stop being
    candidates (delete them, or change what `candidates` selects on), which is what ends the loop,
    and be conditional, so a row another run purged first counts once. Memory holds one batch of
    keys at most, whatever the table's size.
    """
    if statement is not None and connection.vendor == "postgresql":
        return _purge_by_statement(
            candidates, statement=statement, params=params, batch_size=batch_size, on_progress=on_progress
        )
    total = 0
    while True:
        with transaction.atomic():
            chosen = candidates
            if connection.features.has_select_for_update_skip_locked:
                chosen = chosen.select_for_update(skip_locked=True, of=("self",))
            batch = list(chosen.values_list("pk", flat=True)[:batch_size])
            if not batch:
                return total
            done = purge(batch)
            total += done
        if on_progress is not None:
            on_progress(done)


def _purge_by_statement(
    candidates: QuerySet[Any],
    *,
    statement: str,
    params: tuple[Any, ...],
    batch_size: int,
    on_progress: OnProgress | None,
) -> int:
    locked = candidates.select_for_update(skip_locked=True, of=("self",)).values_list("pk")[:batch_size]
    # The ORM compiles a locking SELECT only inside a transaction; the statement runs on its own.
    with transaction.atomic():
        chosen, chosen_params = locked.query.sql_with_params()
    # MATERIALIZED: the locking SELECT runs once, whatever plan the rest gets.
    sql = (
        f"WITH chosen(id) AS MATERIALIZED ({chosen}) {statement} "  # noqa: S608 - the ORM's SQL and the caller's names
        "SELECT (SELECT count(*) FROM chosen), (SELECT count(*) FROM purged)"
    )
    total = 0
    with connection.cursor() as cursor:
        while True:
            # One statement: atomic on its own, its locks held only while it runs.
            cursor.execute(sql, (*chosen_params, *params))
            row = cursor.fetchone()
            chosen_count, purged = (int(value) for value in row) if row else (0, 0)
            total += purged
            if not chosen_count:
                return total
            if on_progress is not None:
                on_progress(purged)


def table(model: type[Model]) -> str:
    """The model's table, quoted for the purge statements."""
    return str(connection.ops.quote_name(model._meta.db_table))
