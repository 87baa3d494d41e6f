"""Profitability per customer: what it bought, what that cost us, and what serving it cost.

For each customer over a period, in the reporting currency:

* **revenue**: its counted orders' totals (after line discounts), each converted with the
  exchange rate valid on the order's date;
* **discounts**: what the line discounts gave away (list value − amount), converted the same way;
* **cost of goods**: quantity × the product's unit cost (``Product.unit_cost``, kept in the
  reporting currency) over the order lines;
* **margin** (marginal profit) = revenue − cost of goods;
* **cost to serve**: the activities logged with the customer in the period (visits, calls,
  meetings, e-mails…) at a unit cost per kind (``RAPPORT_COST_TO_SERVE``); an activity with
  several customers is shared equally between them;
* **net profit** = margin − cost to serve.

Nothing is summed blindly: an order in a currency without a rate is left out of revenue and
named in the customer's note, and lines of products without a unit cost are counted and named
too, since their margin is then overstated. Pure Python over pre-aggregated rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)

# Unit costs of serving a customer by activity kind, in the reporting currency: a visit costs the
# rep's time on the road, a call a few minutes. Override with RAPPORT_COST_TO_SERVE.
DEFAULT_COST_TO_SERVE: dict[str, Decimal] = {
    "visit": Decimal("60"), "meeting": Decimal("40"), "event": Decimal("30"), "gift": Decimal("20"),
    "call": Decimal("5"), "email": Decimal("1"), "message": Decimal("1"), "note": Decimal("0"),
}


def unit_costs() -> dict[str, Decimal]:
    from django.conf import settings

    configured = getattr(settings, "RAPPORT_COST_TO_SERVE", None) or {}
    costs = dict(DEFAULT_COST_TO_SERVE)
    costs.update({str(kind): Decimal(str(value)) for kind, value in configured.items()})
    return costs


@dataclass
class Profit:
    """One customer's figures over the period, in the reporting currency."""

    orders: int = 0
    revenue: Decimal = ZERO
    discounts: Decimal = ZERO
    cost_of_goods: Decimal = ZERO
    activities: int = 0
    cost_to_serve: Decimal = ZERO
    uncosted_lines: int = 0  # lines of products without a unit cost: their cost of goods is missing
    missing_rates: set[str] = field(default_factory=set)  # currencies without an exchange rate

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost_of_goods

    @property
    def net_profit(self) -> Decimal:
        return self.margin - self.cost_to_serve

    @property
    def margin_share(self) -> float | None:
        """Margin as a share of revenue; ``None`` without revenue."""
        return float(self.margin / self.revenue) if self.revenue else None


def combine(
    orders: Iterable[tuple[int, str, dt.date, int, Decimal]],
    lines: Iterable[tuple[int, str, dt.date, Decimal, Decimal, int]],
    activities: Iterable[tuple[int, str, int]],
    *,
    rate: Callable[[str, dt.date], Decimal | None],
    costs: Mapping[str, Decimal],
) -> dict[int, Profit]:
    """Per customer from pre-aggregated rows:

    * ``orders``: (customer, currency, day, orders, total);
    * ``lines``: (customer, currency, day, discounts, cost of goods, lines without a cost) — the
      discounts in the order's currency, the cost of goods already in the reporting currency;
    * ``activities``: (customer, kind, how many customers the activity was with).
    """
    result: dict[int, Profit] = defaultdict(Profit)
    for card, currency, day, count, total in orders:
        p = result[card]
        p.orders += count
        factor = rate(currency, day)
        if factor is None:
            p.missing_rates.add(currency)
        else:
            p.revenue += Decimal(total) * factor
    for card, currency, day, discounts, goods, uncosted in lines:
        p = result[card]
        factor = rate(currency, day)
        if factor is not None:
            p.discounts += Decimal(discounts or 0) * factor
        p.cost_of_goods += Decimal(goods or 0)
        p.uncosted_lines += uncosted
    for card, kind, shared_by in activities:
        p = result[card]
        p.activities += 1
        p.cost_to_serve += costs.get(kind, ZERO) / max(shared_by, 1)
    return dict(result)


def least_profitable(profits: Mapping[int, Profit], tiers: Mapping[int, str], *, per_tier: int = 5) -> dict[str, list[int]]:
    """The customers of each tier with the lowest net profit, lowest first (ties by id)."""
    by_tier: dict[str, list[int]] = defaultdict(list)
    for card in profits:
        by_tier[tiers.get(card, "")].append(card)
    return {tier: sorted(cards, key=lambda c: (profits[c].net_profit, c))[:per_tier] for tier, cards in by_tier.items()}
