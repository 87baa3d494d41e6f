"""The churn and RFM reports, and the dashboard's sales, rep figures and least profitable
customers, computed by the analytics engine (``engine``) over millions of orders, for users who
see every card or many of them (``engine.plan``).

Each report filters the per-customer measures of the engine's session (``engine.Session``:
every live customer's purchase history, or its recency, frequency and monetary value, computed
once per snapshot and as-of date) to the customers the user sees, scores them in one DuckDB
query into a table of its own, and reads the rows from it a page at a time (``Rows``), so a
report of a million customers costs one query and the page shown, not a million Python objects.
The report of part of the customers (a rep's, a team's) is kept for the next request that asks
it of the same cards. The churn prior is fitted on the histories of every customer the user
sees (kept per population), and the RFM quintiles rank the customers of the report, exactly as
on the Python path: the models are the ones of ``churn`` and ``rfm`` — the prior is fitted by
``churn.fit_prior_counts`` over the distinct histories, the segments come from ``rfm.segment``
— and the rows, their order and the texts are those of the Python reports in ``selectors``.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Generic, TypeVar, overload

from rapport.analytics import churn, rfm

T = TypeVar("T")

CHUNK = 10_000


class Rows(Sequence[T], Generic[T]):
    """The rows of a report held in a table ``table`` of its own, in the order of the SQL
    expression ``order``, read lazily; ``make`` turns a fetched tuple into a row object. A page
    is a top-N query (no sort of the whole table); iterating reads one ordered pass in chunks.

    ``details`` joins what the table leaves out to the rows read (``JOIN … d ON d.id =
    x.card_id``, the table being ``x``): the names of a page are looked up for its rows only."""

    def __init__(self, con: Any, table: str, columns: Sequence[str], make: Callable[[tuple[Any, ...]], T],
                 where: str = "", params: Sequence[Any] = (), *, order: str, owns: bool = True,
                 details: str = "", release: Callable[[], None] | None = None) -> None:
        self._con = con
        self._order = order
        self._table = table
        self._columns = list(columns)
        self._make = make
        self._where = where
        self._params = list(params)
        self._details = details
        self._length: int | None = None
        self._parent: Rows[T] | None = None
        if owns:  # the table (or its lease) and the connection go with the report's rows; a filtered view keeps them
            weakref.finalize(self, _release, con, table, release)

    def filter(self, condition: str, params: Sequence[Any] = ()) -> Rows[T]:
        where = f"({self._where}) AND ({condition})" if self._where else condition
        rows: Rows[T] = Rows(self._con, self._table, self._columns, self._make, where, [*self._params, *params],
                             order=self._order, owns=False, details=self._details)
        rows._parent = self
        return rows

    def _select(self, limit: int, offset: int) -> list[tuple[Any, ...]]:
        where = f"WHERE {self._where}" if self._where else ""
        page = f"SELECT * FROM {self._table} {where} ORDER BY {self._order} LIMIT ? OFFSET ?"
        sql = f"SELECT {', '.join(self._columns)} FROM ({page}) x {self._details} ORDER BY {self._order}"
        return self._con.execute(sql, [*self._params, limit, offset]).fetchall()

    def __len__(self) -> int:
        if self._length is None:
            where = f"WHERE {self._where}" if self._where else ""
            row = self._con.execute(f"SELECT count(*) FROM {self._table} {where}", self._params).fetchone()
            self._length = int(row[0]) if row else 0
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            if stop <= start:
                return []
            return [self._make(row) for row in self._select(stop - start, start)]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._make(self._select(1, index)[0])

    def __iter__(self) -> Iterator[T]:
        where = f"WHERE {self._where}" if self._where else ""
        cursor = self._con.cursor()  # a cursor of its own: a page read meanwhile does not cut this pass short
        try:
            cursor.execute(f"SELECT {', '.join(self._columns)} FROM {self._table} x {self._details} {where} "
                           f"ORDER BY {self._order}", self._params)
            while chunk := cursor.fetchmany(CHUNK):
                yield from (self._make(row) for row in chunk)
        finally:
            cursor.close()


# What a page of a report reads of its cards.
DETAILS = ("JOIN (SELECT id, external_id, name, kind, owner_id, owner, team_id, team FROM snap.cards) d "
           "ON d.id = x.card_id")


def _release(con: Any, table: str, release: Callable[[], None] | None) -> None:
    try:
        if release is None:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        else:
            release()
        con.close()
    except Exception:  # noqa: BLE001 - the database may already be gone (a process shutting down)
        pass


def _rows_table(session: Any, con: Any, key: tuple[Any, ...], build: Callable[[Any, str], None], *,
                everyone: bool) -> tuple[str, Callable[[], None] | None]:
    """The table of a report's rows, made by ``build(con, name)``, and what releases it. The
    report of part of the customers (a rep's, a team's) is kept in the session for the next
    request that asks the same of the same cards (``key`` names the population by its ids, so
    a change of what the user sees is a new report); the report of everyone, a row per
    customer of the company, is the caller's alone."""
    if everyone or engine_cached_reports() == 0:
        name = session.unique("report")
        with session.lock:
            build(con, name)
        return name, None
    name = session.report(key, con, build)
    return name, lambda: session.release(name)


