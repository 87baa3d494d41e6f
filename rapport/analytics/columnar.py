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
    """The rows of a report held in a temporary table ``table`` (column ``pos`` gives their
    order), read lazily; ``make`` turns a fetched tuple into a row object."""

    def __init__(self, con: Any, table: str, columns: Sequence[str], make: Callable[[tuple[Any, ...]], T],
                 where: str = "", params: Sequence[Any] = (), *, owns: bool = True) -> None:
        self._con = con
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
                             owns=False)
        rows._parent = self
        return rows

    def _select(self, limit: int, offset: int) -> list[tuple[Any, ...]]:
        where = f"WHERE {self._where}" if self._where else ""
        sql = f"SELECT {', '.join(self._columns)} FROM {self._table} {where} ORDER BY pos LIMIT ? OFFSET ?"
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
        offset = 0
        while True:
            chunk = self._select(CHUNK, offset)
            yield from (self._make(row) for row in chunk)
            if len(chunk) < CHUNK:
                return
            offset += CHUNK


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
        CREATE TEMP TABLE histories AS
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
        CREATE TEMP TABLE churn_rows AS
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
        SELECT row_number() OVER (ORDER BY flagged DESC, coalesce(round(risk, 4), -1) DESC, lower(name), card_id) AS pos,
               *
        FROM flagged""", [as_of, prior.alpha, prior.r, *params, alert, has_alert, alert])
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
    rows: Rows[Any] = Rows(con, "churn_rows", columns, make)
    flagged_row = con.execute("SELECT count(*) FROM churn_rows WHERE flagged").fetchone()
    return ChurnReport(as_of=as_of, alert=alert, prior=prior, rows=rows, flagged=int(flagged_row[0]) if flagged_row else 0)


# ---------------------------------------------------------------------------------------------
# RFM

def _quintile(value: str, *, worst_first: str, partition: str = "") -> str:
    """The mid-rank quintile rule of ``rfm.quintiles`` as a window expression."""
    over = f"PARTITION BY {partition} " if partition else ""
    n = f"count(*) OVER ({over.strip()})" if partition else "count(*) OVER ()"
    first = f"rank() OVER ({over}ORDER BY {value} {worst_first})"
    ties = f"count(*) OVER (PARTITION BY {partition + ', ' if partition else ''}{value})"
    last = f"({first} + {ties} - 1)"
    return f"least(5, greatest(1, 1 + (5 * ({first} + {last} - 1)) // (2 * {n})))"


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
        CREATE TEMP TABLE rfm_rows AS
        WITH rates AS ({rates_sql}),
        first_rates AS (SELECT currency, arg_min(rate, valid_from) AS rate FROM rates GROUP BY currency),
        days AS (
            SELECT o.card_id, o.ordered_on, o.currency, sum(o.total) AS total
            FROM snap.orders o JOIN snap.cards c ON c.id = o.card_id
            WHERE {scope} AND o.ordered_on <= ?
            GROUP BY ALL
        ), rated AS (
            SELECT d.*, CASE WHEN d.currency = ? THEN 1::DECIMAL(18, 8) ELSE coalesce(r.rate, f.rate) END AS rate
            FROM days d
            ASOF LEFT JOIN rates r ON d.currency = r.currency AND d.ordered_on >= r.valid_from
            LEFT JOIN first_rates f ON f.currency = d.currency
        ), customers AS (
            SELECT card_id, max(ordered_on) AS last_on,
                   count(DISTINCT ordered_on) FILTER (WHERE ordered_on >= ?) AS frequency,
                   coalesce(sum(total * rate) FILTER (WHERE ordered_on >= ?), 0) AS amount,
                   list(DISTINCT currency ORDER BY currency) FILTER (WHERE ordered_on >= ? AND rate IS NULL) AS missing
            FROM rated GROUP BY card_id
        ), valued AS (
            SELECT *, date_diff('day', last_on, ?::DATE)::BIGINT AS recency_days,
                   CASE WHEN len(coalesce(missing, [])) = 0 THEN amount END AS monetary
            FROM customers
        ), scored AS (
            SELECT *,
                   {_quintile("recency_days", worst_first="DESC")} AS r,
                   {_quintile("frequency", worst_first="ASC")} AS f,
                   CASE WHEN monetary IS NOT NULL THEN
                       {_quintile("monetary", worst_first="ASC", partition="(monetary IS NULL)")} END AS m
            FROM valued
        )
        SELECT row_number() OVER (ORDER BY s.r DESC, s.f DESC, coalesce(s.m, 0) DESC, lower(c.name), s.card_id) AS pos,
               s.card_id, c.external_id, c.name, c.kind, c.owner_id, c.owner, c.team_id, c.team, s.last_on,
               s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m, g.segment, s.missing
        FROM scored s JOIN snap.cards c ON c.id = s.card_id
        JOIN ({_segments_table()}) g ON g.r = s.r AND g.f = s.f AND g.m IS NOT DISTINCT FROM s.m""",
        [*rates_params, *params, as_of, base, start, start, start, as_of])
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
    rows: Rows[Any] = Rows(con, "rfm_rows", columns, make)
    return RfmReport(as_of=as_of, months=months, window_start=start, currency=base, rows=rows,
                     segment_counts={key: int(counts.get(key, 0)) for key in rfm.SEGMENTS})
