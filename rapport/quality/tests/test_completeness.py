"""Weighted completeness against the tier's required items, the team view, and what to collect next."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.accounts.services import create_token
from rapport.cards.services import add_fact
from rapport.quality import selectors


def test_completeness_weighs_items_every_tier_needs_more(users: dict[str, Any], make_org: Any) -> None:
    basic = make_org(tier="A", name="Basic")
    add_fact(user=users["rep_ana"], card=basic, item_key="business_scope", value="tiles", source_key="internet")  # tiers A, B, C
    only_a = make_org(tier="A", name="Only A")
    add_fact(user=users["rep_ana"], card=only_a, item_key="tax_id", value="B1234567", source_key="internet")  # tier A
    basic.refresh_from_db()
    only_a.refresh_from_db()
    with_basic = selectors.completeness_of(users["rep_ana"], basic)
    with_only_a = selectors.completeness_of(users["rep_ana"], only_a)
    assert with_basic.percent > with_only_a.percent > 0
    assert with_basic.have == with_only_a.have == 1
    assert "business_scope" not in {i.key for i in with_basic.missing}
    # Items above the user's clearance are not named (financial status is confidential).
    assert "financial_status" in {i.key for i in selectors.completeness_of(users["rep_ana"], basic).missing}
    assert "financial_status" not in {i.key for i in selectors.completeness_of(users["rep_ben"], basic).missing}


def test_collect_next_puts_cheap_required_items_first_and_never_special_ones(users: dict[str, Any], make_person: Any) -> None:
    person = make_person(tier="A", lifecycle_stage="target")
    suggestions = selectors.collect_next(users["admin"], person, limit=50)
    assert suggestions and suggestions[0].required
    assert all(s.item.sensitivity != "special" for s in suggestions)
    worths = [s.worth for s in suggestions]
    assert worths == sorted(worths, reverse=True)
    present = set(person.profile)
    assert not {s.item.key for s in suggestions} & present


def test_collect_next_depends_on_tier_and_stage(users: dict[str, Any], make_org: Any) -> None:
    a = make_org(tier="A", lifecycle_stage="target")
    c = make_org(tier="C", lifecycle_stage="lost", name="Lost one")
    top_a = selectors.collect_next(users["rep_ana"], a, limit=1)[0]
    top_c = selectors.collect_next(users["rep_ana"], c, limit=1)[0]
    assert top_a.value > top_c.value


def test_least_complete_lists_valuable_cards_of_the_team_only(users: dict[str, Any], make_org: Any) -> None:
    a = make_org(tier="A", name="Grande")
    make_org(tier="C", name="Pequeña")
    make_org(owner="rep_bo_other_team", tier="A", name="Ajena")
    rows = selectors.least_complete(users["rep_ana"])
    assert [r.card.pk for r in rows] == [a.pk] and rows[0].percent == 0
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    body = api.get("/api/v1/quality/least-complete").json()
    assert [r["card_id"] for r in body["items"]] == [a.pk]
    completeness = api.get(f"/api/v1/quality/cards/{a.pk}/completeness").json()
    assert completeness["percent"] == 0 and completeness["collect_next"]
    assert api.get("/api/v1/quality/least-complete?team=abc").status_code == 422


def test_the_card_page_suggests_what_to_collect_next(ana: Client, make_org: Any) -> None:
    org = make_org(tier="B")
    page = ana.get(f"/cards/{org.pk}/").content.decode()
    assert "What to collect next" in page and f"/cards/{org.pk}/?item=" in page