def engine_cached_reports() -> int:
    from rapport.analytics import engine

    return engine.cached_reports()


def _scope(team: int | None, rep: int | None, visible: str) -> tuple[str, list[Any]]:
    """The customers of the rows, in a table of measures ``m`` (live cards, with their team and
    owner): the ones the user may see, narrowed to a team and a rep."""
    conditions, params = [visible], []
    if team is not None:
        conditions.append("m.team_id = ?")
        params.append(team)
    if rep is not None:
        conditions.append("m.owner_id = ?")
        params.append(rep)
    return " AND ".join(conditions), params


# ---------------------------------------------------------------------------------------------
# Churn

def histories(session: Any, as_of: dt.date) -> str:
    """The table of every live customer's purchase history up to ``as_of``: occasions (distinct
    order days), orders, first and last day, span; with the card's team and owner."""

    def build(con: Any, name: str) -> None:
        # The snapshot's orders are sorted by card and day: one pass groups them by both.
        con.execute(f"""
            CREATE TABLE {name} AS
            WITH days AS (
                SELECT card_id, ordered_on, count(*) AS n FROM snap.orders WHERE ordered_on <= ? GROUP BY ALL
            )
            SELECT d.card_id, count(*)::BIGINT AS occasions, sum(d.n)::BIGINT AS orders,
                   min(d.ordered_on) AS first_on, max(d.ordered_on) AS last_on,
                   date_diff('day', min(d.ordered_on), max(d.ordered_on))::BIGINT AS span,
                   any_value(c.team_id) AS team_id, any_value(c.owner_id) AS owner_id,
                   any_value(c.name_rank) AS name_rank
            FROM days d JOIN snap.cards c ON c.id = d.card_id AND NOT c.archived
            GROUP BY d.card_id""", [as_of])

    return session.measures(("histories", as_of), build)


