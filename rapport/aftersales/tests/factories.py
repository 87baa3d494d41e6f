"""Helpers for after-sales tests: API clients per user, delivered orders and recorded checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client

from rapport.accounts.services import create_token
from rapport.aftersales import services
from rapport.aftersales.models import SatisfactionCheck
from rapport.commerce.models import Order, OrderStatus

DELIVERED = dt.date(2026, 3, 2)


def api(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def order(card: Any, *, status: str = OrderStatus.DELIVERED, delivered_on: dt.date | None = DELIVERED,
          accepted_on: dt.date | None = None, number: str = "") -> Order:
    """An order straight in the table: after-sales reads orders, it does not take them."""
    return Order.objects.create(
        card=card, status=status, currency="EUR", ordered_on=dt.date(2026, 2, 20), delivered_on=delivered_on,
        accepted_on=accepted_on, total=Decimal("120.00"), external_id=number,
    )


def check_for(card: Any, *, delivered_on: dt.date = DELIVERED) -> SatisfactionCheck:
    """A delivered order of ``card`` with its scheduled check."""
    placed = order(card, delivered_on=delivered_on)
    services.schedule_satisfaction_checks(today=delivered_on)
    return SatisfactionCheck.objects.get(order=placed)


def satisfied(card: Any, user: Any, score: int = 5) -> SatisfactionCheck:
    """A card whose latest check is recorded with ``score``."""
    check = check_for(card)
    return services.record_check_result(user=user, check=check, data={"score": score, "comment": "Muy contentos"})
