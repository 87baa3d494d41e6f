"""Rep performance: what each rep sold and how they worked over a period.

Per rep (the owner of the cards, visits, promises and deals):

* **revenue**, orders and buying customers: the counted orders of the cards the rep owns;
* **new-customer calls per working day** against a target (the textbook's "at least five a
  day": ``RAPPORT_NEW_CUSTOMER_CALLS_PER_DAY``): calls the rep logged with a card that had no
  counted order before the day of the call, over the working days (Monday to Friday) of the
  period up to today;
* **visits done** and **visit objectives met** (met ones over those with a result; "partly met"
  counts half);
* **promises kept**: our promises the rep owns that fell due in the period, kept on or before
  the day they were due;
* **conversion**: deals won over deals closed (won or lost) in the period, and the amount won.

Pure Python over pre-aggregated rows; ``selectors.reps_report`` reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

DEFAULT_CALL_TARGET = 5
# How the performance report groups sales (here, in a module without models, for the command line's menu).
PERFORMANCE_DIMENSIONS = ("category", "product", "region", "country", "industry", "tier", "rep", "team", "month")


def call_target() -> int:
    from django.conf import settings

    return int(getattr(settings, "RAPPORT_NEW_CUSTOMER_CALLS_PER_DAY", DEFAULT_CALL_TARGET))


def working_days(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days from ``start`` to ``end``, both included (0 when end < start)."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for k in range(rest):
        if (start + dt.timedelta(days=weeks * 7 + k)).weekday() < 5:
            count += 1
    return count


@dataclass
class RepFigures:
    revenue: Decimal = Decimal(0)
    orders: int = 0
    customers: int = 0
    new_customer_calls: int = 0
    visits_done: int = 0
    objectives_met: float = 0.0  # "partly met" counts half
    objectives_judged: int = 0
    promises_kept: int = 0
    promises_due: int = 0
    deals_won: int = 0
    deals_lost: int = 0
    won_amount: Decimal = Decimal(0)

    @property
    def objective_share(self) -> float | None:
        return self.objectives_met / self.objectives_judged if self.objectives_judged else None

    @property
    def promise_share(self) -> float | None:
        return self.promises_kept / self.promises_due if self.promises_due else None

    @property
    def conversion(self) -> float | None:
        closed = self.deals_won + self.deals_lost
        return self.deals_won / closed if closed else None


def new_customer_calls(calls: list[tuple[int, int, dt.date]], first_orders: dict[int, dt.date]) -> dict[int, int]:
    """Calls per rep with a card not yet a customer on the call's day, from (rep, card, day) rows
    (one per call and card; a call with two new cards counts once per call and card)."""
    counts: dict[int, int] = {}
    for rep, card, day in calls:
        first = first_orders.get(card)
        if first is None or first >= day:
            counts[rep] = counts.get(rep, 0) + 1
    return counts
