"""/api/v1/deals: opening, listing, reading and changing deals; bad input refused by name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.commerce.tests.factories import api, post, priced_catalog
from rapport.deals.models import Deal, DealProduct, StepMove

pytestmark = pytest.mark.django_db


def patch(client: Any, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def fields_named(body: dict[str, Any]) -> set[str]:
    """Fields a 422 names, from the services' ``errors`` or the schema's ``detail``."""
    return set(body.get("errors", {})) | {str(d["loc"][-1]) for d in body.get("detail", []) if isinstance(d, dict)}


def test_a_rep_opens_a_deal_and_gets_it_back_with_its_etag(users: Any, org: Any) -> None:
    priced_catalog(users["admin"])
    response = post(api(users["rep_ana"]), "/api/v1/deals", {
        "organization": org.pk, "name": "Forklift fleet renewal", "amount": "120000.5", "currency": "eur",
        "expected_close": "2027-03-31", "buying_stage": "evaluation",
        "products": [{"product": "OIL-5L", "quantity": 10}, {"product": "FLT-01", "quantity": "2.5", "unit_price": "6"}],
    })
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"] == '"1"' and body["version"] == 1
    assert (body["step"], body["status"], body["amount"], body["currency"]) == ("analyse", "open", "120000.50", "EUR")
    assert (body["probability"], body["effective_probability"], body["weighted"]) == (None, 10, "12000.05")
    assert body["customer"] == {"id": org.pk, "kind": "organization", "name": "Distribuidora Norte S.A."}
    assert body["owner"]["name"] == "rep_ana" and body["team"]["name"] == "North"
    assert body["expected_close"] == "2027-03-31" and body["buying_stage"] == "evaluation"
    assert [(p["sku"], p["quantity"], p["unit_price"]) for p in body["products"]] == [("OIL-5L", "10", None), ("FLT-01", "2.5", "6.00")]
    assert body["who_matters_now"] == {"stage": "evaluation", "role": "evaluator", "people": []}
    assert any("evaluator" in w for w in body["warnings"])
    assert StepMove.objects.filter(deal_id=body["id"]).count() == 1


def test_a_deal_with_a_person_buying_for_themselves(users: Any, make_person: Any) -> None:
    person = make_person()
    response = post(api(users["rep_ana"]), "/api/v1/deals", {
        "person": person.pk, "name": "Garden tractor", "amount": 4200, "currency": "EUR", "probability": 50,
    })
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer"]["kind"] == "person" and (body["probability"], body["effective_probability"], body["weighted"]) == (50, 50, "2100.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "12,5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "-3"}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 12}, "name"),
        ({"description": "x" * 5001}, "description"),
        ({"expected_close": "31/03/2027"}, "expected_close"),
        ({"probability": 140}, "probability"),
        ({"probability": "most"}, "probability"),
        ({"buying_stage": "daydreaming"}, "buying_stage"),
        ({"owner": 999999}, "owner"),
        ({"team": 999999}, "team"),
        ({"products": [{"product": "NOPE"}]}, "products[0].product"),
        ({"products": [{"product": 2**63}]}, "products[0].product"),
        ({"colour": "red"}, "colour"),
        ({"organization": 2**40}, "organization"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(users: Any, org: Any, change: dict[str, Any], field: str) -> None:
    body = {"organization": org.pk, "name": "Forklifts", "amount": "100", "currency": "EUR", **change}
    response = post(api(users["rep_ana"]), "/api/v1/deals", body)
    assert response.status_code == 422, response.json()
    assert field in fields_named(response.json())
    assert not Deal.objects.exists() and not DealProduct.objects.exists()


def test_a_customer_out_of_reach_is_refused_like_a_missing_one(users: Any, make_org: Any) -> None:
    south = make_org(owner="rep_bo_other_team", name="Sur Mayorista SL")
    response = post(api(users["rep_ana"]), "/api/v1/deals", {"organization": south.pk, "name": "X", "currency": "EUR"})
    assert response.status_code == 422 and "organization" in response.json()["errors"]
    response = post(api(users["rep_ana"]), "/api/v1/deals", {"organization": south.pk, "person": south.pk, "name": "X", "currency": "EUR"})
    assert response.status_code == 422


def test_an_owner_who_may_not_see_the_customer_is_refused(users: Any, org: Any) -> None:
    response = post(api(users["rep_ana"]), "/api/v1/deals", {
        "organization": org.pk, "name": "X", "currency": "EUR", "owner": users["rep_bo_other_team"].pk,
    })
    assert response.status_code == 422 and "may not see" in response.json()["errors"]["owner"][0]


def test_the_list_filters_by_owner_team_step_status_customer_and_close_month(users: Any, org: Any, make_org: Any, make_deal: Any) -> None:
    from rapport.deals import services

    first = make_deal(expected_close="2027-03-31")
    second = make_deal(user="rep_ben", name="Spare parts", expected_close="2027-04-02")
    other_org = make_org(name="Otra Empresa SL")
    third = make_deal(card=other_org, name="Batteries", expected_close=None)
    services.move_step(user=users["rep_ana"], deal=third, to="build_trust", override_reason="Known customer")
    services.close_deal(user=users["rep_ana"], deal=second, outcome="lost", reason="price")
    client = api(users["manager_mei"])

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/deals?{query}")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["count"] == len(body["items"])
        return sorted(d["id"] for d in body["items"])

    assert ids("") == sorted([first.pk, second.pk, third.pk])
    assert ids(f"owner={users['rep_ben'].pk}") == [second.pk]
    assert ids(f"team={first.team_id}") == sorted([first.pk, second.pk, third.pk])
    assert ids("step=build_trust") == [third.pk]
    assert ids("status=lost") == [second.pk]
    assert ids("status=open") == sorted([first.pk, third.pk])
    assert ids(f"customer={other_org.pk}") == [third.pk]
    assert ids("close_month=2027-03") == [first.pk]
    assert ids("close_month=2027-04") == [second.pk]
    paged = client.get("/api/v1/deals?limit=1&offset=1").json()
    assert len(paged["items"]) == 1 and paged["count"] == 3
    for bad in ("step=winning", "status=maybe", "close_month=2027-13", "close_month=march", "owner=abc", f"customer={2**63}"):
        assert client.get(f"/api/v1/deals?{bad}").status_code == 422, bad


def test_a_rep_of_another_team_neither_lists_nor_reads_nor_changes_the_deal(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    bo = api(users["rep_bo_other_team"])
    assert bo.get("/api/v1/deals").json() == {"items": [], "count": 0}
    assert bo.get(f"/api/v1/deals/{deal.pk}").status_code == 404
    assert patch(bo, f"/api/v1/deals/{deal.pk}", {"name": "Mine"}, HTTP_IF_MATCH='"1"').status_code == 404
    assert post(bo, f"/api/v1/deals/{deal.pk}/step", {"to": "build_trust", "override_reason": "x"}).status_code == 404
    assert post(bo, f"/api/v1/deals/{deal.pk}/needs", {"kind": "goal", "text": "x"}).status_code == 404
    assert bo.get(f"/api/v1/deals/{deal.pk}/questions").status_code == 404
    assert api(users["rep_ben"]).get(f"/api/v1/deals/{deal.pk}").status_code == 200  # same team
    assert api(users["rep_ana"]).get("/api/v1/deals/999999").status_code == 404


def test_an_analyst_reads_deals_but_every_write_is_forbidden(users: Any, org: Any, make_deal: Any) -> None:
    deal = make_deal()
    al = api(users["analyst_al"])
    assert al.get(f"/api/v1/deals/{deal.pk}").status_code == 200
    assert post(al, "/api/v1/deals", {"organization": org.pk, "name": "X", "currency": "EUR"}).status_code == 403
    assert patch(al, f"/api/v1/deals/{deal.pk}", {"name": "Y"}, HTTP_IF_MATCH='"1"').status_code == 403
    assert post(al, f"/api/v1/deals/{deal.pk}/step", {"to": "build_trust", "override_reason": "x"}).status_code == 403
    assert post(al, f"/api/v1/deals/{deal.pk}/needs", {"kind": "goal", "text": "x"}).status_code == 403
    assert al.put(f"/api/v1/deals/{deal.pk}/questions", {"key": "win", "answer": "yes", "justification": "x"},
                  content_type="application/json").status_code == 403
    assert post(al, f"/api/v1/deals/{deal.pk}/close", {"outcome": "lost", "reason": "price"}).status_code == 403
    assert Deal.objects.get(pk=deal.pk).version == 1


def test_reading_a_deal_answers_its_version_as_etag(users: Any, make_deal: Any) -> None:
    deal = make_deal(probability=35)
    response = api(users["rep_ana"]).get(f"/api/v1/deals/{deal.pk}")
    assert response.status_code == 200 and response["ETag"] == '"1"'
    body = response.json()
    assert (body["probability"], body["effective_probability"], body["weighted"]) == (35, 35, "42000.00")
    assert body["who_matters_now"] is None and body["products"] == []


def test_a_change_needs_if_match_and_a_stale_version_is_refused(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    url = f"/api/v1/deals/{deal.pk}"
    assert patch(client, url, {"amount": "130000"}).status_code == 428
    assert patch(client, url, {"amount": "130000"}, HTTP_IF_MATCH='"seven"').status_code == 422
    changed = patch(client, url, {"amount": "130000", "probability": 25, "expected_close": "2027-05-01"}, HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200, changed.json()
    assert changed["ETag"] == '"2"' and changed.json()["amount"] == "130000.00" and changed.json()["weighted"] == "32500.00"
    stale = patch(client, url, {"amount": "1"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert Deal.objects.get(pk=deal.pk).amount == 130000


def test_a_change_refuses_unknown_fields_and_bad_values_by_name(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    url = f"/api/v1/deals/{deal.pk}"
    for body, field in (({"stage": "won"}, "stage"), ({"amount": "12,5"}, "amount"), ({"step": "follow_up"}, "step"),
                        ({"name": None}, "name"), ({"currency": "ZZZ"}, "currency")):
        response = patch(client, url, body, HTTP_IF_MATCH='"1"')
        assert response.status_code == 422, body
        assert field in fields_named(response.json()), (body, response.json())
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.version, fresh.step, fresh.amount) == (1, "analyse", 120000)


def test_changing_the_products_replaces_the_list(users: Any, make_deal: Any) -> None:
    priced_catalog(users["admin"])
    deal = make_deal(products=[{"product": "OIL-5L", "quantity": 1}])
    response = patch(api(users["rep_ana"]), f"/api/v1/deals/{deal.pk}", {"products": [{"product": "FLT-01", "quantity": 3}]},
                     HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    assert [p["sku"] for p in response.json()["products"]] == ["FLT-01"]
