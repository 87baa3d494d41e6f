import datetime as dt
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
