"""The lease both outboxes (webhook events, e-mails) hand their workers: the next due row, taken
once whatever the number of workers, with an attempt row opened in the same transaction."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Model, Q, QuerySet

from config.outbound import conf

LEASE_EXPIRED_ERROR = "the worker stopped before recording an outcome (lease expired)"


@dataclass(frozen=True)
class Lease:
    # The row as it was read, before the lease counted this attempt.
    row: Any
    token: UUID
    locked_until: datetime
    attempt_id: int


def due(model: type[Model], *, now: datetime, due_by: datetime) -> QuerySet[Any]:
    """Pending rows due by `due_by` that no live lease holds."""
    return model._default_manager.filter(status="pending", next_attempt_at__lte=due_by).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    )


def lease_next(
    *,
    model: type[Model],
    attempt_model: type[Model],
    attempt_of: str,
    now: datetime,
    due_by: datetime,
    counters: tuple[str, ...] = ("attempt_count",),
    related: tuple[str, ...] = (),
) -> Lease | None:
    """Take the lease on the next due row of `model`, or None when none is due.

    The row is chosen with SKIP LOCKED where the database can and taken by a conditional UPDATE
    (still due, still unheld), so two workers never hold one row; `counters` are incremented
    there. An attempt left open by a worker whose lease expired is marked so, then this attempt's
    row (`attempt_model`, pointing at the row by `attempt_of`) is created.
    """
    token = uuid.uuid4()
    locked_until = now + timedelta(seconds=conf.lease_seconds())
    with transaction.atomic():
        candidates = due(model, now=now, due_by=due_by).order_by("next_attempt_at")
        if related:
            # With no names, select_related would join every relation the row has.
            candidates = candidates.select_related(*related)
        if connection.features.has_select_for_update_skip_locked:
            # `of`: lock the row only; locking what it relates to would make workers wait on each other.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        row = candidates.first()
        if row is None:
            return None
        claimed = (
            due(model, now=now, due_by=due_by)
            .filter(pk=row.pk)
            .update(
                lease_token=token,
                locked_until=locked_until,
                **{counter: F(counter) + 1 for counter in counters},
            )
        )
        if not claimed:
            return None
        if row.locked_until is not None:
            attempt_model._default_manager.filter(**{attempt_of: row}, duration_ms__isnull=True).update(
                error=LEASE_EXPIRED_ERROR
            )
        attempt = attempt_model._default_manager.create(**{attempt_of: row}, started_at=now)
    return Lease(row=row, token=token, locked_until=locked_until, attempt_id=attempt.pk)
