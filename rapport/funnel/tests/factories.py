"""Helpers for funnel tests: an API client per user and a fake source of order evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import Client

from rapport.accounts.services import create_token
from rapport.funnel import rules


def api(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


class FakeOrders:
    """Order dates and revenue per card, as an orders app will provide them."""

    def __init__(self, dates: dict[int, list[dt.date]] | None = None, revenue: dict[int, float] | None = None) -> None:
        self.dates = dates or {}
        self.amounts = revenue or {}

    def order_dates(self, card_ids: list[int]) -> dict[int, list[dt.date]]:
        return {c: self.dates[c] for c in card_ids if c in self.dates}

    def revenue(self, card_ids: list[int]) -> dict[int, float]:
        return {c: self.amounts[c] for c in card_ids if c in self.amounts}


@contextmanager
def orders(provider: FakeOrders) -> Iterator[FakeOrders]:
    rules.register_order_evidence(provider)
    try:
        yield provider
    finally:
        rules.unregister_order_evidence(provider)
