"""Names for SQL written by hand: a model's table and a field's column, quoted for the database.

Hot reads (the card page's "has this card any rows?" probes, the token's user) are written out
once per process instead of compiled by the ORM on every request; the names still come from the
models, so a renamed table or column cannot leave a statement behind.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Field


def table(model: Any) -> str:
    """A model's table, quoted."""
    return str(connection.ops.quote_name(model._meta.db_table))


def column(model: Any, name: str) -> str:
    """A model field's column, quoted."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column is not None
    return str(connection.ops.quote_name(field.column))
