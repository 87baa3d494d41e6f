"""Persistence: how many customers of each cohort keep ordering, month after month.

Cohorts
-------
A customer's cohort is the calendar month of its first counted order up to the as-of date.
The report shows the ``cohorts`` most recent months, the as-of month included (as of
2026-06-30 with 12 cohorts: July 2025 to June 2026); months in which no customer placed a
first order have no row.

Month offsets
-------------
For each cohort and each month offset 0..N, where N is the number of months between the cohort
and the as-of month (capped at ``MAX_OFFSET``, 24), the cell holds how many of the cohort's
customers ordered in that month, and their share of the cohort. Offset 0 is the cohort month
itself, so it is always 100 %. The as-of month counts up to the as-of day. Orders after the
as-of date are ignored. The grid is as wide as the oldest cohort needs; the younger cohorts'
months that have not elapsed yet are blanks (``None``), not zeros.

Loyalty
-------
Per cohort, the share of its customers with at least one order in the last ``RECENT_MONTHS`` (3)
months up to the as-of date, by the rule of the RFM window: from the day after the same date three
months earlier (as of 2026-06-30: 2026-03-31 to 2026-06-30; as of 2026-06-15: 2026-03-16 to
2026-06-15). A cohort that began in that window is fully active by definition.

Repeat rate and its change
--------------------------
The repeat rate is the share of the report's customers (those of the cohorts shown) who ordered
on at least two different days up to the as-of date. It is compared with the same report as of
one year earlier (same number of cohorts, ending a year earlier); the change is the difference of
the two shares (0.05 = 5 percentage points), ``None`` when either has no customer.

Everything is pure Python, O(order days).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapport.analytics.rfm import months_before, window_start

K = TypeVar("K", bound=Hashable)

DEFAULT_COHORTS = 12
MAX_COHORTS = 36
MAX_OFFSET = 24  # the widest grid: the cohort month and the 24 months after it
RECENT_MONTHS = 3  # loyalty: ordered within this many months up to the as-of date
SHADES = 10  # heat-map steps: shade 1..10 for a share above 0, 0 for nobody


def month_index(day: dt.date) -> int:
    """Months since year 0: consecutive months have consecutive indexes."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> dt.date:
    """The first day of the month with this index."""
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


def shade(share: float) -> int:
    """The heat-map step of a share: 0 for nobody, else 1..10 by tenths rounded up."""
    if share <= 0:
        return 0
    return min(SHADES, max(1, math.ceil(round(share * SHADES, 9))))


@dataclass(frozen=True)
class Cell:
    offset: int  # months after the cohort month
    month: dt.date  # first day of the month
    customers: int  # the cohort's customers with an order in that month
    share: float  # customers / cohort size

    @property
    def shade(self) -> int:
        return shade(self.share)


@dataclass(frozen=True)
class Cohort(Generic[K]):
    month: dt.date  # first day of the cohort month
    members: frozenset[K]
    cells: tuple[Cell | None, ...]  # offsets 0..width − 1; None: the month has not elapsed yet
    active_recent: int  # customers with an order in the last RECENT_MONTHS months
    repeaters: int  # customers with orders on at least two days

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def loyalty(self) -> float:
        return self.active_recent / self.size if self.members else 0.0


@dataclass(frozen=True)
class Retention(Generic[K]):
    as_of: dt.date
    recent_start: dt.date  # first day of the loyalty window
    width: int  # month offsets shown: 0..width − 1
    cohorts: tuple[Cohort[K], ...]  # oldest first
    repeat_rate: float | None  # None: no customer
    previous_as_of: dt.date  # the same date one year earlier
    previous_repeat_rate: float | None

    @property
    def customers(self) -> int:
        return sum(c.size for c in self.cohorts)

    @property
    def repeaters(self) -> int:
        return sum(c.repeaters for c in self.cohorts)

    @property
    def repeat_change(self) -> float | None:
        if self.repeat_rate is None or self.previous_repeat_rate is None:
            return None
        return self.repeat_rate - self.previous_repeat_rate


def _order_days(rows: Iterable[tuple[K, dt.date]], as_of: dt.date) -> dict[K, list[dt.date]]:
    days: dict[K, set[dt.date]] = {}
    for key, day in rows:
        if day <= as_of:
            days.setdefault(key, set()).add(day)
    return {key: sorted(found) for key, found in days.items()}


def _repeat_rate(days: dict[K, list[dt.date]], *, as_of: dt.date, cohorts: int) -> float | None:
    """The share of the customers of the ``cohorts`` months up to ``as_of`` with two order days or more by then."""
    first_month = month_index(as_of) - cohorts + 1
    customers = repeaters = 0
    for found in days.values():
        if found[0] > as_of or month_index(found[0]) < first_month:
            continue
        customers += 1
        if len(found) > 1 and found[1] <= as_of:
            repeaters += 1
    return repeaters / customers if customers else None


def retention(rows: Iterable[tuple[K, dt.date]], *, as_of: dt.date, cohorts: int = DEFAULT_COHORTS) -> Retention[K]:
    """The cohort grid from ``(customer, order day)`` rows (several per customer and day allowed,
    any order); rows after ``as_of`` are ignored."""
    if not 1 <= cohorts <= MAX_COHORTS:
        raise ValueError(f"cohorts must be between 1 and {MAX_COHORTS}")
    previous_as_of = months_before(as_of, 12)
    days = _order_days(rows, as_of)
    now = month_index(as_of)
    recent_start = window_start(as_of, RECENT_MONTHS)

    members: dict[int, set[K]] = {}
    for key, found in days.items():
        start = month_index(found[0])
        if start > now - cohorts:
            members.setdefault(start, set()).add(key)
    width = min(now - min(members), MAX_OFFSET) + 1 if members else 0

    result = []
    for start in sorted(members):
        keys = members[start]
        active = [0] * width
        recent = repeaters = 0
        for key in keys:
            found = days[key]
            for index in {month_index(day) - start for day in found}:
                if index < width:
                    active[index] += 1
            recent += found[-1] >= recent_start
            repeaters += len(found) > 1
        elapsed = now - start
        cells = tuple(
            Cell(offset=k, month=month_start(start + k), customers=active[k], share=active[k] / len(keys))
            if k <= elapsed else None
            for k in range(width)
        )
        result.append(Cohort(month=month_start(start), members=frozenset(keys), cells=cells,
                             active_recent=recent, repeaters=repeaters))
    total = sum(len(keys) for keys in members.values())
    return Retention(
        as_of=as_of, recent_start=recent_start, width=width, cohorts=tuple(result),
        repeat_rate=sum(c.repeaters for c in result) / total if total else None,
        previous_as_of=previous_as_of,
        previous_repeat_rate=_repeat_rate(days, as_of=previous_as_of, cohorts=cohorts),
    )
