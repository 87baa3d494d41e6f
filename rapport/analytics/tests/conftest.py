import datetime as dt
from decimal import Decimal
from typing import Any

import pytest


@pytest.fixture
def orders() -> Any:
    """Records counted orders of a card on the given days (one order per day listed; repeat a day for more)."""
    from rapport.commerce.models import Order, OrderStatus

    def add(card: Any, days: list[dt.date], **extra: Any) -> None:
        extra.setdefault("status", OrderStatus.CONFIRMED)
        Order.objects.bulk_create([Order(card=card, currency="EUR", ordered_on=day, total=100, **extra) for day in days])

    return add


@pytest.fixture
def sell(users: Any) -> Any:
    """Records a counted order with lines (product, quantity, unit price, discount %)."""
    from rapport.commerce.models import Order, OrderLine, OrderStatus

    def add(card: Any, day: dt.date, *lines: tuple[Any, int, str, str], currency: str = "EUR", **extra: Any) -> Any:
        extra.setdefault("status", OrderStatus.CONFIRMED)
        amounts = []
        for _product, quantity, price, discount in lines:
            gross = Decimal(quantity) * Decimal(price)
            amounts.append((gross * (1 - Decimal(discount) / 100)).quantize(Decimal("0.01")))
        order = Order.objects.create(card=card, ordered_on=day, currency=currency, total=sum(amounts, Decimal(0)), **extra)
        OrderLine.objects.bulk_create([
            OrderLine(order=order, position=i, product=product, quantity=quantity, unit_price=Decimal(price),
                      discount=Decimal(discount), amount=amount)
            for i, ((product, quantity, price, discount), amount) in enumerate(zip(lines, amounts))
        ])
        return order

    return add


@pytest.fixture
def products() -> dict[str, Any]:
    from rapport.commerce.models import Product

    return {
        "oil": Product.objects.create(sku="OIL-1", name="Aceite", unit_cost=Decimal("6.00")),
        "rice": Product.objects.create(sku="RICE-1", name="Arroz", unit_cost=Decimal("1.50")),
        "new": Product.objects.create(sku="NEW-1", name="Novedad"),  # no unit cost yet
    }
