"""Conflicting facts: flagged on the card with both sources, resolved by verifying one, listed per team."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts.services import create_token
from rapport.cards.models import Fact
from rapport.cards.services import add_fact
from rapport.core.errors import NotFound, ValidationError
from rapport.quality import selectors, services


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


@pytest.fixture
def disputed(users: dict[str, Any], make_org: Any) -> Any:
    org = make_org(name="Almacenes Luna")
    add_fact(user=users["rep_ana"], card=org, item_key="employee_count", value=40, source_key="customer_roster", confidence=60)
    add_fact(user=users["rep_ben"], card=org, item_key="employee_count", value=120, source_key="internet", confidence=40)
    return org


def test_two_recent_values_from_different_sources_are_a_conflict(users: dict[str, Any], disputed: Any) -> None:
    conflicts = selectors.conflicts_of(users["rep_ana"], disputed)
    assert [c.item.key for c in conflicts] == ["employee_count"]
    sides = {f.value: f for f in conflicts[0].facts}
    assert set(sides) == {"40", "120"} and sides["120"].confidence == 40 and sides["40"].source


def test_the_same_source_correcting_itself_or_an_old_value_is_no_conflict(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    add_fact(user=users["rep_ana"], card=org, item_key="employee_count", value=40, source_key="customer_roster")
    add_fact(user=users["rep_ana"], card=org, item_key="employee_count", value=45, source_key="customer_roster")
    old = (timezone.now() - dt.timedelta(days=800)).isoformat()
    add_fact(user=users["rep_ana"], card=org, item_key="business_scope", value="tiles", source_key="internet", observed_at=old)
    add_fact(user=users["rep_ana"], card=org, item_key="business_scope", value="paint", source_key="customer_roster")
    assert selectors.conflicts_of(users["rep_ana"], org) == []


def test_verifying_one_value_resolves_the_conflict_and_keeps_the_other_fact(users: dict[str, Any], disputed: Any) -> None:
    conflict = selectors.conflicts_of(users["rep_ana"], disputed)[0]
    chosen = next(f for f in conflict.facts if f.value == "120")
    services.resolve_conflict(user=users["rep_ana"], card=disputed, item_key="employee_count", fact_id=chosen.fact_id)
    disputed.refresh_from_db()
    assert selectors.conflicts_of(users["rep_ana"], disputed) == []
    assert str(disputed.profile["employee_count"]["v"]) == "120" and disputed.profile["employee_count"]["ok"]
    assert Fact.objects.filter(card=disputed, item__key="employee_count").count() == 2
    # A new disagreeing fact after the verification opens the conflict again.
    add_fact(user=users["rep_ben"], card=disputed, item_key="employee_count", value=80, source_key="pr_lists")
    assert selectors.conflicts_of(users["rep_ana"], disputed)


def test_resolving_with_a_fact_outside_the_conflict_is_refused(users: dict[str, Any], disputed: Any, make_org: Any) -> None:
    other = make_org(name="Otra")
    fact = add_fact(user=users["rep_ana"], card=other, item_key="employee_count", value=3, source_key="internet")
    with pytest.raises(ValidationError) as exc:
        services.resolve_conflict(user=users["rep_ana"], card=disputed, item_key="employee_count", fact_id=fact.pk)
    assert "fact" in exc.value.errors
    with pytest.raises(NotFound):
        services.resolve_conflict(user=users["rep_ana"], card=disputed, item_key="industry_x", fact_id=fact.pk)
    assert not Fact.objects.filter(card=disputed, verified=True).exists()


def test_team_lists_show_conflicts_only_on_cards_the_user_sees(users: dict[str, Any], disputed: Any) -> None:
    assert [t.card.pk for t in selectors.team_conflicts(users["manager_mei"])] == [disputed.pk]
    assert selectors.team_conflicts(users["rep_bo_other_team"]) == []
    south = users["rep_bo_other_team"].teams.get().pk
    assert selectors.team_conflicts(users["admin"], team=south) == []


def test_the_api_lists_and_resolves_conflicts_and_hides_other_teams(users: dict[str, Any], disputed: Any) -> None:
    api = client_for(users["rep_ana"])
    body = api.get(f"/api/v1/quality/cards/{disputed.pk}/conflicts").json()
    assert body["items"][0]["item"] == "employee_count" and len(body["items"][0]["facts"]) == 2
    assert api.get("/api/v1/quality/conflicts").json()["items"][0]["card_id"] == disputed.pk
    fact_id = body["items"][0]["facts"][0]["fact_id"]
    bad = api.post(f"/api/v1/quality/cards/{disputed.pk}/conflicts/employee_count/resolve", {"fact": 999999}, content_type="application/json")
    assert bad.status_code == 422 and "fact" in bad.json()["errors"]
    ok = api.post(f"/api/v1/quality/cards/{disputed.pk}/conflicts/employee_count/resolve", {"fact": fact_id}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["items"] == []
    other = client_for(users["rep_bo_other_team"])
    assert other.get(f"/api/v1/quality/cards/{disputed.pk}/conflicts").status_code == 404
    assert other.post(f"/api/v1/quality/cards/{disputed.pk}/conflicts/employee_count/resolve", {"fact": fact_id}, content_type="application/json").status_code == 404


def test_the_card_page_shows_both_values_and_resolves_on_post(ana: Client, disputed: Any) -> None:
    page = ana.get(f"/cards/{disputed.pk}/").content.decode()
    assert "Conflicting facts" in page and "120" in page and "40" in page
    fact = Fact.objects.get(card=disputed, value_text="40")
    response = ana.post(f"/cards/{disputed.pk}/conflicts/employee_count/resolve/", {"fact": fact.pk})
    assert response.status_code == 302
    assert "Conflicting facts" not in ana.get(f"/cards/{disputed.pk}/").content.decode()
    team_page = ana.get("/quality/")
    assert team_page.status_code == 200
