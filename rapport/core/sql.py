"""Names for SQL written by hand: a model's table and a field's column, quoted for the database.

Hot reads (the card page's "has this card any rows?" probes, the token's user) are written out
once per process instead of compiled by the ORM on every request; the names still come from the
models, so a renamed table or column cannot leave a statement behind.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.db import connection
from django.db.models import Field


_statements: dict[tuple[str, Hashable], str] = {}


def statement(key: Hashable, build: Callable[[], str]) -> str:
    """A statement written by hand, built by ``build`` once per process and database vendor
    (quoting every name again on each request costs more than running some of them)."""
    cache_key = (connection.vendor, key)
    found = _statements.get(cache_key)
    if found is None:
        found = _statements[cache_key] = build()
    return found


def table(model: Any) -> str:
    """A model's table, quoted."""
    return str(connection.ops.quote_name(model._meta.db_table))


def column(model: Any, name: str) -> str:
    """A model field's column, quoted."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column is not None
    return str(connection.ops.quote_name(field.column))


class _Reader:
    """How to read one model's rows by hand: its columns in order, and the converters Django
    applies to each value read (date-times made aware, JSON decoded, encrypted fields opened)."""

    def __init__(self, model: Any) -> None:
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.converters = []
        for index, field in enumerate(self.fields):
            found = connection.ops.get_db_converters(field.get_col(model._meta.db_table)) + field.get_db_converters(connection)
            if found:
                self.converters.append((index, field, found))


_readers: dict[tuple[Any, str], _Reader] = {}


def _reader(model: Any) -> _Reader:
    key = (model, connection.vendor)
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = _Reader(model)
    return reader


def select_columns(model: Any, alias: str) -> str:
    """Every column of the model under ``alias``, in the order ``from_row`` reads them."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in _reader(model).fields)


def width(model: Any) -> int:
    """How many values of a row ``select_columns`` selects."""
    return len(_reader(model).fields)


def from_row(model: Any, row: Any) -> Any:
    """A model instance from the first ``width(model)`` values of a row read by hand, exactly as
    the ORM would have loaded it: a third of the cost of ``Model.objects.raw``, which works out
    the same mapping again for every statement."""
    reader = _reader(model)
    values = list(row[: len(reader.fields)])
    for index, field, converters in reader.converters:
        value = values[index]
        for convert in converters:
            value = convert(value, field, connection)
        values[index] = value
    return model.from_db(connection.alias, reader.attnames, values)


def exists(model: Any, where: str) -> str:
    """``EXISTS (SELECT 1 FROM <the model's table> WHERE <where>)``: one question of a probe,
    a statement asking at once which kinds of rows a card has, so that a page reads only those
    (most cards have no orders, deals, visits or decision unit, and compiling a queryset that
    finds nothing costs far more CPU than the database's look-up in an index)."""
    return f"EXISTS (SELECT 1 FROM {table(model)} WHERE {where})"


def one_row(statement: str, params: list[Any]) -> tuple[Any, ...]:
    """The one row a statement written by hand answers (a probe's answers, in order)."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return tuple(cursor.fetchone())