def churn_report(chosen: Any, *, as_of: dt.date, team: int | None, rep: int | None, alert: float) -> Any:
    from rapport.analytics import engine
    from rapport.analytics.selectors import ChurnReport, ChurnRow, _why_texts, why

    session = engine.session()
    con = session.cursor()
    population = engine.population(chosen)
    restricted: list[str] = []

    def visible() -> str:  # the user's cards in the connection, once, when a query needs them
        if not restricted:
            restricted.append(engine.restrict(con, chosen, "m.card_id"))
        return restricted[0]

    with session.lock:
        def fit() -> churn.Prior:
            # The histories of every live customer the user sees: the population the prior is learned from.
            counts = con.execute(f"SELECT occasions - 1, span, count(*) FROM {histories(session, as_of)} m "
                                 f"WHERE occasions > 1 AND {visible()} GROUP BY ALL").fetchall()
            return churn.fit_prior_counts({(int(n), int(s)): int(w) for n, s, w in counts})

        prior = session.memo(("prior", as_of, population), fit)
        has_alert = 0 < alert < 1

        def build(c: Any, name: str) -> None:
            scope, params = _scope(team, rep, visible())
            c.execute(f"""
                CREATE TABLE {name} AS
                WITH scored AS (
                    SELECT m.card_id, m.occasions, m.orders, m.first_on, m.last_on, m.name_rank,
                           greatest(date_diff('day', m.last_on, ?::DATE), 0)::BIGINT AS days_silent,
                           ?::DOUBLE + m.span AS a, ?::DOUBLE + (m.occasions - 1) AS k
                    FROM {histories(session, as_of)} m
                    WHERE {scope}
                ), judged AS (
                    SELECT *,
                           CASE WHEN occasions > 1 THEN a / (k - 1) END AS usual,
                           CASE WHEN occasions > 1 THEN pow(a / (a + days_silent), k) END AS chance
                    FROM scored
                ), flagged AS (
                    SELECT *, 1 - chance AS risk, coalesce(1 - chance >= ?, false) AS flagged,
                           CASE WHEN occasions > 1 AND ? THEN a * (pow(1 - ?, -1 / k) - 1) END AS after
                    FROM judged
                )
                SELECT card_id, orders, occasions, first_on, last_on, days_silent, usual, chance, risk, flagged, after,
                       coalesce(round(risk, 4), -1) AS risk_order, name_rank
                FROM flagged""",
                [as_of, prior.alpha, prior.r, *params, alert, has_alert, alert])

        table_rows, release = _rows_table(session, con, ("churn", as_of, population, team, rep, alert), build,
                                          everyone=chosen.card_ids is None and team is None and rep is None)
    texts = _why_texts()

    def make(row: tuple[Any, ...]) -> ChurnRow:
        (card_id, external_id, name, kind, owner_id, owner, team_id, team_name, orders, occasions, first_on, last_on,
         days_silent, usual, chance, risk, flagged, after) = row
        score = None if usual is None else churn.Score(usual_interval_days=usual, days_silent=days_silent,
                                                         chance=chance, risk=risk)
        return ChurnRow(
            card_id=card_id, external_id=external_id, name=name, kind=kind, owner_id=owner_id, owner=owner,
            team_id=team_id, team=team_name, orders=orders, purchase_days=occasions, first_order_on=first_on,
            last_order_on=last_on, usual_interval_days=None if usual is None else round(usual, 1),
            days_silent=days_silent, chance=None if chance is None else round(chance, 4),
            risk=None if risk is None else round(risk, 4), flagged=bool(flagged),
            flag_after_days=None if after is None else round(after), why=why(score, flagged=bool(flagged), texts=texts),
        )

    columns = ("card_id", "external_id", "name", "kind", "owner_id", "owner", "team_id", "team", "orders",
               "occasions", "first_on", "last_on", "days_silent", "usual", "chance", "risk", "flagged", "after")
    rows: Rows[Any] = Rows(con, table_rows, columns, make, order="flagged DESC, risk_order DESC, name_rank",
                           details=DETAILS, release=release)
    flagged_row = con.execute(f"SELECT count(*) FROM {table_rows} WHERE flagged").fetchone()
    return ChurnReport(as_of=as_of, alert=alert, prior=prior, rows=rows, flagged=int(flagged_row[0]) if flagged_row else 0)


# ---------------------------------------------------------------------------------------------
# RFM

def _quintile(value: str, *, worst_first: str, source: str, where: str = "true") -> str:
    """The mid-rank quintile rule of ``rfm.quintiles`` as a subquery ``(v, score)`` over the
    distinct values of ``value`` in ``source``: customers with equal values share the positions
    first..last, found by a running count over the (few) distinct values instead of a sort of
    every customer."""
    return f"""(
        SELECT v, least(5, greatest(1, 1 + (5 * (first + last - 1)) // (2 * n)))::INTEGER AS score FROM (
            SELECT v, sum(c) OVER (ORDER BY v {worst_first} ROWS UNBOUNDED PRECEDING) - c + 1 AS first,
                   sum(c) OVER (ORDER BY v {worst_first} ROWS UNBOUNDED PRECEDING) AS last,
                   sum(c) OVER () AS n
            FROM (SELECT {value} AS v, count(*) AS c FROM {source} WHERE {where} GROUP BY {value})
        )
    )"""


