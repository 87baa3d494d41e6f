"""Products: which ones carry the business (ABC), which are bought together, and what a customer
does not buy yet that customers like it do (the cross-sell list on the card).

* **ABC**: products by revenue, highest first; class A while the running share of revenue stays
  within 80 %, B within 95 %, C after (the product that crosses a limit belongs to the class it
  completes). The limits are the classic Pareto cut used for stock and sales focus.
* **Bought together**: pairs of products on the same order, with how many orders hold both,
  the *confidence* (of the orders with the first, the share that also hold the second) and the
  *lift* (how much more often they meet than chance: confidence ÷ the second's share of orders);
  a lift above 1 means they belong together.
* **Cross-sell** for one customer: the customers who bought any of the same products are its
  neighbours; each product it has not bought is scored by the share of neighbours who bought
  it, weighted by how much they have in common with it (Jaccard overlap of their product sets).
  Explainable as "bought by 12 of the 30 customers who buy what this customer buys".

Pure Python over (order, product) and (customer, product) pairs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

A_LIMIT = Decimal("0.80")
B_LIMIT = Decimal("0.95")
MAX_PRODUCTS_PER_ORDER = 60  # a bigger order adds nothing to "bought together" but cost (pairs grow as n²)


@dataclass(frozen=True)
class AbcRow:
    product_id: int
    revenue: Decimal
    share: Decimal  # of all revenue
    cumulative: Decimal  # running share, this product included
    abc: str  # "A", "B" or "C"


def abc(revenue: Mapping[int, Decimal]) -> list[AbcRow]:
    """Products by revenue, highest first (ties by id), with their class."""
    total = sum((v for v in revenue.values() if v > 0), Decimal(0))
    rows = []
    running = Decimal(0)
    for product_id, value in sorted(revenue.items(), key=lambda item: (-item[1], item[0])):
        share = value / total if total else Decimal(0)
        before = running
        running += max(share, Decimal(0))
        cls = "A" if before < A_LIMIT else "B" if before < B_LIMIT else "C"
        rows.append(AbcRow(product_id=product_id, revenue=value, share=share, cumulative=running, abc=cls))
    return rows


@dataclass(frozen=True)
class Pair:
    first: int
    second: int
    orders: int  # orders holding both
    confidence: float  # orders with both / orders with the first
    lift: float


def bought_together(orders: Iterable[tuple[int, int]], *, min_orders: int = 2, limit: int = 50) -> list[Pair]:
    """Pairs of products from (order, product) rows, most frequent first; each pair appears
    once, in both directions' best order (the first is the one with fewer orders, so the
    confidence reads "who buys the rarer one also buys the other")."""
    baskets: dict[int, set[int]] = defaultdict(set)
    for order_id, product_id in orders:
        baskets[order_id].add(product_id)
    single: Counter[int] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    for products in baskets.values():
        single.update(products)
        if 1 < len(products) <= MAX_PRODUCTS_PER_ORDER:
            pairs.update(combinations(sorted(products), 2))
    n = len(baskets)
    result = []
    for (a, b), together in pairs.items():
        if together < min_orders:
            continue
        first, second = (a, b) if (single[a], a) <= (single[b], b) else (b, a)
        confidence = together / single[first]
        lift = confidence / (single[second] / n) if n else 0.0
        result.append(Pair(first=first, second=second, orders=together, confidence=confidence, lift=lift))
    result.sort(key=lambda p: (-p.orders, -p.lift, p.first, p.second))
    return result[:limit]


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    score: float
    buyers: int  # neighbours who bought it
    neighbours: int  # customers sharing at least one product with this one


def cross_sell(customer: int, bought: Mapping[int, set[int]], *, limit: int = 5) -> list[Suggestion]:
    """Products ``customer`` has not bought, ranked by its neighbours' purchases (``bought``:
    customer → products). Empty when it has bought nothing or has no neighbour."""
    own = bought.get(customer, set())
    if not own:
        return []
    weights: dict[int, float] = {}
    for other, products in bought.items():
        if other == customer:
            continue
        common = len(own & products)
        if common:
            weights[other] = common / len(own | products)
    if not weights:
        return []
    scores: dict[int, float] = defaultdict(float)
    buyers: Counter[int] = Counter()
    for other, weight in weights.items():
        for product in bought[other] - own:
            scores[product] += weight
            buyers[product] += 1
    total = sum(weights.values())
    ranked = sorted(scores.items(), key=lambda item: (-item[1], -buyers[item[0]], item[0]))
    return [Suggestion(product_id=p, score=round(s / total, 4), buyers=buyers[p], neighbours=len(weights))
            for p, s in ranked[:limit]]
