"""An operator exempts named users (a load test's, a service account) from the API rate limit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from rapport.privacy.tests.factories import api_client


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


def test_an_exempt_user_is_never_answered_429(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_API_RATE = "2/m"
    settings.RAPPORT_RATE_LIMIT_EXEMPT = ["rep_ana"]
    api = api_client(users["rep_ana"])
    assert [api.get("/api/v1/organizations").status_code for _ in range(6)] == [200] * 6


def test_users_not_named_keep_their_limit(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_API_RATE = "2/m"
    settings.RAPPORT_RATE_LIMIT_EXEMPT = ["rep_ana"]
    api = api_client(users["rep_ben"])
    assert [api.get("/api/v1/organizations").status_code for _ in range(3)] == [200, 200, 429]


def test_the_exemption_is_read_from_the_environment(monkeypatch: Any) -> None:
    import importlib

    import rapport.settings

    monkeypatch.setenv("RAPPORT_RATE_LIMIT_EXEMPT", "bench_admin, erp_sync")
    try:
        assert importlib.reload(rapport.settings).RAPPORT_RATE_LIMIT_EXEMPT == ["bench_admin", "erp_sync"]
    finally:
        monkeypatch.delenv("RAPPORT_RATE_LIMIT_EXEMPT")
        importlib.reload(rapport.settings)
