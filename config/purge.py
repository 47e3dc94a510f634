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
from django.db.models import QuerySet
from django.utils.module_loading import module_has_submodule

from config.formats import parse_retention
from config.progress import OnProgress

DEFAULT_BATCH_SIZE = 1000


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
) -> int:
    """Apply `purge` to the primary keys of `candidates`, `batch_size` at a time; the total it returns.

    Each batch is one short transaction: the next `batch_size` candidates in the queryset's
    order (an index range), locked with `SKIP LOCKED` on PostgreSQL so concurrent runs take
    different rows, then `purge`'s set-based statements on those keys. `purge` must make its rows
    stop being candidates (delete them, or change what `candidates` selects on), which is what
    ends the loop; it must also be conditional, so a row another run purged first counts once.
    Memory holds one batch of keys, whatever the table's size.
    """
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