def _segments_table() -> str:
    """Every (R, F, M) with its segment, from ``rfm.segment`` itself."""
    values = [f"({r}, {f}, {'NULL' if m is None else m}, '{rfm.segment(r, f, m)}')"
              for r in range(1, 6) for f in range(1, 6) for m in (None, 1, 2, 3, 4, 5)]
    return f"SELECT * FROM (VALUES {', '.join(values)}) AS s(r, f, m, segment)"


def _scored(source: str) -> str:
    """Every customer of ``source`` with its R, F and M scores ranked among the customers of
    ``source`` and its segment. Recency and frequency take few distinct values (``_quintile``);
    monetary, nearly one value per customer, by one window: first = rank, last = the rows up to
    the last equal one."""
    return f"""
        WITH scored AS (
            SELECT v.*, qr.score AS r, qf.score AS f,
                   CASE WHEN v.monetary IS NOT NULL THEN
                       least(5, greatest(1, 1 + (5 * (rank() OVER w + count(*) OVER w - 1)) // (2 * count(v.monetary) OVER ())))
                   END::INTEGER AS m
            FROM {source} v
            JOIN {_quintile("recency_days", worst_first="DESC", source=source)} qr ON qr.v = v.recency_days
            JOIN {_quintile("frequency", worst_first="ASC", source=source)} qf ON qf.v = v.frequency
            WINDOW w AS (PARTITION BY v.monetary IS NULL ORDER BY v.monetary)
        )
        SELECT s.*, g.segment FROM scored s
        JOIN ({_segments_table()}) g ON g.r = s.r AND g.f = s.f AND g.m IS NOT DISTINCT FROM s.m"""


def rfm_measures(session: Any, *, as_of: dt.date, start: dt.date, base: str, rates_sql: str,
                 rates_params: list[Any]) -> str:
    """The table of every live customer's last order day, recency, frequency and monetary value
    in the window (with the currencies without a rate, if any) up to ``as_of``; with the card's
    team, owner and name rank, and the scores and segment of the customer among all live
    customers (``r``, ``f``, ``m``, ``segment``: the report of everyone as it is). One per as-of
    date, window, reporting currency and exchange rates."""

    def build(con: Any, name: str) -> None:
        con.execute(f"""
            CREATE TEMP TABLE {name}_valued AS
            WITH rates AS ({rates_sql}),
            first_rates AS (SELECT currency, arg_min(rate, valid_from) AS rate FROM rates GROUP BY currency),
            rated AS (  -- the window's orders; only those in another currency go through the dated join
                SELECT card_id, ordered_on, total, 1::DECIMAL(18, 8) AS rate FROM snap.orders
                WHERE ordered_on >= ? AND ordered_on <= ? AND currency = ?
                UNION ALL
                SELECT d.card_id, d.ordered_on, d.total, coalesce(r.rate, f.rate) AS rate
                FROM (SELECT * FROM snap.orders WHERE ordered_on >= ? AND ordered_on <= ? AND currency <> ?) d
                ASOF LEFT JOIN rates r ON d.currency = r.currency AND d.ordered_on >= r.valid_from
                LEFT JOIN first_rates f ON f.currency = d.currency
            ), windowed AS (  -- (a sum of each order at its rate is the sum of each day's total at it)
                SELECT card_id, count(DISTINCT ordered_on) AS frequency, sum(total::DECIMAL(38, 4) * rate) AS amount
                FROM rated GROUP BY card_id
            ), gaps AS (  -- the few customers with an order in a currency without any rate
                SELECT card_id, list(DISTINCT currency ORDER BY currency) AS missing FROM snap.orders
                WHERE ordered_on >= ? AND ordered_on <= ? AND currency <> ?
                  AND currency NOT IN (SELECT currency FROM rates WHERE currency IS NOT NULL)
                GROUP BY card_id
            ), latest AS (  -- the last order day of every customer
                SELECT card_id, max(ordered_on) AS last_on FROM snap.orders WHERE ordered_on <= ? GROUP BY card_id
            )
            SELECT l.card_id, l.last_on, date_diff('day', l.last_on, ?::DATE)::BIGINT AS recency_days,
                   coalesce(w.frequency, 0)::BIGINT AS frequency,
                   CASE WHEN g.missing IS NULL THEN coalesce(w.amount, 0) END AS monetary, g.missing,
                   c.team_id, c.owner_id, c.name_rank
            FROM latest l JOIN snap.cards c ON c.id = l.card_id AND NOT c.archived
            LEFT JOIN windowed w ON w.card_id = l.card_id
            LEFT JOIN gaps g ON g.card_id = l.card_id""",
            [*rates_params, start, as_of, base, start, as_of, base, start, as_of, base, as_of, as_of])
        con.execute(f"CREATE TABLE {name} AS {_scored(f'{name}_valued')}")
        con.execute(f"DROP TABLE {name}_valued")

    return session.measures(("rfm", as_of, start, base, rates_sql, tuple(rates_params)), build)


