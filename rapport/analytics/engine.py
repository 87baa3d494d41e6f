"""The analytics engine: DuckDB over a columnar snapshot of the orders that count and the cards.

Reports over a whole company (an admin's or an analyst's, who see every card) read millions of
order lines; walking them row by row in Python takes tens of seconds. Above
``RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS`` orders such reports are computed by DuckDB instead, over
a snapshot it keeps in ``RAPPORT_HOME/analytics/snapshot.duckdb``:

* ``orders(card_id, ordered_on, currency, total)``: the orders that count (confirmed or
  delivered, not waiting for or refused a credit decision), sorted by card and day;
* ``cards(id, external_id, name, kind, owner_id, team_id, owner, team, archived)``.

The snapshot is read straight from the live database by DuckDB's own scanners (SQLite and
PostgreSQL; their extension packages are dependencies, so nothing is downloaded), and rebuilt
whenever the database has changed since: a fingerprint of both tables (rows, highest id,
latest change, archived cards) is compared before each report, and a rebuild happens under a
file lock so one process at a time does it. The reports computed here give the same rows as
the pure-Python reports in ``selectors`` (a test holds them to it); smaller installations and
every report of a user who does not see everything keep to the Python path, which reads
through the visibility function.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

DEFAULT_MIN_ORDERS = 200_000
SNAPSHOT_NAME = "snapshot.duckdb"
LOCK_NAME = "snapshot.lock"


def min_orders() -> int:
    """Orders from which a report for a user who sees everything goes through the engine."""
    return int(getattr(settings, "RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS", DEFAULT_MIN_ORDERS))


def directory() -> Path:
    configured = getattr(settings, "RAPPORT_ANALYTICS_DIR", None)
    return Path(configured) if configured else Path(settings.HOME) / "analytics"


def fingerprint() -> tuple[Any, ...]:
    """What changes whenever an order or a card does: rows, highest id and latest change of each
    table (both read from indexes, except the cards' latest change), and how many cards are archived."""
    from rapport.cards.models import Card
    from rapport.commerce.models import Order

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), max(id), max(updated_at) FROM {Order._meta.db_table}")
        orders = cursor.fetchone()
        cursor.execute(f"SELECT count(*), max(id), max(updated_at), count(archived_at) FROM {Card._meta.db_table}")
        cards = cursor.fetchone()
    return tuple(str(value) for value in (*orders, *cards))


# A user who sees fewer live cards than this is answered by the Python path whatever the size
# of the database: a few thousand customers are read faster than a snapshot is opened.
MIN_VISIBLE_CARDS = 5_000


@dataclass(frozen=True)
class Plan:
    """How the engine restricts a report to what a user may see: ``None`` for every card, or
    the ids of the live cards ``visible_to`` gives the user."""

    card_ids: list[int] | None


def plan(user: Any) -> Plan | None:
    """Whether a report of this user goes through the engine, and over which cards; ``None``
    keeps it on the Python path (few orders in the database, or few cards for this user).
    Visibility stays the one policy: a user who does not see everything is handed the ids that
    ``visible_to`` answers."""
    from rapport.commerce.models import Order
    from rapport.core.visibility import scope_for, visible_to

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    threshold = min_orders()
    if threshold > 0 and Order.objects.order_by().count() < threshold:
        return None
    if scope_for(user).sees_everything:
        return Plan(card_ids=None)
    ids = list(visible_to(user).filter(archived_at__isnull=True).order_by().values_list("id", flat=True))
    if threshold > 0 and len(ids) < MIN_VISIBLE_CARDS:
        return None
    return Plan(card_ids=ids)


def restrict(con: Any, chosen: Plan) -> str:
    """Registers the plan's card ids in ``con`` and returns the condition on ``c.id`` it adds."""
    if chosen.card_ids is None:
        return "true"
    import numpy

    con.register("visible_cards", {"id": numpy.array(chosen.card_ids, dtype=numpy.int64)})
    return "c.id IN (SELECT id FROM visible_cards)"


