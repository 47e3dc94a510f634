"""Database plumbing shared by the apps' services."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import FETCH_ONE, Expression, Field, Model, QuerySet
from django.db.models.lookups import Lookup
from django.db.models.query import get_related_populators
from django.db.models.sql import UpdateQuery
from django.db.models.sql.where import WhereNode


def update_then_insert(
    *,
    rows: "Prepared[Any]",
    where: dict[str, Any],
    changes: dict[str, Any],
    new: Model,
    using: str = "default",
) -> bool:
    """Apply `changes` to the rows `rows` finds with the values `where` and, only if that matched a
    row, insert `new`: both or neither.

    For the hot write paths where a conditional UPDATE decides who wins and the winner records one
    more row (the result post's follow-up message, the answer's webhook event). The UPDATE is
    compiled once per set of changed fields (`Prepared`). On PostgreSQL it is one statement
    (`WITH won AS (UPDATE ... RETURNING 1) INSERT ... SELECT ... FROM won`): one round trip,
    atomic on its own, no BEGIN and COMMIT. Elsewhere the two statements run in a transaction.
    Returns whether the UPDATE matched; `new` is saved exactly when it did. Like
    `QuerySet.update`, it leaves `auto_now` fields alone.
    """
    connection = connections[using]
    update = rows.update_statement(using=using, fields=tuple(changes))
    update_params = update.bind(connection, where=where, changes=changes)
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using, savepoint=False):
            with connection.cursor() as cursor:
                cursor.execute(update.sql, update_params)
                if not cursor.rowcount:
                    return False
            new.save(force_insert=True, using=using)
            return True

    fields, insert_sql = _insert_from_won(type(new), using)
    params = _values_to_save(new, fields, connection)
    statement = f"WITH won AS ({update.sql} RETURNING 1) {insert_sql}"
    with connection.cursor() as cursor:
        cursor.execute(statement, [*update_params, *params])
        inserted = cursor.rowcount
    if inserted:
        new._state.adding = False
        new._state.db = using
    return bool(inserted)


def insert(row: Model, *, using: str = "default") -> None:
    """Save `row`, a new one, as `QuerySet.create` would, with an INSERT built once per model.

    For the hot paths' own row (a trigger's record): building and compiling the InsertQuery of
    every save cost more than PostgreSQL's work on it. Fields' `pre_save` (`auto_now_add`, ...)
    and database preparation apply as in a save; the primary key must be one Python gives.
    """
    connection = connections[using]
    fields, statement = _insert_values(type(row), using)
    with connection.cursor() as cursor:
        cursor.execute(statement, _values_to_save(row, fields, connection))
    row._state.adding = False
    row._state.db = using


def _values_to_save(row: Model, fields: list[Any], connection: Any) -> list[Any]:
    """Each field's value of a new row as a save writes it (`pre_save`, then the database's form)."""
    return [field.get_db_prep_save(field.pre_save(row, add=True), connection) for field in fields]


@functools.cache
def _insert_columns(model: type[Model], using: str) -> tuple[list[Any], str, str]:
    """The fields a new row of `model` is written with, its quoted table and its column list."""
    quote = connections[using].ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)
    return fields, quote(model._meta.db_table), columns


@functools.cache
def _insert_values(model: type[Model], using: str) -> tuple[list[Any], str]:
    """The fields `insert` writes for `model`, and its INSERT ... VALUES."""
    pk = model._meta.pk
    assert pk is not None and not pk.db_returning, "insert() needs a primary key set in Python"
    fields, table, columns = _insert_columns(model, using)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names come from the model; every value is a parameter.
    return fields, f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608


@functools.cache
def _insert_from_won(model: type[Model], using: str) -> tuple[list[Any], str]:
    """The fields `update_then_insert` writes for `model`, and its INSERT ... SELECT ... FROM won."""
    connection = connections[using]
    fields, table, columns = _insert_columns(model, using)
    # Typed placeholders: in INSERT ... SELECT a bare literal would be text, and PostgreSQL has no
    # assignment cast from text to uuid, timestamptz or jsonb.
    values = ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields)
    # Names come from the model; every value is a parameter.
    return fields, f"INSERT INTO {table} ({columns}) SELECT {values} FROM won LIMIT 1"  # noqa: S608


class Param(Expression):
    """A value a `Prepared` statement leaves open: given anew each time it runs.

    Compiled, it is a placeholder whose parameter is the Param itself, so that the compiled
    statement says where each value goes. Its field is the one it is compared with (in a filter)
    or written to (`for_save`, in an UPDATE), and prepares the value as the ORM would there.
    """

    def __init__(self, name: str, *, field: "Field[Any, Any] | None" = None, for_save: bool = False) -> None:
        super().__init__()
        self.name = name
        self.meets = field
        self.for_save = for_save

    def _resolve_output_field(self) -> "Field[Any, Any] | None":
        return self.meets

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return "%s", (self,)

    def prepare(self, value: Any, connection: Any) -> Any:
        field = cast("Field[Any, Any]", self.meets)
        if not self.for_save:
            return field.get_db_prep_value(value, connection)
        if hasattr(value, "prepare_database_save"):
            # A model instance written to its foreign key is its key, as in QuerySet.update.
            value = value.prepare_database_save(field)
        return field.get_db_prep_save(value, connection)


@dataclass(frozen=True)
class _Statement:
    sql: str
    # Each parameter of `sql`: an open Param or a value fixed when the statement was built.
    params: tuple[Any, ...]

    def bind(
        self, connection: Any, *, where: dict[str, Any], changes: dict[str, Any] | None = None
    ) -> list[Any]:
        changed = changes or {}
        return [
            param.prepare((changed if param.for_save else where)[param.name], connection)
            if isinstance(param, Param)
            else param
            for param in self.params
        ]


@dataclass(frozen=True)
class _Plan:
    statement: _Statement
    model: type[Model]
    init_list: list[str]
    columns: slice
    related_populators: list[Any]
    converters: list[tuple[int, list[Any], Any]]


def _compare_params(where: WhereNode) -> None:
    """Give each Param of a filter the field it is compared with."""
    for child in where.children:
        if isinstance(child, WhereNode):
            _compare_params(child)
        elif isinstance(child, Lookup) and isinstance(child.rhs, Param):
            child.rhs.meets = child.lhs.output_field


class Prepared[M: Model]:
    """Statements over the rows of one fixed filter, built and compiled once per process and database.

    For the hot paths, whose lookups and conditional writes are the same statement with new
    values every request: building the QuerySet and compiling it cost several times what running
    the SQL does. `build` returns the QuerySet with a `Param` for each open value (only as the
    right side of a filter's comparison). `one` runs the compiled SELECT with the values and
    makes the instance (and its `select_related` ones) as the ORM would, converters included;
    `update_then_insert` writes through `update_statement`.
    """

    def __init__(self, build: Callable[[], QuerySet[M]]) -> None:
        self._build = build
        self._plans: dict[str, _Plan] = {}
        self._updates: dict[tuple[str, tuple[str, ...]], _Statement] = {}

    def _plan(self, using: str) -> _Plan:
        query = self._build().query.clone()
        # As `get` asks: in no order, two rows at most (enough to tell one from more than one).
        query.clear_ordering(force=True)
        query.set_limits(high=2)
        _compare_params(query.where)
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        assert klass_info is not None, "a Prepared lookup selects model rows"
        select_fields = klass_info["select_fields"]
        columns = slice(select_fields[0], select_fields[-1] + 1)
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        return _Plan(
            statement=_Statement(sql=sql, params=tuple(params)),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in compiler.select[columns]],
            columns=columns,
            related_populators=get_related_populators(klass_info, compiler.select, using, FETCH_ONE),
            converters=[
                (position, convs, expression) for position, (convs, expression) in converters.items()
            ],
        )

    def one(self, *, using: str = "default", **values: Any) -> M | None:
        """The row these values find, or None; MultipleObjectsReturned if they find more."""
        plan = self._plans.get(using)
        if plan is None:
            plan = self._plans[using] = self._plan(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(plan.statement.sql, plan.statement.bind(connection, where=values))
            rows = cursor.fetchall()
        if not rows:
            return None
        if len(rows) > 1:
            # Not the values: they may be a credential's digest.
            raise plan.model.MultipleObjectsReturned(  # type: ignore[attr-defined]
                f"more than one {plan.model.__name__} for one lookup"
            )
        row = list(rows[0])
        for position, convs, expression in plan.converters:
            for converter in convs:
                row[position] = converter(row[position], expression, connection)
        # FETCH_ONE: what a QuerySet's instances get unless told otherwise.
        instance = plan.model.from_db(using, plan.init_list, row[plan.columns], fetch_mode=FETCH_ONE)
        for populator in plan.related_populators:
            populator.populate(row, instance)
        return cast(M, instance)

    def update_statement(self, *, using: str, fields: tuple[str, ...]) -> _Statement:
        """The UPDATE of these fields of the rows the filter finds, each new value a Param."""
        statement = self._updates.get((using, fields))
        if statement is None:
            query = cast(UpdateQuery, self._build().query.chain(UpdateQuery))
            _compare_params(query.where)
            meta = query.get_meta()
            query.add_update_values(
                {
                    name: Param(name, field=cast("Field[Any, Any]", meta.get_field(name)), for_save=True)
                    for name in fields
                }
            )
            sql, params = query.get_compiler(using=using).as_sql()
            statement = self._updates[(using, fields)] = _Statement(sql=sql, params=tuple(params))
        return statement