def rfm_report(chosen: Any, *, as_of: dt.date, months: int, team: int | None, rep: int | None) -> Any:
    from rapport.analytics import engine
    from rapport.analytics.selectors import RfmReport, RfmRow, rfm_segment_labels
    from rapport.commerce import money
    from django.utils.translation import gettext as _

    start = rfm.window_start(as_of, months)
    base = money.reporting_currency()
    rates_sql, rates_params = engine.rates_values()
    session = engine.session()
    con = session.cursor()
    everyone = chosen.card_ids is None and team is None and rep is None
    kept = "card_id, last_on, recency_days, frequency, monetary, r, f, m, segment, missing, coalesce(m, 0) AS m_order, name_rank"

    def build(c: Any, name: str) -> None:
        table = rfm_measures(session, as_of=as_of, start=start, base=base, rates_sql=rates_sql,
                             rates_params=rates_params)
        if everyone:  # the customers of the report are all of them: scored when the measures were
            c.execute(f"CREATE TABLE {name} AS SELECT {kept} FROM {table}")
            return
        # The customers of the report are the population the quintiles rank.
        scope, params = _scope(team, rep, engine.restrict(c, chosen, "m.card_id"))
        c.execute(f"CREATE OR REPLACE TEMP TABLE rfm_valued AS SELECT card_id, last_on, recency_days, frequency, "
                  f"monetary, missing, name_rank FROM {table} m WHERE {scope}", params)
        c.execute(f"CREATE TABLE {name} AS SELECT {kept} FROM ({_scored('rfm_valued')})")
        c.execute("DROP TABLE rfm_valued")

    key = ("rfm", as_of, start, base, rates_sql, tuple(rates_params), engine.population(chosen), team, rep)
    table_rows, release = _rows_table(session, con, key, build, everyone=everyone)
    labels = rfm_segment_labels()
    quantum = money.quantum(base)
    no_rate = _("No exchange rate for %(currencies)s: the monetary value is left out and the customer is "
                "scored on recency and frequency only.")

    def make(row: tuple[Any, ...]) -> RfmRow:
        (card_id, external_id, name, kind, owner_id, owner, team_id, team_name, last_on, recency_days, frequency,
         monetary, r, f, m, segment, missing) = row
        scores = rfm.Scores(r=r, f=f, m=m, segment=segment)
        return RfmRow(
            card_id=card_id, external_id=external_id, name=name, kind=kind, owner_id=owner_id, owner=owner,
            team_id=team_id, team=team_name, last_order_on=last_on, recency_days=recency_days, frequency=frequency,
            monetary=None if monetary is None else Decimal(monetary).quantize(quantum, rounding=ROUND_HALF_UP),
            currency=base, r=r, f=f, m=m, score=scores.text, segment_key=segment, segment=labels[segment],
            note=no_rate % {"currencies": ", ".join(missing)} if missing else "",
        )

    columns = ("card_id", "external_id", "name", "kind", "owner_id", "owner", "team_id", "team", "last_on",
               "recency_days", "frequency", "monetary", "r", "f", "m", "segment", "missing")
    counts = dict(con.execute(f"SELECT segment, count(*) FROM {table_rows} GROUP BY segment").fetchall())
    rows: Rows[Any] = Rows(con, table_rows, columns, make, order="r DESC, f DESC, m_order DESC, name_rank",
                           details=DETAILS, release=release)
    return RfmReport(as_of=as_of, months=months, window_start=start, currency=base, rows=rows,
                     segment_counts={key: int(counts.get(key, 0)) for key in rfm.SEGMENTS})


# ---------------------------------------------------------------------------------------------
# Profitability and sales by month or rep, for the dashboard

