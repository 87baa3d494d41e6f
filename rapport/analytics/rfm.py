"""RFM: how recently, how often and how much each customer buys, as quintile scores 1–5.

The measures
------------
For every customer with at least one counted order up to the as-of date:

* **recency** — days from the last order day to the as-of date (orders after it are ignored);
* **frequency** — distinct order days in the window, the ``months`` calendar months before the
  as-of date (as-of 2026-06-30 with 12 months: 2025-07-01 to 2026-06-30, both included);
* **monetary** — the sum of the order totals in the window in the reporting currency, each
  order converted with the latest exchange rate valid on its date. If any order in the window
  is in a currency without a rate the sum would be wrong, so it is not made: monetary is
  ``None``, the customer carries a note, and it is scored on recency and frequency only.

The scores
----------
Each measure is scored 1–5 (5 best: the most recent, the most frequent, the highest monetary)
by its rank among the customers in the report — the mid-rank quintile rule:

* the customers are sorted from worst to best; a group of equal values takes the positions
  ``first..last`` (1-based) and all of it gets the score of its mid-rank ``(first + last) / 2``;
* a mid-rank ``k`` among ``n`` customers scores ``1 + ⌊5 (k − ½) / n⌋``: the quintile into which
  the middle of its position falls.

Equal values always get equal scores; ten distinct values score 1,1,2,2,3,3,4,4,5,5; a single
customer, or customers that are all equal, score 3 (the middle: nothing to compare against);
two customers score 2 and 4. Only customers with a monetary value are ranked on monetary.

The segments
------------
A segment is named from R and FM, the rounded-up mean of F and M (F alone when monetary is
missing):

=========  ============  ==================
R          FM ≥ 4        FM = 3     FM ≤ 2
=========  ============  ==================
4–5        Champions     Loyal      New
3          Loyal         Loyal      Needs attention
1–2        At risk       At risk    Hibernating
=========  ============  ==================

The score is written as three digits, R F M ("545"), with "-" for a missing M ("54-").
Everything is pure Python, O(order days).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_MONTHS = 12
MAX_MONTHS = 120

# Segment keys, best first; the words shown are translated by the selectors.
CHAMPIONS = "champions"
LOYAL = "loyal"
NEW = "new"
NEEDS_ATTENTION = "needs_attention"
AT_RISK = "at_risk"
HIBERNATING = "hibernating"
SEGMENTS = (CHAMPIONS, LOYAL, NEW, NEEDS_ATTENTION, AT_RISK, HIBERNATING)


@dataclass(frozen=True)
class Purchases:
    """One customer's orders up to the as-of date, reduced to what RFM needs."""

    last: dt.date  # last order day up to the as-of date
    frequency: int  # distinct order days in the window
    monetary: Decimal | None  # sum in the reporting currency over the window; None: a currency without a rate
    missing_rates: tuple[str, ...]  # currencies in the window without an exchange rate, sorted


@dataclass(frozen=True)
class Scores:
    r: int
    f: int
    m: int | None  # None: no monetary value
    segment: str  # one of SEGMENTS

    @property
    def text(self) -> str:
        return f"{self.r}{self.f}{'-' if self.m is None else self.m}"


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_start(as_of: dt.date, months: int = DEFAULT_MONTHS) -> dt.date:
    """The first day of the window: the day after the same date ``months`` months earlier."""
    if months < 1:
        raise ValueError("months must be at least 1")
    return months_before(as_of, months) + dt.timedelta(days=1)


def purchases(
    rows: Iterable[tuple[K, dt.date, str, Decimal]],
    *,
    as_of: dt.date,
    start: dt.date,
    rate: Callable[[str, dt.date], Decimal | None],
) -> dict[K, Purchases]:
    """Per customer from ``(customer, order day, currency, total)`` rows (several rows per day
    and currency allowed, any order). ``rate(currency, day)`` is the value of one unit in the
    reporting currency on that day, ``None`` when there is no rate. Rows after ``as_of`` are ignored."""
    last: dict[K, dt.date] = {}
    days: dict[K, set[dt.date]] = {}
    totals: dict[K, Decimal] = {}
    missing: dict[K, set[str]] = {}
    for key, day, currency, total in rows:
        if day > as_of:
            continue
        if key not in last or day > last[key]:
            last[key] = day
        if day < start:
            continue
        days.setdefault(key, set()).add(day)
        factor = rate(currency, day)
        if factor is None:
            missing.setdefault(key, set()).add(currency)
        else:
            totals[key] = totals.get(key, Decimal(0)) + Decimal(total) * factor
    result = {}
    for key, day in last.items():
        gaps = tuple(sorted(missing.get(key, ())))
        result[key] = Purchases(
            last=day, frequency=len(days.get(key, ())),
            monetary=None if gaps else totals.get(key, Decimal(0)), missing_rates=gaps,
        )
    return result


def quintiles(values: Mapping[K, float | int | Decimal], *, higher_is_better: bool = True) -> dict[K, int]:
    """Scores 1–5 by the mid-rank quintile rule (see the module's documentation)."""
    n = len(values)
    ordered = sorted(values.items(), key=lambda item: item[1], reverse=not higher_is_better)  # worst first
    scores: dict[K, int] = {}
    i = 0
    while i < n:
        j = i
        while j + 1 < n and ordered[j + 1][1] == ordered[i][1]:
            j += 1
        first, last = i + 1, j + 1
        # mid-rank k = (first + last) / 2; score = 1 + floor(5 (k − ½) / n), in integers.
        score = min(5, max(1, 1 + (5 * (first + last - 1)) // (2 * n)))
        for k in range(i, j + 1):
            scores[ordered[k][0]] = score
        i = j + 1
    return scores


def fm(f: int, m: int | None) -> int:
    """F and M combined: their mean rounded up, or F alone without a monetary score."""
    return f if m is None else (f + m + 1) // 2


def segment(r: int, f: int, m: int | None) -> str:
    """The segment of an R, F, M score (the table in the module's documentation)."""
    combined = fm(f, m)
    if r >= 4:
        return CHAMPIONS if combined >= 4 else LOYAL if combined == 3 else NEW
    if r == 3:
        return LOYAL if combined >= 3 else NEEDS_ATTENTION
    return AT_RISK if combined >= 3 else HIBERNATING


def score(customers: Mapping[K, Purchases], *, as_of: dt.date) -> dict[K, Scores]:
    """R, F, M and the segment of every customer, ranked against the others in ``customers``."""
    r = quintiles({key: (as_of - p.last).days for key, p in customers.items()}, higher_is_better=False)
    f = quintiles({key: p.frequency for key, p in customers.items()})
    m = quintiles({key: p.monetary for key, p in customers.items() if p.monetary is not None})
    result = {}
    for key in customers:
        mk = m.get(key)
        result[key] = Scores(r=r[key], f=f[key], m=mk, segment=segment(r[key], f[key], mk))
    return result
