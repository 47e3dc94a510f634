"""Database plumbing shared by the apps' services."""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import FETCH_ONE, Expression, Field, Model, QuerySet
from django.db.models.lookups import Lookup
from django.db.models.query import get_related_populators
from django.db.models.sql import UpdateQuery
from django.db.models.sql.where import WhereNode


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


class Param(Expression):
    """A value a `Prepared` lookup leaves open: given anew each time the lookup runs.

    Compiled, it is a placeholder whose parameter is the Param itself, so that the compiled
    statement says where each value goes; its field is the one it is compared with.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.compared_with: "Field[Any, Any] | None" = None

    def _resolve_output_field(self) -> "Field[Any, Any] | None":
        return self.compared_with

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [self]


@dataclass(frozen=True)
class _Plan:
    sql: str
    # Each parameter of `sql`: an open Param (prepared per run by its field) or a fixed value.
    params: tuple[Any, ...]
    model: type[Model]
    init_list: list[str]
    columns: slice
    related_populators: list[Any]
    converters: list[tuple[int, list[Any], Any]]


def _params_of(where: WhereNode) -> "Iterator[tuple[Param, Lookup[Any]]]":
    for child in where.children:
        if isinstance(child, WhereNode):
            yield from _params_of(child)
        elif isinstance(child, Lookup) and isinstance(child.rhs, Param):
            yield child.rhs, child


class Prepared[M: Model]:
    """A lookup of one fixed shape, built and compiled once per process and database.

    For the hot paths, whose lookups are the same statement with new values every request:
    building the QuerySet and compiling it cost several times what running the SQL does. `build`
    returns the QuerySet with a `Param` for each open value (only as the right side of a filter's
    comparison); `one` runs the compiled statement with the values and makes the instance (and
    its `select_related` ones) as the ORM would, converters included.
    """

    def __init__(self, build: Callable[[], QuerySet[M]]) -> None:
        self._build = build
        self._plans: dict[str, _Plan] = {}

    def _plan(self, using: str) -> _Plan:
        query = self._build().query.clone()
        # As `get` asks: in no order, two rows at most (enough to tell one from more than one).
        query.clear_ordering(force=True)
        query.set_limits(high=2)
        for param, lookup in _params_of(query.where):
            param.compared_with = lookup.lhs.output_field
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        assert klass_info is not None, "a Prepared lookup selects model rows"
        select_fields = klass_info["select_fields"]
        columns = slice(select_fields[0], select_fields[-1] + 1)
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        return _Plan(
            sql=sql,
            params=tuple(params),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in compiler.select[columns]],
            columns=columns,
            related_populators=get_related_populators(klass_info, compiler.select, using, FETCH_ONE),
            converters=[(position, convs, expression) for position, (convs, expression) in converters.items()],
        )

    def one(self, *, using: str = "default", **values: Any) -> M | None:
        """The row these values find, or None; MultipleObjectsReturned if they find more."""
        plan = self._plans.get(using)
        if plan is None:
            plan = self._plans[using] = self._plan(using)
        connection = connections[using]
        params = [
            param.compared_with.get_db_prep_value(values[param.name], connection)  # type: ignore[union-attr]
            if isinstance(param, Param)
            else param
            for param in plan.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        if len(rows) > 1:
            raise plan.model.MultipleObjectsReturned(f"more than one {plan.model.__name__} for {values}")
        row = list(rows[0])
        for position, convs, expression in plan.converters:
            for converter in convs:
                row[position] = converter(row[position], expression, connection)
        # FETCH_ONE: what a QuerySet's instances get unless told otherwise.
        instance = plan.model.from_db(using, plan.init_list, row[plan.columns], fetch_mode=FETCH_ONE)
        for populator in plan.related_populators:
            populator.populate(row, instance)
        return cast(M, instance)