def _rated(rates_sql: str, source: str) -> str:
    """The orders of ``source`` (a query over ``snap.orders``) with the rate valid on their day:
    1 in the reporting currency (the first parameter), the latest rate from before the day (else the
    currency's first one) in another, NULL for a currency without any rate (``_Rates.rate``). The
    parameters: the rates', then the reporting currency twice."""
    return f"""
        rates AS ({rates_sql}),
        first_rates AS (SELECT currency, arg_min(rate, valid_from) AS rate FROM rates GROUP BY currency),
        chosen AS ({source}),
        rated AS (
            SELECT o.*, 1::DECIMAL(18, 8) AS rate FROM chosen o WHERE o.currency = ?
            UNION ALL
            SELECT d.*, coalesce(r.rate, f.rate) AS rate FROM (SELECT * FROM chosen WHERE currency <> ?) d
            ASOF LEFT JOIN rates r ON d.currency = r.currency AND d.ordered_on >= r.valid_from
            LEFT JOIN first_rates f ON f.currency = d.currency
        )"""


def profit_measures(session: Any, *, start: dt.date, end: dt.date, base: str, places: int, rates_sql: str,
                    rates_params: list[Any]) -> str:
    """The table of every live customer's figures over the counted orders of ``start``–``end``:
    orders, revenue and discounts converted at each order's dated rate (an order in a currency
    without a rate is left out of both and its currency named in ``missing``, as
    ``profitability.combine`` does), cost of goods, lines without a unit cost and the margin
    rounded to ``places`` decimals (``net``: the net profit of a customer without a cost to serve);
    with the card's team and owner, sorted by owner (a rep's rows are a few blocks of it). One per
    period, reporting currency and exchange rates."""

    def build(con: Any, name: str) -> None:
        source = "SELECT card_id, ordered_on, currency, total, discounts, goods, uncosted FROM snap.orders " \
                 "WHERE ordered_on >= ? AND ordered_on <= ?"
        con.execute(f"""
            CREATE TABLE {name} AS
            WITH {_rated(rates_sql, source)},
            per_card AS (
                SELECT card_id, count(*)::BIGINT AS orders,
                       coalesce(sum(total::DECIMAL(38, 4) * rate), 0) AS revenue,
                       coalesce(sum(discounts * rate), 0) AS discounts,
                       sum(goods) AS goods, sum(uncosted)::BIGINT AS uncosted,
                       list(DISTINCT currency ORDER BY currency) FILTER (WHERE rate IS NULL) AS missing
                FROM rated GROUP BY card_id
            )
            SELECT p.*, round(p.revenue - p.goods, {int(places)}) AS net, c.team_id, c.owner_id
            FROM per_card p JOIN snap.cards c ON c.id = p.card_id AND NOT c.archived
            ORDER BY c.owner_id, p.card_id""",
            [*rates_params, start, end, base, base])

    return session.measures(("profit", start, end, base, places, rates_sql, tuple(rates_params)), build)


def sales_measures(session: Any, *, base: str, rates_sql: str, rates_params: list[Any]) -> str:
    """The table of every counted order with its total converted at the rate of its day
    (``amount``, NULL for a currency without a rate) and its card's owner, team and archived flag,
    sorted by owner and day: the sales of a rep over a period are read from a few blocks of it.
    One per reporting currency and exchange rates."""

    def build(con: Any, name: str) -> None:
        source = "SELECT card_id, ordered_on, currency, total FROM snap.orders"
        con.execute(f"""
            CREATE TABLE {name} AS
            WITH {_rated(rates_sql, source)}
            SELECT r.card_id, r.ordered_on, r.currency, r.total::DECIMAL(38, 4) * r.rate AS amount,
                   c.owner_id, c.team_id, c.owner, c.archived
            FROM rated r JOIN snap.cards c ON c.id = r.card_id
            ORDER BY c.owner_id, r.ordered_on""", [*rates_params, base, base])

    return session.measures(("sales", base, rates_sql, tuple(rates_params)), build)