def open_snapshot() -> Any:
    """An in-memory DuckDB connection with a snapshot that matches the database now attached
    read-only as ``snap``. The caller closes it; temporary tables of a report live in it."""
    import duckdb
    from filelock import FileLock

    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SNAPSHOT_NAME
    con = duckdb.connect()
    recent = time.monotonic() - _matched.get(str(path), -math.inf) < recheck_seconds()
    if recent and _stored_fingerprint(path) is not None:
        con.execute(f"ATTACH {literal(str(path))} AS snap (READ_ONLY)")
        return con
    current = "|".join(fingerprint())
    with FileLock(str(folder / LOCK_NAME), timeout=600):
        if _stored_fingerprint(path) != current:
            _build(path, current)
        con.execute(f"ATTACH {literal(str(path))} AS snap (READ_ONLY)")
    _matched[str(path)] = time.monotonic()
    return con


# When each snapshot last matched the database, in this process: within
# RAPPORT_ANALYTICS_RECHECK_SECONDS of it the database is not fingerprinted again.
_matched: dict[str, float] = {}
DEFAULT_RECHECK_SECONDS = 60


def recheck_seconds() -> float:
    """How long a snapshot that matched the database is used without checking again (the
    fingerprint reads every card): company-wide figures may lag a change by up to this long."""
    return float(getattr(settings, "RAPPORT_ANALYTICS_RECHECK_SECONDS", DEFAULT_RECHECK_SECONDS))


def _stored_fingerprint(path: Path) -> str | None:
    """The fingerprint the snapshot was built at, kept in a small file beside it (cheaper to
    read than opening the snapshot), or ``None`` when there is no usable snapshot."""
    marker = path.with_name(path.name + ".fingerprint")
    if not path.exists() or not marker.exists():
        return None
    return marker.read_text(encoding="utf-8")


