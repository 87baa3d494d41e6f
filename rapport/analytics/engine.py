"""The analytics engine: DuckDB over a columnar snapshot of the orders that count and the cards.

Reports over a whole company (an admin's or an analyst's, who see every card) read millions of
order lines; walking them row by row in Python takes tens of seconds. Above
``RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS`` orders such reports are computed by DuckDB instead, over
a snapshot it keeps in ``RAPPORT_HOME/analytics/snapshot.duckdb``:

* ``orders(card_id, ordered_on, currency, total, discounts, goods, uncosted)``: the orders that
  count (confirmed or delivered, not waiting for or refused a credit decision), sorted by card
  and day, with what their lines add up to for the profitability report: the discounts given
  (quantity × unit price − amount, in the order's currency), the cost of goods (quantity × the
  product's unit cost, in the reporting currency) and the lines without a unit cost;
* ``cards(id, external_id, name, kind, owner_id, team_id, owner, team, archived, name_rank)``,
  ``name_rank`` the card's place in the reports' name order.

The snapshot is read straight from the live database by DuckDB's own scanners (SQLite and
PostgreSQL; their extension packages are dependencies, so nothing is downloaded), and rebuilt
whenever the database has changed since: a fingerprint of the orders and cards (rows, highest id,
latest change, archived cards), the highest order line id and the products (rows, highest id,
latest change, unit costs) is compared at most once per ``recheck_seconds`` (once a process
has a snapshot, in a thread of its own: see ``session``), and a rebuild happens under a file
lock so one process at a time does it. The reports computed here give the same rows as the
pure-Python reports in ``selectors`` (tests hold them to it); smaller installations, and users
who see fewer than ``MIN_VISIBLE_CARDS`` live cards, keep to the Python path. A user who sees
more but not everything is handed the ids ``visible_to`` gives.

Each process keeps the snapshot it last matched attached to a DuckDB database of its own
(``session``), with the per-customer measures of the reports computed from it once per as-of
date (each customer's purchase history for churn; recency, frequency and monetary value for
RFM) and the churn priors fitted per population. A report then only filters those rows by the
cards the user may see, fits or reuses the prior of that population, and scores or ranks them:
every customer is still judged against the population the user sees, as on the Python path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

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
    table (both read from indexes, except the cards' latest change), and how many cards are archived;
    the highest order line id (lines are written with their order, whose latest change moves, and
    replaced lines get new ids); the products' rows, highest id, latest change and unit costs (a
    catalogue is small: the cost of goods kept per order follows a changed unit cost)."""
    from rapport.cards.models import Card
    from rapport.commerce.models import Order, OrderLine, Product

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), max(id), max(updated_at) FROM {Order._meta.db_table}")
        orders = cursor.fetchone()
        cursor.execute(f"SELECT count(*), max(id), max(updated_at), count(archived_at) FROM {Card._meta.db_table}")
        cards = cursor.fetchone()
        cursor.execute(f"SELECT max(id) FROM {OrderLine._meta.db_table}")
        lines = cursor.fetchone()
        cursor.execute(f"SELECT count(*), max(id), max(updated_at), count(unit_cost), sum(unit_cost) "
                       f"FROM {Product._meta.db_table}")
        products = cursor.fetchone()
    return tuple(str(value) for value in (*orders, *cards, *lines, *products))


# The layout of the snapshot's tables: a snapshot written in another layout is rebuilt.
LAYOUT = 3


def _current() -> str:
    """What the stored fingerprint of a snapshot that matches the database now reads."""
    return "|".join((f"layout {LAYOUT}", *fingerprint()))


# A user who sees fewer live cards than this is answered by the Python path whatever the size
# of the database: a few thousand customers are read faster than a snapshot is opened.
MIN_VISIBLE_CARDS = 5_000


@dataclass(frozen=True)
class Plan:
    """How the engine restricts a report to what a user may see: ``None`` for every card, or
    the ids of the live cards ``visible_to`` gives the user. The ids as an array and their
    digest are computed once per plan (the reports of one request share it)."""

    card_ids: list[int] | None

    @cached_property
    def array(self) -> Any:
        import numpy

        return numpy.array(self.card_ids or [], dtype=numpy.int64)

    @cached_property
    def digest(self) -> str:
        """``all``, or a digest of the sorted ids (two users who see the same cards share it)."""
        if self.card_ids is None:
            return "all"
        import numpy

        ids = numpy.sort(self.array)  # the ids of visible_to are distinct
        return hashlib.blake2b(ids.tobytes(), digest_size=16).hexdigest()


