"""The churn and RFM reports computed by the analytics engine (``engine``), for users who see
every card, over millions of orders.

Each report runs as one DuckDB query into a temporary table of the engine's connection; the
rows are read from it a page at a time (``Rows``), so a report of a million customers costs
one query and the page shown, not a million Python objects. The models are the ones of
``churn`` and ``rfm`` — the prior is still fitted by ``churn.fit_prior_counts`` over the
distinct histories, the segments come from ``rfm.segment`` — and the rows, their order and
the texts are those of the Python reports in ``selectors``.
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
    """The rows of a report held in a temporary table ``table``, in the order of the SQL
    expression ``order``, read lazily; ``make`` turns a fetched tuple into a row object. A page
    is a top-N query (no sort of the whole table); iterating reads one ordered pass in chunks."""

    def __init__(self, con: Any, table: str, columns: Sequence[str], make: Callable[[tuple[Any, ...]], T],
                 where: str = "", params: Sequence[Any] = (), *, order: str, owns: bool = True) -> None:
        self._con = con
        self._order = order
        self._table = table
        self._columns = list(columns)
        self._make = make
        self._where = where
        self._params = list(params)
        self._length: int | None = None
        self._parent: Rows[T] | None = None
        if owns:  # the connection goes with the report's rows; a filtered view keeps them alive
            weakref.finalize(self, con.close)

    def filter(self, condition: str, params: Sequence[Any] = ()) -> Rows[T]:
        where = f"({self._where}) AND ({condition})" if self._where else condition
        rows: Rows[T] = Rows(self._con, self._table, self._columns, self._make, where, [*self._params, *params],
                             order=self._order, owns=False)
        rows._parent = self
        return rows

    def _select(self, limit: int, offset: int) -> list[tuple[Any, ...]]:
        where = f"WHERE {self._where}" if self._where else ""
        sql = f"SELECT {', '.join(self._columns)} FROM {self._table} {where} ORDER BY {self._order} LIMIT ? OFFSET ?"
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
            cursor.execute(f"SELECT {', '.join(self._columns)} FROM {self._table} {where} ORDER BY {self._order}",
                           self._params)
            while chunk := cursor.fetchmany(CHUNK):
                yield from (self._make(row) for row in chunk)
        finally:
            cursor.close()


def _scope(team: int | None, rep: int | None, visible: str) -> tuple[str, list[Any]]:
    """The cards of the rows: live ones the user may see, narrowed to a team and a rep."""
    conditions, params = ["NOT c.archived", visible], []
    if team is not None:
        conditions.append("c.team_id = ?")
        params.append(team)
    if rep is not None:
        conditions.append("c.owner_id = ?")
        params.append(rep)
    return " AND ".join(conditions), params


# ---------------------------------------------------------------------------------------------
# Churn

def churn_report(chosen: Any, *, as_of: dt.date, team: int | None, rep: int | None, alert: float) -> Any:
    from rapport.analytics import engine
    from rapport.analytics.selectors import ChurnReport, ChurnRow, _why_texts, why

    con = engine.open_snapshot()
    visible = engine.restrict(con, chosen)
    # Histories of every live customer the user sees: the population the prior is learned from.
    con.execute(f"""
        CREATE TABLE histories AS
        WITH days AS (
            SELECT o.card_id, o.ordered_on, count(*) AS n
            FROM snap.orders o JOIN snap.cards c ON c.id = o.card_id
            WHERE NOT c.archived AND {visible} AND o.ordered_on <= ?
            GROUP BY ALL
        )
        SELECT card_id, count(*)::BIGINT AS occasions, sum(n)::BIGINT AS orders,
               min(ordered_on) AS first_on, max(ordered_on) AS last_on,
               date_diff('day', min(ordered_on), max(ordered_on))::BIGINT AS span
        FROM days GROUP BY card_id""", [as_of])
    counts = con.execute(
        "SELECT occasions - 1, span, count(*) FROM histories WHERE occasions > 1 GROUP BY ALL").fetchall()
    prior = churn.fit_prior_counts({(int(n), int(s)): int(w) for n, s, w in counts})
    scope, params = _scope(team, rep, visible)
    has_alert = 0 < alert < 1
    con.execute(f"""
        CREATE TABLE churn_rows AS
        WITH scored AS (
            SELECT h.*, c.external_id, c.name, c.kind, c.owner_id, c.owner, c.team_id, c.team,
                   greatest(date_diff('day', h.last_on, ?::DATE), 0)::BIGINT AS days_silent,
                   ?::DOUBLE + h.span AS a, ?::DOUBLE + (h.occasions - 1) AS k
            FROM histories h JOIN snap.cards c ON c.id = h.card_id
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
        SELECT *, coalesce(round(risk, 4), -1) AS risk_order, lower(name) AS name_order FROM flagged""", [as_of, prior.alpha, prior.r, *params, alert, has_alert, alert])
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
    rows: Rows[Any] = Rows(con, "churn_rows", columns, make,
                           order="flagged DESC, risk_order DESC, name_order, card_id")
    flagged_row = con.execute("SELECT count(*) FROM churn_rows WHERE flagged").fetchone()
    return ChurnReport(as_of=as_of, alert=alert, prior=prior, rows=rows, flagged=int(flagged_row[0]) if flagged_row else 0)


# ---------------------------------------------------------------------------------------------
# RFM

def _quintile(value: str, *, worst_first: str, source: str, where: str = "true") -> str:
    """The mid-rank quintile rule of ``rfm.quintiles`` as a subquery ``(v, score)`` over the
    distinct values of ``value`` in ``source``: customers with equal values share the positions
    first..last, found by a running count over the (few) distinct values instead of a sort of
    every customer."""
    return f"""(
        SELECT v, least(5, greatest(1, 1 + (5 * (first + last - 1)) // (2 * n))) AS score FROM (
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


def rfm_report(chosen: Any, *, as_of: dt.date, months: int, team: int | None, rep: int | None) -> Any:
    from rapport.analytics import engine
    from rapport.analytics.selectors import RfmReport, RfmRow, rfm_segment_labels
    from rapport.commerce import money
    from django.utils.translation import gettext as _

    start = rfm.window_start(as_of, months)
    base = money.reporting_currency()
    rates_sql, rates_params = engine.rates_values()
    con = engine.open_snapshot()
    scope, params = _scope(team, rep, engine.restrict(con, chosen))
    con.execute(f"""
        CREATE TABLE rfm_valued AS
        WITH rates AS ({rates_sql}),
        first_rates AS (SELECT currency, arg_min(rate, valid_from) AS rate FROM rates GROUP BY currency),
        days AS (
            SELECT o.card_id, o.ordered_on, o.currency, sum(o.total) AS total
            FROM snap.orders o JOIN snap.cards c ON c.id = o.card_id
            WHERE {scope} AND o.ordered_on <= ?
            GROUP BY ALL
        ), rated AS (  -- the reporting currency needs no rate; only the other rows go through the dated join
            SELECT d.*, 1::DECIMAL(18, 8) AS rate FROM days d WHERE d.currency = ?
            UNION ALL
            SELECT d.*, coalesce(r.rate, f.rate) AS rate
            FROM (SELECT * FROM days WHERE currency <> ?) d
            ASOF LEFT JOIN rates r ON d.currency = r.currency AND d.ordered_on >= r.valid_from
            LEFT JOIN first_rates f ON f.currency = d.currency
        ), per_day AS (  -- one row per customer and day: frequency counts rows, no DISTINCT needed
            SELECT card_id, ordered_on, sum(total * rate) AS amount FROM rated GROUP BY card_id, ordered_on
        ), customers AS (
            SELECT card_id, max(ordered_on) AS last_on,
                   count(*) FILTER (WHERE ordered_on >= ?) AS frequency,
                   coalesce(sum(amount) FILTER (WHERE ordered_on >= ?), 0) AS amount
            FROM per_day GROUP BY card_id
        ), gaps AS (  -- the few customers with an order in a currency without a rate
            SELECT card_id, list(DISTINCT currency ORDER BY currency) AS missing
            FROM rated WHERE rate IS NULL AND ordered_on >= ? GROUP BY card_id
        )
        SELECT c.*, g.missing, date_diff('day', c.last_on, ?::DATE)::BIGINT AS recency_days,
               CASE WHEN g.missing IS NULL THEN c.amount END AS monetary
        FROM customers c LEFT JOIN gaps g ON g.card_id = c.card_id""",
        [*rates_params, *params, as_of, base, base, start, start, start, as_of])
    con.execute(f"""
        CREATE TABLE rfm_rows AS
        WITH scored AS (
            SELECT v.*, qr.score AS r, qf.score AS f, qm.score AS m
            FROM rfm_valued v
            JOIN {_quintile("recency_days", worst_first="DESC", source="rfm_valued")} qr ON qr.v = v.recency_days
            JOIN {_quintile("frequency", worst_first="ASC", source="rfm_valued")} qf ON qf.v = v.frequency
            LEFT JOIN {_quintile("monetary", worst_first="ASC", source="rfm_valued", where="monetary IS NOT NULL")} qm
                ON qm.v = v.monetary
        )
        SELECT coalesce(s.m, 0) AS m_order, lower(c.name) AS name_order,
               s.card_id, c.external_id, c.name, c.kind, c.owner_id, c.owner, c.team_id, c.team, s.last_on,
               s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m, g.segment, s.missing
        FROM scored s JOIN snap.cards c ON c.id = s.card_id
        JOIN ({_segments_table()}) g ON g.r = s.r AND g.f = s.f AND g.m IS NOT DISTINCT FROM s.m""",
        [])
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
    counts = dict(con.execute("SELECT segment, count(*) FROM rfm_rows GROUP BY segment").fetchall())
    rows: Rows[Any] = Rows(con, "rfm_rows", columns, make, order="r DESC, f DESC, m_order DESC, name_order, card_id")
    return RfmReport(as_of=as_of, months=months, window_start=start, currency=base, rows=rows,
                     segment_counts={key: int(counts.get(key, 0)) for key in rfm.SEGMENTS})
