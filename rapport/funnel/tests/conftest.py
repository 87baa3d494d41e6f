"""Each test starts with an empty cache: the funnel report is cached per user and filter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_orders_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """The funnel's tests bring their own order evidence (``factories.FakeOrders``): the one an
    installed orders app registers is set aside, so the funnel is tested on its own."""
    from rapport.funnel import rules

    monkeypatch.setattr(rules, "_providers", [])