def plan(user: Any) -> Plan | None:
    """Whether a report of this user goes through the engine, and over which cards; ``None``
    keeps it on the Python path (few orders in the database, or few cards for this user).
    Visibility stays the one policy: a user who does not see everything is handed the ids that
    ``visible_to`` answers."""
    from rapport.core.visibility import scope_for, visible_to

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    threshold = min_orders()
    if threshold > 0 and not _big(threshold):
        return None
    if scope_for(user).sees_everything:
        return Plan(card_ids=None)
    cached = getattr(user, "_rapport_analytics_plan", None)
    if cached is not None and time.monotonic() - cached[0] < VISIBLE_IDS_SECONDS:
        chosen = cached[1]
    else:
        chosen = Plan(card_ids=_visible_ids(user, visible_to))
        user._rapport_analytics_plan = (time.monotonic(), chosen)
    if threshold > 0 and len(chosen.card_ids or ()) < MIN_VISIBLE_CARDS:
        return None
    return chosen


# How long the visible ids read for a user object serve its next reports: the reports of one
# request (a dashboard reads churn and RFM) read them once, as the user's Scope is computed
# once per request.
VISIBLE_IDS_SECONDS = 5.0


def _visible_ids(user: Any, visible_to: Callable[[Any], Any]) -> list[int]:
    cached = getattr(user, "_rapport_analytics_ids", None)
    if cached is not None and time.monotonic() - cached[0] < VISIBLE_IDS_SECONDS:
        return list(cached[1])
    sql, params = visible_to(user).filter(archived_at__isnull=True).order_by().values_list("id").query.sql_with_params()
    with connection.cursor() as cursor:  # the ids as they come: no model rows, no per-row conversion
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    user._rapport_analytics_ids = (time.monotonic(), ids)
    return ids


# Whether the database held at least a threshold of orders, and when that was seen, per
# threshold: the answer only picks the path, and both paths give the same rows, so it is
# reused for RAPPORT_ANALYTICS_RECHECK_SECONDS like the snapshot.
_sizes: dict[int, tuple[bool, float]] = {}


def _big(threshold: int) -> bool:
    """Whether there are at least ``threshold`` orders: the threshold-th row looked up in the
    primary key index, not a count of every order."""
    from rapport.commerce.models import Order

    seen = _sizes.get(threshold)
    if seen is not None and time.monotonic() - seen[1] < recheck_seconds():
        return seen[0]
    big = Order.objects.order_by("id").values_list("id", flat=True)[threshold - 1:threshold].exists()
    _sizes[threshold] = (big, time.monotonic())
    return big


def restrict(con: Any, chosen: Plan, column: str = "c.id") -> str:
    """The condition on ``column`` that keeps the plan's cards, read from a table of their ids
    (``visible_table``)."""
    if chosen.card_ids is None:
        return "true"
    return f"{column} IN (SELECT id FROM {visible_table(con, chosen)})"


def visible_table(con: Any, chosen: Plan) -> str:
    """The name of a table of the plan's card ids: one per population, kept by the session with
    its measures (the reports of a request, and the next requests of the same user, read the
    same one); ``visible_cards`` in ``con`` when there is no session (a report over a snapshot
    opened by ``open_snapshot``)."""
    holder = _sessions.get(str(directory() / SNAPSHOT_NAME))
    if holder is not None and holder.owns(con):
        return holder.visible(chosen)
    # Copied into a table of the connection once: a registered array is read through Python
    # by every query that names it.
    con.register("visible_ids", {"id": chosen.array})
    con.execute("CREATE OR REPLACE TEMP TABLE visible_cards AS SELECT id FROM visible_ids")
    con.unregister("visible_ids")
    return "visible_cards"


def population(chosen: Plan) -> str:
    """A key of the cards a plan covers: ``all``, or a digest of the sorted ids (two users who
    see the same cards share the priors fitted on them)."""
    return chosen.digest


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
    current = _current()
    with FileLock(str(folder / LOCK_NAME), timeout=600):
        if _stored_fingerprint(path) != current:
            _build(path, current)
        con.execute(f"ATTACH {literal(str(path))} AS snap (READ_ONLY)")
    _matched[str(path)] = time.monotonic()
    return con


T = TypeVar("T")
DEFAULT_CACHED_MEASURES = 6


def cached_measures() -> int:
    """How many tables of per-customer measures (one per report kind, as-of date and window) a
    process keeps: each holds a narrow row per customer (tens of MB for a million customers)."""
    return max(1, int(getattr(settings, "RAPPORT_ANALYTICS_CACHED_MEASURES", DEFAULT_CACHED_MEASURES)))


DEFAULT_CACHED_REPORTS = 16