def _build(path: Path, current: str) -> None:
    """Writes a new snapshot beside the old one and swaps it in, so a reader never sees half of one."""
    import duckdb

    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    try:
        source = _attach(con)
        if source is None:
            _copy_through_django(con)
        else:
            _copy_from(con, source)
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        con.execute("INSERT INTO meta VALUES ('fingerprint', ?), ('built_at', ?)",
                    [current, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    marker = path.with_name(path.name + ".fingerprint")
    marker.unlink(missing_ok=True)  # no marker while the files change: a crash here means a rebuild
    os.replace(temporary, path)
    temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    marker.write_text(current, encoding="utf-8")


def _extension(name: str) -> str:
    """The path of a scanner extension shipped in its Python package."""
    import importlib

    import duckdb

    package = importlib.import_module(f"duckdb_extension_{name}")
    folder = Path(package.__file__ or "").parent / "extensions" / f"v{duckdb.__version__}"
    return str(folder / f"{name}.duckdb_extension")


def _attach(con: Any) -> str | None:
    """Attaches the live database read-only as ``db``; ``None`` when another connection cannot
    see what this one sees (an in-memory SQLite database, or inside a transaction, as in tests)."""
    vendor = connection.vendor
    database = connection.settings_dict
    if connection.in_atomic_block:  # another connection would not see this transaction's writes
        return None
    if vendor == "sqlite":
        name = str(database["NAME"])
        if name == ":memory:" or "mode=memory" in name or not Path(name).exists():
            return None
        con.execute(f"LOAD {literal(_extension('sqlite_scanner'))}")
        con.execute(f"ATTACH {literal(name)} AS db (TYPE sqlite, READ_ONLY)")
        return "db"
    if vendor == "postgresql":
        parts = {"dbname": database.get("NAME"), "host": database.get("HOST"), "port": database.get("PORT"),
                 "user": database.get("USER"), "password": database.get("PASSWORD")}
        dsn = " ".join(f"{key}={_quote(str(value))}" for key, value in parts.items() if value)
        con.execute(f"LOAD {literal(_extension('postgres_scanner'))}")
        con.execute(f"ATTACH {literal(dsn)} AS db (TYPE postgres, READ_ONLY)")
        return "db"
    return None


def literal(value: str) -> str:
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + value.replace("'", "''") + "'"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _order_filter() -> tuple[str, list[str]]:
    from rapport.commerce.models import COUNTED_ORDER, Approval

    statuses = [str(s) for s in COUNTED_ORDER]
    refused = [str(Approval.PENDING), str(Approval.REFUSED)]
    marks = ", ".join("?" for _ in statuses)
    not_marks = ", ".join("?" for _ in refused)
    return f"status IN ({marks}) AND approval NOT IN ({not_marks})", [*statuses, *refused]


def _copy_from(con: Any, source: str) -> None:
    from rapport.accounts.models import Team, User
    from rapport.cards.models import Card
    from rapport.commerce.models import Order

    where, params = _order_filter()
    con.execute(
        f"CREATE TABLE orders AS SELECT card_id::BIGINT AS card_id, ordered_on::DATE AS ordered_on, "
        f"currency::VARCHAR AS currency, total::DECIMAL(18, 4) AS total "
        f"FROM {source}.{Order._meta.db_table} WHERE {where} ORDER BY card_id, ordered_on", params)
    con.execute(
        f"CREATE TABLE cards AS SELECT c.id::BIGINT AS id, c.external_id::VARCHAR AS external_id, "
        f"c.display_name::VARCHAR AS name, c.kind::VARCHAR AS kind, c.owner_id::BIGINT AS owner_id, "
        f"c.team_id::BIGINT AS team_id, coalesce(u.username, '')::VARCHAR AS owner, "
        f"coalesce(t.name, '')::VARCHAR AS team, c.archived_at IS NOT NULL AS archived "
        f"FROM {source}.{Card._meta.db_table} c "
        f"LEFT JOIN {source}.{User._meta.db_table} u ON u.id = c.owner_id "
        f"LEFT JOIN {source}.{Team._meta.db_table} t ON t.id = c.team_id")


def _copy_through_django(con: Any) -> None:
    """The same tables read through Django's connection, for a database DuckDB cannot reach."""
    from rapport.cards.models import Card
    from rapport.commerce.evidence import counted_orders

    con.execute("CREATE TABLE orders (card_id BIGINT, ordered_on DATE, currency VARCHAR, total DECIMAL(18, 4))")
    con.execute("CREATE TABLE cards (id BIGINT, external_id VARCHAR, name VARCHAR, kind VARCHAR, owner_id BIGINT, "
                "team_id BIGINT, owner VARCHAR, team VARCHAR, archived BOOLEAN)")
    orders = counted_orders().order_by("card_id", "ordered_on").values_list("card_id", "ordered_on", "currency", "total")
    _insert(con, "orders", 4, orders.iterator(chunk_size=10_000))
    columns = ("id", "external_id", "display_name", "kind", "owner_id", "team_id", "owner__username", "team__name",
               "archived_at")
    cards = ((*row[:6], row[6] or "", row[7] or "", row[8] is not None)
             for row in Card.objects.order_by().values_list(*columns).iterator(chunk_size=10_000))
    _insert(con, "cards", 9, cards)


def _insert(con: Any, table: str, width: int, rows: Iterator[Any]) -> None:
    marks = ", ".join("?" for _ in range(width))
    batch: list[Any] = []
    for row in rows:
        batch.append(list(row))
        if len(batch) == 10_000:
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
            batch = []
    if batch:
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)


def rates_values() -> tuple[str, list[Any]]:
    """The exchange rates as an inline table ``rates(currency, valid_from, rate)`` for a query,
    with its parameters (the table is small: a row per currency and date)."""
    from rapport.commerce.models import ExchangeRate

    rows = list(ExchangeRate.objects.order_by("currency", "valid_from").values_list("currency", "valid_from", "rate"))
    if not rows:
        return "SELECT NULL::VARCHAR AS currency, NULL::DATE AS valid_from, NULL::DECIMAL(18, 8) AS rate WHERE false", []
    values = ", ".join("(?, ?::DATE, ?::DECIMAL(18, 8))" for _ in rows)
    params = [value for row in rows for value in (row[0], row[1], str(row[2]))]
    return f"SELECT * FROM (VALUES {values}) AS r(currency, valid_from, rate)", params
