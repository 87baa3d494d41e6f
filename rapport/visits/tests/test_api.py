"""/api/v1/visits, promises, sites, week plans and the visit report: the documented shapes, and
bad input refused by name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.commerce.tests.factories import api, post
from rapport.visits.models import Promise, Visit

pytestmark = pytest.mark.django_db


def put(client: Any, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json", **headers)


def patch(client: Any, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def named(body: dict[str, Any]) -> set[str]:
    return set(body.get("errors", {})) | {str(d["loc"][-1]) for d in body.get("detail", []) if isinstance(d, dict)}


def test_a_rep_plans_a_visit_and_reads_it_back(users: Any, org: Any) -> None:
    response = post(api(users["rep_ana"]), "/api/v1/visits", {
        "organization": org.pk, "date": "2027-03-15", "window_start": "09:00", "window_end": "12:00", "duration_minutes": 50,
        "objectives": [{"kind": "collect_payment", "target_amount": "1500", "currency": "EUR"}, "first_order"],
        "tools": ["brochures"],
    })
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"] == '"1"'
    assert (body["date"], body["window_start"], body["window_end"], body["duration_minutes"]) == ("2027-03-15", "09:00", "12:00", 50)
    assert [(o["kind"], o["target_amount"], o["currency"]) for o in body["objectives"]] == [
        ("collect_payment", "1500.00", "EUR"), ("first_order", None, "")]
    assert body["customer"] == {"id": org.pk, "kind": "organization", "name": "Distribuidora Norte S.A."}
    got = api(users["rep_ana"]).get(f"/api/v1/visits/{body['id']}")
    assert got.status_code == 200 and got.json()["tools"] == {"brochures": False}
    listed = api(users["rep_ana"]).get("/api/v1/visits?date_from=2027-03-01&date_to=2027-03-31").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]


@pytest.mark.parametrize("body, field", [
    ({"date": "2027-03-15"}, "organization"),
    ({"organization": 1, "date": "someday"}, "date"),
    ({"organization": 1, "date": "2027-03-15", "duration_minutes": 100000}, "duration_minutes"),
    ({"organization": 1, "date": "2027-03-15", "objectives": [{"kind": "x" * 40}]}, "kind"),
    ({"organization": 1, "date": "2027-03-15", "mood": "happy"}, "mood"),
])
def test_a_bad_visit_is_refused_with_the_field_named(users: Any, org: Any, body: dict[str, Any], field: str) -> None:
    if body.get("organization") == 1:
        body = {**body, "organization": org.pk}
    response = post(api(users["rep_ana"]), "/api/v1/visits", body)
    assert response.status_code == 422, response.json()
    assert field in named(response.json())
    assert not Visit.objects.exists()


def test_another_teams_visit_answers_404_like_a_missing_one(users: Any, make_visit: Any) -> None:
    visit = make_visit()
    client = api(users["rep_bo_other_team"])
    for url in (f"/api/v1/visits/{visit.pk}", f"/api/v1/visits/{visit.pk}/report", f"/api/v1/visits/{visit.pk}/promises",
                "/api/v1/visits/999999", "/api/v1/visits/99999999999999999999"):
        assert client.get(url).status_code in (404, 422), url
    assert post(client, f"/api/v1/visits/{visit.pk}/check-in", {}).status_code == 404


def test_a_patch_with_a_stale_etag_is_refused(users: Any, make_visit: Any) -> None:
    visit = make_visit()
    client = api(users["rep_ana"])
    assert patch(client, f"/api/v1/visits/{visit.pk}", {"purpose": "Spring"}, HTTP_IF_MATCH='"1"').status_code == 200
    assert patch(client, f"/api/v1/visits/{visit.pk}", {"purpose": "Stale"}, HTTP_IF_MATCH='"1"').status_code == 412
    assert Visit.objects.get(pk=visit.pk).purpose == "Spring"


def test_check_in_report_and_promises_through_the_api(users: Any, make_visit: Any) -> None:
    visit = make_visit(objectives=["first_order"])
    client = api(users["rep_ana"])
    assert post(client, f"/api/v1/visits/{visit.pk}/check-in", {"latitude": 44.43, "longitude": 26.1}).json()["status"] == "in_progress"
    objective = visit.objectives.get()
    response = post(client, f"/api/v1/visits/{visit.pk}/report", {
        "outcome": "met", "objectives": [{"id": objective.pk, "result": "met", "achieved_amount": "2400", "currency": "RON"}],
        "promises": [{"by": "us", "text": "Deliver on Monday", "due_on": "2027-03-22"}],
        "retail_checks": [{"item": "shop_clean", "state": "ok"}], "report_token": "t-1",
    })
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["visit"]["status"] == "done" and body["visit"]["objectives"][0]["achieved_amount"] == "2400.00"
    assert [p["text"] for p in body["promises"]] == ["Deliver on Monday"]
    promise = Promise.objects.get()
    kept = post(client, f"/api/v1/promises/{promise.pk}/keep", {"kept_on": "2026-12-01"})
    assert kept.status_code == 200 and kept.json()["kept_on"] == "2026-12-01"
    assert post(api(users["rep_bo_other_team"]), f"/api/v1/promises/{promise.pk}/keep", {}).status_code == 404


def test_a_report_with_a_wrong_outcome_is_refused_and_the_visit_stays_open(users: Any, make_visit: Any) -> None:
    visit = make_visit()
    response = post(api(users["rep_ana"]), f"/api/v1/visits/{visit.pk}/report", {"outcome": "great"})
    assert response.status_code == 422 and "outcome" in named(response.json())
    assert Visit.objects.get(pk=visit.pk).status == "planned"


def test_sites_week_plans_and_the_catalog(users: Any, make_visit: Any, org: Any) -> None:
    client = api(users["rep_ana"])
    site = put(client, f"/api/v1/sites/{org.pk}", {"latitude": "41.38", "longitude": "2.17", "opens_at": "09:00", "closes_at": "19:00"})
    assert site.status_code == 200 and site.json()["opens_at"] == "09:00"
    assert put(client, f"/api/v1/sites/{org.pk}", {"latitude": "141.38", "longitude": "2.17"}).status_code == 422
    assert put(api(users["rep_bo_other_team"]), f"/api/v1/sites/{org.pk}", {"opens_at": "08:00"}).status_code == 404
    assert put(client, "/api/v1/start-point", {"latitude": 41.4, "longitude": 2.1, "leaves_at": "08:00"}).status_code == 204
    make_visit(date="2027-03-16")
    plan = post(client, "/api/v1/visits/weeks/2027-03-16/submit", {"note": "Heavy week"})
    assert plan.status_code == 200 and plan.json()["status"] == "submitted"
    plan_id = plan.json()["id"]
    assert post(api(users["rep_ben"]), f"/api/v1/visits/week-plans/{plan_id}/decision", {"approve": True}).status_code == 404
    decided = post(api(users["manager_mei"]), f"/api/v1/visits/week-plans/{plan_id}/decision", {"approve": True})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    catalog = client.get("/api/v1/visits/catalog", HTTP_ACCEPT_LANGUAGE="es").json()
    assert {o["key"] for o in catalog["objectives"]} >= {"collect_payment", "first_order"}


def test_the_visit_report_endpoint_gives_per_rep_figures(users: Any, make_visit: Any) -> None:
    from rapport.visits import services

    visit = make_visit(date="2026-11-10")
    services.report_visit(user=users["rep_ana"], visit=visit, data={"outcome": "met"})
    body = api(users["manager_mei"]).get("/api/v1/reports/visits?date_from=2026-11-01&date_to=2026-11-30").json()
    assert [(r["name"], r["visits"]) for r in body["reps"]] == [("rep_ana", 1)]
    assert api(users["rep_ana"]).get("/api/v1/reports/visits?date_from=2026-12-01&date_to=2026-11-01").status_code == 422
