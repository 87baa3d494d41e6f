"""Bearer tokens and their users are read from the database once per few seconds, and a
revocation, a deactivation or a change of teams still bites."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts import services
from rapport.accounts.models import ApiToken, User
from rapport.accounts.services import create_token, forget_tokens, revoke_token, set_special_clearance, token_for


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


def test_a_cached_token_and_its_user_cost_no_query(users: dict[str, Any], django_assert_num_queries: Any) -> None:
    raw = create_token(user=users["rep_ana"])
    with django_assert_num_queries(3):  # the token, its user, last_used_at
        assert token_for(raw) is not None
    with django_assert_num_queries(0):
        found = token_for(raw)
    assert found is not None and found.user == users["rep_ana"] and found.scope == "write"


def test_a_revoked_token_stops_at_once_in_the_process_that_revoked_it(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/organizations").status_code == 200
    revoke_token(user=users["rep_ana"], prefix=raw[:10])
    assert client.get("/api/v1/organizations").status_code == 401


def _revoke_elsewhere(users: dict[str, Any]) -> None:
    ApiToken.objects.update(revoked_at=timezone.now())  # what `rapport token revoke` does from its own process


def _deactivate_elsewhere(users: dict[str, Any]) -> None:
    User.objects.filter(pk=users["rep_ana"].pk).update(is_active=False)


@pytest.mark.parametrize("change", [_revoke_elsewhere, _deactivate_elsewhere], ids=["revocation", "deactivation"])
def test_a_revocation_or_deactivation_made_by_another_process_counts_once_the_cache_time_has_passed(
    users: dict[str, Any], clock: Clock, settings: Any, change: Any
) -> None:
    settings.RAPPORT_TOKEN_CACHE_SECONDS = 5
    raw = create_token(user=users["rep_ana"])
    assert token_for(raw) is not None
    change(users)  # another process's change: no signal reaches this one
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


def test_a_user_deactivated_in_this_process_is_refused_at_once(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/organizations").status_code == 200
    user = User.objects.get(pk=users["rep_ana"].pk)
    user.is_active = False
    user.save()  # as the admin site does
    assert client.get("/api/v1/organizations").status_code == 401


def test_without_a_cache_time_a_deactivation_by_another_process_counts_at_once(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_TOKEN_CACHE_SECONDS = 0
    raw = create_token(user=users["rep_ana"])
    assert token_for(raw) is not None
    User.objects.filter(pk=users["rep_ana"].pk).update(is_active=False)
    assert token_for(raw) is None


def test_a_change_of_teams_in_this_process_counts_at_the_next_request(users: dict[str, Any]) -> None:
    from rapport.cards.services import create_organization

    other_team = users["rep_bo_other_team"].teams.get()
    card = create_organization(user=users["rep_bo_other_team"], data={"name": "Otro Equipo SA"})
    raw = create_token(user=users["rep_ana"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(f"/api/v1/organizations/{card.pk}").status_code == 404
    users["rep_ana"].teams.add(other_team)
    assert client.get(f"/api/v1/organizations/{card.pk}").status_code == 200
    users["rep_ana"].teams.remove(other_team)
    assert client.get(f"/api/v1/organizations/{card.pk}").status_code == 404


def test_a_special_clearance_granted_in_this_process_counts_at_the_next_request(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    found = token_for(raw)
    assert found is not None and not found.user.can_see_special
    set_special_clearance(user=users["rep_ana"], granted=True, by=users["admin"])
    found = token_for(raw)
    assert found is not None and found.user.can_see_special


def test_what_a_request_sets_on_its_user_does_not_reach_the_next_request(users: dict[str, Any]) -> None:
    raw = create_token(user=users["rep_ana"])
    first = token_for(raw)
    assert first is not None
    first.user.role = "admin"
    first.user.first_name = "Changed"
    second = token_for(raw)
    assert second is not None and second.user is not first.user
    assert second.user.role == "rep" and second.user.first_name != "Changed"


def test_a_user_read_while_a_change_was_being_made_is_not_kept(users: dict[str, Any], monkeypatch: Any) -> None:
    raw = create_token(user=users["rep_ana"])
    read = services._active_user

    def read_meanwhile(user_id: int) -> Any:
        user = read(user_id)
        services.forget_users()  # another thread's change, signalled while this read was under way
        return user

    monkeypatch.setattr(services, "_active_user", read_meanwhile)
    assert token_for(raw) is not None
    assert users["rep_ana"].pk not in services._users
    monkeypatch.setattr(services, "_active_user", read)
    assert token_for(raw) is not None
    assert users["rep_ana"].pk in services._users


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