def least_profitable(chosen: Any, *, start: dt.date, end: dt.date, team: int | None, rep: int | None, least: int,
                     served: dict[int, Any], quantum: Decimal) -> tuple[dict[int, Any], int]:
    """The figures (``profitability.Profit``) of the customers whose net profit can be among the
    ``least`` lowest — every one at or below the least-th lowest, so that ties are ordered by name
    by the caller as in the full report — and how many customers have a negative net profit.

    ``served`` holds each customer's activities and cost to serve, read from the database by the
    caller; a customer there without an order in the period is counted on its cost to serve alone.
    Net profits are compared rounded to ``quantum`` as the report shows them; those of customers
    with a cost to serve are computed here in Python (a share of an activity is a fraction), the
    others are their margins, rounded by DuckDB (half away from zero, as ``ROUND_HALF_UP``)."""
    from rapport.analytics import engine, profitability
    from rapport.commerce import money

    base = money.reporting_currency()
    rates_sql, rates_params = engine.rates_values()
    places = max(-int(quantum.as_tuple().exponent), 0)
    session = engine.session()
    con = session.cursor()
    try:
        joined = _visible_join(con, chosen)
        scope, params = _scope(team, rep, "true")
        con.register("served_ids", {"id": _int_array(list(served))})
        con.execute("CREATE OR REPLACE TEMP TABLE served_cards AS SELECT id FROM served_ids")
        con.unregister("served_ids")
        figures = "card_id, orders, revenue, discounts, goods, uncosted, missing"
        chosen_figures = "m.card_id, m.orders, m.revenue, m.discounts, m.goods, m.uncosted, m.missing"
        with session.lock:
            table = profit_measures(session, start=start, end=end, base=base, places=places, rates_sql=rates_sql,
                                    rates_params=rates_params)
            # The customers of the report, once; those with a cost to serve apart.
            con.execute(f"CREATE OR REPLACE TEMP TABLE profit_chosen AS SELECT {chosen_figures}, m.net, "
                        f"s.id IS NOT NULL AS served FROM {table} m {joined} "
                        f"LEFT JOIN served_cards s ON s.id = m.card_id WHERE {scope}", params)
        row = con.execute("SELECT count(*) FROM profit_chosen WHERE NOT served AND net < 0").fetchone()
        losing = int(row[0]) if row else 0
        # Every customer at or below the least-th lowest net profit (a top-N read, no sort of them all).
        lowest = con.execute(
            f"SELECT {figures} FROM profit_chosen WHERE NOT served AND net <= (SELECT max(net) FROM "
            f"(SELECT net FROM profit_chosen WHERE NOT served ORDER BY net LIMIT ?))", [least]).fetchall() if least > 0 else []
        with_costs = con.execute(f"SELECT {figures} FROM profit_chosen WHERE served").fetchall()
        con.execute("DROP TABLE profit_chosen")
    finally:
        con.close()

    def profit(row: tuple[Any, ...]) -> Any:
        card_id, orders, revenue, discounts, goods, uncosted, missing = row
        return profitability.Profit(orders=int(orders), revenue=Decimal(revenue), discounts=Decimal(discounts),
                                    cost_of_goods=Decimal(goods), uncosted_lines=int(uncosted),
                                    missing_rates=set(missing or ()))

    found: dict[int, Any] = {}
    for row in with_costs:
        found[row[0]] = profit(row)
    for card_id, p in served.items():
        mine = found.setdefault(card_id, profitability.Profit())
        mine.activities, mine.cost_to_serve = p.activities, p.cost_to_serve
    losing += sum(1 for p in found.values() if p.net_profit.quantize(quantum, rounding=ROUND_HALF_UP) < 0)
    for row in lowest:
        found[row[0]] = profit(row)
    return found, losing


def _visible_join(con: Any, chosen: Any) -> str:
    """A join of a table ``m`` to the plan's cards (registered in ``con``): none for every card."""
    from rapport.analytics import engine

    if chosen.card_ids is None:
        return ""
    return f"JOIN {engine.visible_table(con, chosen)} v ON v.id = m.card_id"


def _int_array(values: list[int]) -> Any:
    import numpy

    return numpy.array(values, dtype=numpy.int64)


