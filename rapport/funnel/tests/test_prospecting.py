"""How a card was found and who referred it: methods from the catalogue, referral chains, the referrer ranking."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards.models import Card
from rapport.catalog.models import InformationSource
from rapport.funnel.tests.factories import FakeOrders, api, orders


def put(client: Any, card: Any, body: dict[str, Any]) -> Any:
    kind = "organizations" if card.kind == "organization" else "people"
    return client.put(f"/api/v1/{kind}/{card.id}/prospecting", body, content_type="application/json")


def test_a_card_records_its_prospecting_method_and_referrer(users: Any, make_org: Any, make_person: Any) -> None:
    referrer = make_org(name="Centro de Influencia SL", lifecycle_stage="customer")
    person = make_person()
    response = put(api(users["rep_ana"]), person, {"found_by": "referral_chain", "referred_by": referrer.id})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["found_by"] == "referral_chain" and body["found_by_label"] == "Referral chain"
    assert body["referred_by"]["id"] == referrer.id
    brought = api(users["rep_ana"]).get(f"/api/v1/organizations/{referrer.id}/prospecting").json()["referrals"]
    assert [r["id"] for r in brought] == [person.id]


def test_a_method_an_admin_adds_to_the_catalogue_can_be_used(users: Any, make_org: Any) -> None:
    InformationSource.objects.create(key="trade_show_app", group="method", labels={"en": "Trade-show app", "es": "App de feria"})
    org = make_org()
    assert put(api(users["rep_ana"]), org, {"found_by": "trade_show_app"}).json()["found_by_label"] == "Trade-show app"


@pytest.mark.parametrize("key", ["nope", "internet", ""])
def test_an_unknown_method_or_a_source_that_is_not_a_method_is_refused(users: Any, make_org: Any, key: str) -> None:
    org = make_org()
    put(api(users["rep_ana"]), org, {"found_by": "phone_prospecting"})
    response = put(api(users["rep_ana"]), org, {"found_by": key})
    if key == "":
        assert response.status_code == 200 and response.json()["found_by"] is None
    else:
        assert response.status_code == 422 and "found_by" in response.json()["errors"]
        found_by = Card.objects.get(pk=org.id).found_by
        assert found_by is not None and found_by.key == "phone_prospecting"


def test_a_referrer_of_another_team_is_refused_like_a_missing_card(users: Any, make_org: Any) -> None:
    foreign = make_org(owner="rep_bo_other_team", name="Foreign SA")
    org = make_org()
    for ref in (foreign.id, 99_999_999):
        response = put(api(users["rep_ana"]), org, {"referred_by": ref})
        assert response.status_code == 422
        assert response.json()["errors"]["referred_by"] == ["Unknown card."]
    assert Card.objects.get(pk=org.id).referred_by_id is None


def test_a_referral_chain_cannot_loop_back(users: Any, make_org: Any) -> None:
    a, b, c = make_org(name="A"), make_org(name="B"), make_org(name="C")
    client = api(users["rep_ana"])
    assert put(client, b, {"referred_by": a.id}).status_code == 200
    assert put(client, c, {"referred_by": b.id}).status_code == 200
    loop = put(client, a, {"referred_by": c.id})
    assert loop.status_code == 422 and "loop" in loop.json()["errors"]["referred_by"][0]
    assert put(client, a, {"referred_by": a.id}).status_code == 422


def test_referrers_are_ranked_by_the_value_of_what_they_brought(users: Any, make_org: Any) -> None:
    big, small = make_org(name="Big referrer"), make_org(name="Small referrer")
    client = api(users["rep_ana"])
    brought = []
    for i, referrer in enumerate([big, small, small]):
        card = make_org(name=f"Referred {i}", lifecycle_stage="customer")
        put(client, card, {"referred_by": referrer.id})
        brought.append(card)
    without = client.get("/api/v1/reports/referrers").json()["items"]
    assert [r["name"] for r in without] == ["Small referrer", "Big referrer"]  # more customers first
    assert without[0]["revenue"] is None
    with orders(FakeOrders(revenue={brought[0].id: 50_000.0, brought[1].id: 100.0, brought[2].id: 200.0})):
        ranked = client.get("/api/v1/reports/referrers").json()["items"]
    assert [(r["name"], r["revenue"], r["customers"]) for r in ranked] == [("Big referrer", 50_000.0, 1), ("Small referrer", 300.0, 2)]


def test_the_referrer_ranking_never_names_a_referrer_the_user_cannot_see(users: Any, make_org: Any) -> None:
    hidden = make_org(owner="rep_bo_other_team", name="Hidden referrer")
    card = make_org(name="Mine")
    Card.objects.filter(pk=card.pk).update(referred_by=hidden)
    assert api(users["rep_ana"]).get("/api/v1/reports/referrers").json()["items"] == []
    assert api(users["rep_ana"]).get(f"/api/v1/organizations/{card.id}/prospecting").json()["referred_by"] is None


def test_the_card_page_shows_the_referrer_and_the_customers_it_brought(users: Any, ana: Any, make_org: Any) -> None:
    referrer = make_org(name="Referrer SA")
    card = make_org(name="Brought SA", lifecycle_stage="customer")
    put(api(users["rep_ana"]), card, {"referred_by": referrer.id, "found_by": "referral_chain"})
    assert "Referrer SA" in ana.get(f"/cards/{card.id}/").content.decode()
    page = ana.get(f"/cards/{referrer.id}/").content.decode()
    assert "Customers they brought" in page and "Brought SA" in page


def test_the_prospecting_form_on_the_card_saves_method_and_referrer(users: Any, ana: Any, make_org: Any) -> None:
    referrer = make_org(name="Referrer SA")
    card = make_org(name="Card SA")
    response = ana.post(f"/cards/{card.id}/prospecting/", {"found_by": "agent", "referred_by": str(referrer.id)})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.found_by.key == "agent" and card.referred_by_id == referrer.id


def test_the_referrer_is_picked_by_name_and_no_card_number_is_asked(users: Any, ana: Any, make_org: Any) -> None:
    referrer = make_org(name="Referrer SA")
    card = make_org(name="Card SA", referred_by=None)
    page = ana.get(f"/cards/{card.id}/").content.decode()
    assert "card number" not in page and f'name="referrer-{card.id}-q"' in page
    choices = ana.post("/cards/choices/", {"picker": f"referrer-{card.id}", "field": "referred_by", "kind": "",
                                           "multiple": "0", f"referrer-{card.id}-q": "referrer"}).content.decode()
    assert f'<option value="{referrer.id}">Referrer SA · organisation</option>' in choices
    ana.post(f"/cards/{card.id}/prospecting/", {"found_by": "agent", "referred_by": str(referrer.id)})
    page = ana.get(f"/cards/{card.id}/").content.decode()
    assert f'<option value="{referrer.id}" selected>Referrer SA · organisation</option>' in page


def test_saving_the_method_keeps_a_referrer_the_rep_may_not_see(users: Any, ana: Any, make_org: Any) -> None:
    hidden = make_org(owner="rep_bo_other_team", name="Hidden Referrer SA")
    card = make_org(name="Card SA")
    put(api(users["admin"]), card, {"referred_by": hidden.id})
    page = ana.get(f"/cards/{card.id}/").content.decode()
    assert "Hidden Referrer" not in page and f'<option value="{hidden.id}" selected>' not in page
    assert ana.post(f"/cards/{card.id}/prospecting/", {"found_by": "agent", "referred_by": ""}).status_code == 302
    card.refresh_from_db()
    assert card.referred_by_id == hidden.id and card.found_by.key == "agent"
