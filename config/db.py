"""Database plumbing shared by the apps' services."""

import functools
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.sql import UpdateQuery


def update_then_insert(*, rows: QuerySet[Any], changes: dict[str, Any], new: Model) -> bool:
    """Apply `changes` to `rows` and, only if that matched a row, insert `new`: both or neither.

    For the hot write paths where a conditional UPDATE decides who wins and the winner records one
    more row (the result post's follow-up message, the answer's webhook event). On PostgreSQL it
    is one statement (`WITH won AS (UPDATE ... RETURNING 1) INSERT ... SELECT ... FROM won`): one
    round trip, atomic on its own, no BEGIN and COMMIT. Elsewhere the two statements run in a
    transaction. Returns whether the UPDATE matched; `new` is saved exactly when it did.
    """
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=rows.db, savepoint=False):
            if not rows.update(**changes):
                return False
            new.save(force_insert=True, using=rows.db)
            return True

    update = cast(UpdateQuery, rows.query.chain(UpdateQuery))
    update.add_update_values(changes)
    update_sql, update_params = update.get_compiler(connection=connection).as_sql()
    fields, insert = _insert_from_won(type(new), rows.db)
    params = [field.get_db_prep_save(field.pre_save(new, add=True), connection) for field in fields]
    statement = f"WITH won AS ({update_sql} RETURNING 1) {insert}"
    with connection.cursor() as cursor:
        cursor.execute(statement, [*update_params, *params])
        inserted = cursor.rowcount
    if inserted:
        new._state.adding = False
        new._state.db = rows.db
    return bool(inserted)


@functools.cache
def _insert_from_won(model: type[Model], using: str) -> tuple[list[Any], str]:
    """The fields `update_then_insert` writes for `model`, and its INSERT ... SELECT ... FROM won."""
    connection = connections[using]
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)
    # Typed placeholders: in INSERT ... SELECT a bare literal would be text, and PostgreSQL has no
    # assignment cast from text to uuid, timestamptz or jsonb.
    values = ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields)
    # Names come from the model; every value is a parameter.
    insert = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {values} FROM won LIMIT 1"  # noqa: S608
    return fields, insert
