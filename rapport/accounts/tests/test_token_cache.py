"""Bearer tokens are read from the database once per few seconds, and revocation still bites."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts import services
from rapport.accounts.models import ApiToken
from rapport.accounts.services import create_token, forget_tokens, revoke_token, token_for


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    forget_tokens()
    services._touched.clear()
    yield
    forget_tokens()
    services._touched.clear()


class Clock:
    """Stands in for time.monotonic in the token cache."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    fake = Clock()
    monkeypatch.setattr(services.time, "monotonic", fake)
    return fake


def test_a_cached_token_costs_only_the_read_of_its_user(users: dict[str, Any], django_assert_num_queries: Any) -> None:
    raw = create_token(user=users["rep_ana"])
    with django_assert_num_queries(3):  # the token, its user, last_used_at
        assert token_for(raw) is not None
    with django_assert_num_queries(1):  # its user only
        found = token_for(raw)
    assert found is not None and found.user == users["rep_ana"] and found.scope == "write"


def test_a_revoked_token_stops_at_once_in_the_process_that_revoked_it(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/organizations").status_code == 200
    revoke_token(user=users["rep_ana"], prefix=raw[:10])
    assert client.get("/api/v1/organizations").status_code == 401


def test_a_revocation_made_by_another_process_counts_once_the_cache_time_has_passed(
    users: dict[str, Any], clock: Clock, settings: Any
) -> None:
    settings.RAPPORT_TOKEN_CACHE_SECONDS = 5
    raw = create_token(user=users["rep_ana"])
    assert token_for(raw) is not None
    # What `rapport token revoke` does from its own process: this one's cache is not told.
    ApiToken.objects.update(revoked_at=timezone.now())
    clock.now += 4.9
    assert token_for(raw) is not None
    clock.now += 0.2
    assert token_for(raw) is None


def test_without_a_cache_time_every_call_reads_the_token(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_TOKEN_CACHE_SECONDS = 0
    raw = create_token(user=users["rep_ana"])
    assert token_for(raw) is not None
    ApiToken.objects.update(revoked_at=timezone.now())
    assert token_for(raw) is None


def test_a_cached_token_stops_at_its_expiry_without_reading_the_database(users: dict[str, Any], monkeypatch: Any) -> None:
    raw = create_token(user=users["rep_ana"], days=1)
    assert token_for(raw) is not None
    later = timezone.now() + dt.timedelta(days=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert token_for(raw) is None


def test_a_deactivated_user_is_refused_at_once_even_with_a_cached_token(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    assert token_for(raw) is not None
    type(users["rep_ana"]).objects.filter(pk=users["rep_ana"].pk).update(is_active=False)
    assert token_for(raw) is None


def test_last_used_at_is_written_at_most_once_a_minute(users: dict[str, Any], monkeypatch: Any) -> None:
    raw = create_token(user=users["rep_ana"])
    start = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: start)
    token_for(raw)
    assert ApiToken.objects.get().last_used_at == start
    monkeypatch.setattr(timezone, "now", lambda: start + dt.timedelta(seconds=59))
    token_for(raw)
    assert ApiToken.objects.get().last_used_at == start
    forget_tokens()  # also when the token row is read again
    token_for(raw)
    assert ApiToken.objects.get().last_used_at == start
    monkeypatch.setattr(timezone, "now", lambda: start + dt.timedelta(seconds=61))
    token_for(raw)
    assert ApiToken.objects.get().last_used_at == start + dt.timedelta(seconds=61)


def test_another_process_does_not_write_last_used_at_again_within_the_minute(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    token_for(raw)
    first = ApiToken.objects.get().last_used_at
    # A second worker process: its own empty cache, the same database.
    forget_tokens()
    services._touched.clear()
    token_for(raw)
    assert ApiToken.objects.get().last_used_at == first


def test_made_up_tokens_are_not_cached(users: dict[str, Any]) -> None:
    for n in range(50):
        assert token_for(f"rp_made_up_{n}") is None
    assert services._tokens == {}


def test_a_token_revoked_on_the_admin_site_stops_at_once_in_that_process(users: dict[str, Any]) -> None:
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    raw = create_token(user=users["admin"])
    assert token_for(raw) is not None
    token = ApiToken.objects.get()
    token.revoked_at = timezone.now()
    request = RequestFactory().post("/admin/accounts/apitoken/")
    request.user = users["admin"]
    site._registry[ApiToken].save_model(request, token, form=None, change=True)
    assert token_for(raw) is None