def cached_reports() -> int:
    """How many reports of part of the customers (a rep's, a manager's, a team's: a row per
    customer of that part) a process keeps for the next request that asks the same."""
    return max(0, int(getattr(settings, "RAPPORT_ANALYTICS_CACHED_REPORTS", DEFAULT_CACHED_REPORTS)))


class Session:
    """One snapshot attached read-only to an in-memory DuckDB database of this process, with the
    per-customer measures and the priors computed from it so far.

    Reports read through cursors of their own (``cursor``: a connection to the same database),
    each into a table named by ``unique`` that goes with the report. Measures are built, read
    into a report's rows and dropped under ``lock``, so a table is never dropped while a report
    reads it."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        import duckdb

        self.path = path
        self.fingerprint = fingerprint
        self.lock = threading.RLock()
        self._con = duckdb.connect()
        self._con.execute(f"ATTACH {literal(str(path))} AS snap (READ_ONLY)")
        self._tables: OrderedDict[Hashable, str] = OrderedDict()
        self._builders: dict[Hashable, Callable[[Any, str], None]] = {}
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._reports: OrderedDict[Hashable, str] = OrderedDict()
        self._leases: dict[str, int] = {}
        self._serial = 0
        self._visible: OrderedDict[Hashable, str] = OrderedDict()
        self._cursors: weakref.WeakSet[Any] = weakref.WeakSet()

    def cursor(self) -> Any:
        with self.lock:  # the shared connection is used by one thread at a time
            cursor = self._con.cursor()
            self._cursors.add(cursor)
            return cursor

    def owns(self, con: Any) -> bool:
        """Whether ``con`` is a cursor of this session's database."""
        return con in self._cursors

    def visible(self, chosen: Plan) -> str:
        """The name of the table of the plan's card ids, made the first time (the 16 most
        recently used populations kept)."""

        def build(con: Any, name: str) -> None:
            cursor = con.cursor()
            try:
                cursor.register("visible_ids", {"id": chosen.array})
                cursor.execute(f"CREATE TABLE {name} AS SELECT id FROM visible_ids")
                cursor.unregister("visible_ids")
            finally:
                cursor.close()

        with self.lock:
            return self._kept(self._visible, chosen.digest, "visible", build, keep=16)

    def unique(self, prefix: str) -> str:
        """A table name no other report of this session uses (a report's rows live in the
        shared database, so that a second cursor can read them while pages are read)."""
        with self.lock:
            self._serial += 1
            return f"{prefix}_{self._serial}"

    def measures(self, key: Hashable, build: Callable[[Any, str], None]) -> str:
        """The name of the table of ``key``, made the first time by ``build(connection, name)``
        (which creates it); the least recently used ones beyond ``cached_measures`` are dropped.
        Call with ``lock`` held while the table is read."""
        with self.lock:
            if key not in self._tables:  # kept to compute the same measures over the next snapshot (``warm``)
                self._builders[key] = build
            return self._kept(self._tables, key, "measures", build, keep=cached_measures(),
                              forget=lambda dropped: self._builders.pop(dropped, None))

    def _kept(self, tables: OrderedDict[Hashable, str], key: Hashable, prefix: str,
              build: Callable[[Any, str], None], *, keep: int, forget: Callable[[Hashable], Any] | None = None) -> str:
        """The name of the table of ``key`` in ``tables``, made the first time by ``build(connection,
        name)``; the least recently used beyond ``keep`` are dropped (``forget`` told of each key).
        Call with ``lock`` held."""
        name = tables.get(key)
        if name is not None:
            tables.move_to_end(key)
            return name
        self._serial += 1
        name = f"{prefix}_{self._serial}"
        build(self._con, name)
        tables[key] = name
        while len(tables) > keep:
            dropped, old = tables.popitem(last=False)
            if forget is not None:
                forget(dropped)
            self._con.execute(f"DROP TABLE IF EXISTS {old}")
        return name

    def warm(self, other: Session) -> None:
        """Computes the measures ``other`` holds, over this session's snapshot."""
        with other.lock:
            wanted = [(key, other._builders[key]) for key in other._tables if key in other._builders]
        for key, build in wanted:
            self.measures(key, build)

    def report(self, key: Hashable, con: Any, build: Callable[[Any, str], None]) -> str:
        """The name of the rows table of the report ``key``, made the first time by ``build(con,
        name)``, and leased to the caller until ``release``: the least recently used ones beyond
        ``cached_reports`` are dropped once no report reads them."""
        with self.lock:
            name = self._reports.get(key)
            if name is None:
                name = self.unique("report")
                build(con, name)
                self._reports[key] = name
                while len(self._reports) > cached_reports():
                    _key, old = self._reports.popitem(last=False)
                    if not self._leases.get(old):
                        self._con.execute(f"DROP TABLE IF EXISTS {old}")
            else:
                self._reports.move_to_end(key)
            self._leases[name] = self._leases.get(name, 0) + 1
            return name

    def release(self, name: str) -> None:
        """A report read from the table ``name`` is gone: dropped if no longer kept nor read."""
        with self.lock:
            left = self._leases.get(name, 1) - 1
            if left > 0:
                self._leases[name] = left
                return
            self._leases.pop(name, None)
            if name not in self._reports.values():
                self._con.execute(f"DROP TABLE IF EXISTS {name}")

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A small value computed once per key (a prior fitted on a population), the 256 most
        recently used kept."""
        with self.lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
            value = compute()
            self._memo[key] = value
            while len(self._memo) > 256:
                self._memo.popitem(last=False)
            return value


_sessions: dict[str, Session] = {}
_sessions_lock = threading.Lock()


def session() -> Session:
    """The session of the snapshot that matches the database now (rebuilt first if it does not),
    reused within ``recheck_seconds`` of the last match without fingerprinting the database.

    Past that, a process that already has a session keeps answering from it while a thread of
    its own fingerprints the database, rebuilds the snapshot if it changed and computes the
    measures the old session held over the new one before putting it in its place
    (``RAPPORT_ANALYTICS_REFRESH_IN_BACKGROUND``, on by default): no report waits for the
    fingerprint, a rebuild or the measures of a rebuilt snapshot, and company-wide figures lag
    a change by up to ``recheck_seconds`` plus the time of that refresh."""
    from filelock import FileLock

    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SNAPSHOT_NAME
    key = str(path)
    lock = str(folder / LOCK_NAME)
    current = _sessions.get(key)
    recheck = recheck_seconds()
    fresh = time.monotonic() - _matched.get(key, -math.inf) < recheck
    if current is not None and recheck > 0 and refresh_in_background():
        if not fresh or _stored_fingerprint(path) != current.fingerprint:  # due, or rebuilt by another process
            _start_refresh(key, current)
        return current
    if fresh:
        stored = _stored_fingerprint(path)
        if stored is not None and current is not None and current.fingerprint == stored:
            return current
        if stored is not None:  # none yet in this process, or another process rebuilt it since
            with _sessions_lock, FileLock(lock, timeout=600):
                stored = _stored_fingerprint(path)
                if stored is not None:
                    current = _sessions[key] = Session(path, stored)
                    return current
    with _sessions_lock:
        current = _matching(path, lock, _sessions.get(key))
        # The session replaced goes when the last report reading it does.
        _sessions[key] = current
        _matched[key] = time.monotonic()
    return current


def _matching(path: Path, lock: str, current: Session | None) -> Session:
    """A session of a snapshot that matches the database now: ``current`` if it does."""
    from filelock import FileLock

    now = _current()
    with FileLock(lock, timeout=600):
        if _stored_fingerprint(path) != now:
            _build(path, now)
        if current is None or current.fingerprint != now:
            current = Session(path, now)  # attached under the lock: no rebuild swaps the file meanwhile
    return current


def refresh_in_background() -> bool:
    return bool(getattr(settings, "RAPPORT_ANALYTICS_REFRESH_IN_BACKGROUND", True))


_refreshing: set[str] = set()


def _start_refresh(key: str, current: Session) -> None:
    """Starts the refresh of the session of ``key`` in a thread, unless one is running."""
    with _sessions_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)
    threading.Thread(target=_refresh, args=(key, current), name="rapport-analytics-refresh", daemon=True).start()


def _refresh(key: str, current: Session) -> None:
    """Checks the snapshot of ``current`` against the database, rebuilding it if needed, and
    puts a session of the matching snapshot, with the measures ``current`` held, in its place."""
    import logging

    try:
        path = current.path
        fresh = _matching(path, str(path.with_name(LOCK_NAME)), current)
        if fresh is not current:
            fresh.warm(current)
        with _sessions_lock:
            if _sessions.get(key) is current:
                _sessions[key] = fresh
            _matched[key] = time.monotonic()
    except Exception:  # noqa: BLE001 - the reports go on from the session they have; the next one tries again
        logging.getLogger(__name__).exception("refreshing the analytics snapshot failed")
    finally:
        with _sessions_lock:
            _refreshing.discard(key)
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # this thread's own database connection


# When each snapshot last matched the database, in this process: within
# RAPPORT_ANALYTICS_RECHECK_SECONDS of it the database is not fingerprinted again.
_matched: dict[str, float] = {}
_inherited: list[Session] = []


def _forget_after_fork() -> None:
    """A forked child (a server worker, a job, an import's reader) opens sessions of its own: the
    parent's in-memory DuckDB databases, their locks and its refresh thread are not the child's.
    The parent's sessions are kept referenced, never closed here, so the child touches nothing
    of them."""
    global _sessions_lock
    _inherited.extend(_sessions.values())
    _sessions.clear()
    _refreshing.clear()
    _matched.clear()
    _sessions_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere no process is forked
    os.register_at_fork(after_in_child=_forget_after_fork)
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
        # Each card's place in the name order of the reports (lower-cased name, then id), so a
        # report sorts its rows on a number and reads the names of the page shown only.
        con.execute("CREATE TABLE ranked AS SELECT *, row_number() OVER (ORDER BY lower(name), id) AS name_rank FROM cards")
        con.execute("DROP TABLE cards")
        con.execute("ALTER TABLE ranked RENAME TO cards")
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


# What an order's lines add up to, from a table ``l`` of sums per order (none for an order without lines).
ORDER_FIGURES = ("coalesce(l.discounts, 0)::DECIMAL(38, 8) AS discounts, coalesce(l.goods, 0)::DECIMAL(38, 8) AS goods, "
                 "coalesce(l.uncosted, 0)::BIGINT AS uncosted")


def _copy_from(con: Any, source: str) -> None:
    from rapport.accounts.models import Team, User
    from rapport.cards.models import Card
    from rapport.commerce.models import Order, OrderLine, Product

    where, params = _order_filter()
    # The lines of every order summed once (products are few: joined in memory), then kept with the
    # orders that count.
    con.execute(
        f"CREATE TEMP TABLE order_lines AS SELECT l.order_id::BIGINT AS order_id, "
        f"sum(l.quantity::DECIMAL(38, 3) * l.unit_price::DECIMAL(18, 4) - l.amount::DECIMAL(18, 4)) AS discounts, "
        f"sum(l.quantity::DECIMAL(38, 3) * p.unit_cost::DECIMAL(18, 4)) AS goods, "
        f"count(*) FILTER (WHERE p.unit_cost IS NULL) AS uncosted "
        f"FROM {source}.{OrderLine._meta.db_table} l "
        f"LEFT JOIN (SELECT id, unit_cost FROM {source}.{Product._meta.db_table}) p ON p.id = l.product_id "
        f"GROUP BY l.order_id")
    con.execute(
        f"CREATE TABLE orders AS SELECT o.card_id::BIGINT AS card_id, o.ordered_on::DATE AS ordered_on, "
        f"o.currency::VARCHAR AS currency, o.total::DECIMAL(18, 4) AS total, {ORDER_FIGURES} "
        f"FROM (SELECT * FROM {source}.{Order._meta.db_table} WHERE {where}) o "
        f"LEFT JOIN order_lines l ON l.order_id = o.id ORDER BY o.card_id, o.ordered_on", params)
    con.execute("DROP TABLE order_lines")
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
    from rapport.commerce.models import OrderLine

    con.execute("CREATE TABLE orders (card_id BIGINT, ordered_on DATE, currency VARCHAR, total DECIMAL(18, 4), "
                "discounts DECIMAL(38, 8), goods DECIMAL(38, 8), uncosted BIGINT)")
    con.execute("CREATE TABLE cards (id BIGINT, external_id VARCHAR, name VARCHAR, kind VARCHAR, owner_id BIGINT, "
                "team_id BIGINT, owner VARCHAR, team VARCHAR, archived BOOLEAN)")
    # The lines summed in Python, exactly (SQLite would add the products up in floating point).
    figures: dict[int, list[Any]] = {}
    lines = OrderLine.objects.filter(order__in=counted_orders().values("id")).order_by().values_list(
        "order_id", "quantity", "unit_price", "amount", "product__unit_cost")
    for order_id, quantity, price, amount, cost in lines.iterator(chunk_size=10_000):
        sums = figures.setdefault(order_id, [Decimal(0), Decimal(0), 0])
        sums[0] += quantity * price - amount
        if cost is None:
            sums[2] += 1
        else:
            sums[1] += quantity * cost
    orders = counted_orders().order_by("card_id", "ordered_on").values_list("id", "card_id", "ordered_on", "currency",
                                                                             "total")
    rows = ((*row[1:], *figures.get(row[0], (Decimal(0), Decimal(0), 0))) for row in orders.iterator(chunk_size=10_000))
    _insert(con, "orders", 7, rows)
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
