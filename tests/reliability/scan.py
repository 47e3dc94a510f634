"""Looking for what must not be kept: every column of every table, and log text."""

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode(errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def database_holding(needles: Iterable[str]) -> dict[str, set[str]]:
    """{needle: {"table.column", ...}} for every needle found in any cell of any table.

    Tables and columns come from the database's own catalogue (Django's introspection), so a
    table added tomorrow is scanned too. Every column is read as text, JSON included.
    """
    wanted = [needle for needle in needles if needle]
    found: dict[str, set[str]] = defaultdict(set)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                column.name for column in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _as_text(value)
                    for needle in wanted:
                        if needle in text:
                            found[needle].add(f"{table}.{column}")
    return dict(found)


def text_holding(text: str, needles: Iterable[str]) -> list[str]:
    return [needle for needle in needles if needle and needle in text]
