"""The funnel's order evidence, read from confirmed and delivered orders.

An order waiting for (or refused) a credit decision is not evidence yet; a cancelled order
never is. Revenue is converted to the reporting currency with the latest exchange rate valid
on the order's date; orders in a currency without a rate count nothing rather than a wrong sum.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet, Sum

from rapport.commerce import money
from rapport.commerce.models import COUNTED_ORDER, Approval, ExchangeRate, Order


def counted_orders() -> QuerySet[Order]:
    return Order.objects.filter(status__in=COUNTED_ORDER).exclude(approval__in=(Approval.PENDING, Approval.REFUSED))


class _Rates:
    def __init__(self) -> None:
        table: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for currency, valid_from, rate in ExchangeRate.objects.order_by("currency", "valid_from").values_list("currency", "valid_from", "rate"):
            table[currency].append((valid_from, rate))
        self.table = dict(table)
        self.dates = {currency: [row[0] for row in rows] for currency, rows in self.table.items()}
        self.base = money.reporting_currency()

    def rate(self, currency: str, on: dt.date) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        rows = self.table.get(currency)
        if not rows:
            return None
        i = bisect_right(self.dates[currency], on)
        return rows[i - 1][1] if i else rows[0][1]


class OrderEvidence:
    """Implements ``rapport.funnel.rules.OrderEvidence`` over the orders of this app."""

    def order_dates(self, card_ids: list[int]) -> dict[int, list[dt.date]]:
        dates: dict[int, list[dt.date]] = defaultdict(list)
        rows = counted_orders().filter(card_id__in=card_ids).values_list("card_id", "ordered_on").order_by()
        for card_id, ordered_on in rows.iterator(chunk_size=10_000):
            dates[card_id].append(ordered_on)
        return dict(dates)

    def revenue(self, card_ids: list[int]) -> dict[int, float]:
        rates = _Rates()
        totals: dict[int, Decimal] = defaultdict(Decimal)
        rows = (
            counted_orders().filter(card_id__in=card_ids).values("card_id", "currency", "ordered_on")
            .annotate(s=Sum("total")).order_by()
        )
        for row in rows.iterator(chunk_size=10_000):
            rate = rates.rate(row["currency"], row["ordered_on"])
            if rate is not None:
                totals[row["card_id"]] += row["s"] * rate
        return {card_id: float(total) for card_id, total in totals.items()}


evidence = OrderEvidence()