def sales_sums(chosen: Any, *, start: dt.date, end: dt.date, previous_start: dt.date, previous_end: dt.date,
               dimension: str, team: int | None, rep: int | None,
               customers: bool) -> tuple[list[tuple[Any, ...]], list[str], int]:
    """The counted orders of the customers in the plan between ``start`` and ``end`` and between
    ``previous_start`` and ``previous_end``, summed by ``dimension`` (``month``: the order's year
    and month; ``rep``: the card owner's username) and period: rows of (key, current, revenue
    converted at each order's dated rate — None when every order lacks a rate —, orders, customers
    of the current period); the currencies without a rate; the customers of the current period
    (0 unless ``customers``)."""
    from rapport.analytics import engine
    from rapport.commerce import money

    base = money.reporting_currency()
    rates_sql, rates_params = engine.rates_values()
    session = engine.session()
    con = session.cursor()
    group = {"month": "year(ordered_on) * 100 + month(ordered_on)", "rep": "owner"}[dimension]
    distinct = "count(DISTINCT card_id) FILTER (WHERE current)" if customers else "0"
    try:
        joined = _visible_join(con, chosen)
        scope, params = _scope(team, rep, "true")
        with session.lock:
            table = sales_measures(session, base=base, rates_sql=rates_sql, rates_params=rates_params)
            con.execute(f"CREATE OR REPLACE TEMP TABLE sales_chosen AS SELECT m.card_id, ordered_on, currency, amount, "
                        f"owner, ordered_on >= ? AND ordered_on <= ? AS current FROM {table} m {joined} "
                        f"WHERE NOT m.archived AND {scope} "
                        f"AND ((ordered_on >= ? AND ordered_on <= ?) OR (ordered_on >= ? AND ordered_on <= ?))",
                        [start, end, *params, start, end, previous_start, previous_end])
        rows = con.execute(f"SELECT {group} AS key, current, sum(amount), count(*), {distinct} "
                           f"FROM sales_chosen GROUP BY ALL").fetchall()
        missing = [r[0] for r in con.execute("SELECT DISTINCT currency FROM sales_chosen WHERE amount IS NULL").fetchall()]
        total = con.execute(f"SELECT {distinct} FROM sales_chosen").fetchone() if customers else None
        con.execute("DROP TABLE sales_chosen")
    finally:
        con.close()
    return rows, missing, int(total[0]) if total else 0


def rep_sales(chosen: Any, *, start: dt.date, end: dt.date, rep_ids: list[int],
              archived_ids: list[int]) -> dict[int, tuple[int, Decimal, int]]:
    """Per rep of ``rep_ids``: the counted orders between ``start`` and ``end`` of the cards the
    rep owns that the plan covers — its live cards — or that ``archived_ids`` names (the archived
    cards the user sees, read by the caller: the rep report counts their orders too), the revenue
    converted at each order's dated rate (orders without a rate left out) and the customers."""
    from rapport.analytics import engine
    from rapport.commerce import money

    if not rep_ids:
        return {}
    base = money.reporting_currency()
    rates_sql, rates_params = engine.rates_values()
    session = engine.session()
    con = session.cursor()
    reps = ", ".join(str(int(rep_id)) for rep_id in rep_ids)  # whole numbers: a list the blocks are skipped by
    try:
        if chosen.card_ids is None:
            seen = "true"
        else:
            con.register("archived_ids", {"id": _int_array(archived_ids)})
            con.execute("CREATE OR REPLACE TEMP TABLE sales_archived AS SELECT id FROM archived_ids")
            con.unregister("archived_ids")
            seen = (f"(({engine.restrict(con, chosen, 'm.card_id')}) AND NOT m.archived "
                    f"OR m.card_id IN (SELECT id FROM sales_archived))")
        with session.lock:
            table = sales_measures(session, base=base, rates_sql=rates_sql, rates_params=rates_params)
            rows = con.execute(f"SELECT owner_id, count(*), coalesce(sum(amount), 0), count(DISTINCT card_id) "
                               f"FROM {table} m WHERE m.owner_id IN ({reps}) AND {seen} "
                               f"AND m.ordered_on >= ? AND m.ordered_on <= ? GROUP BY owner_id", [start, end]).fetchall()
    finally:
        con.close()
    return {int(owner): (int(n), Decimal(revenue), int(customers)) for owner, n, revenue, customers in rows}
