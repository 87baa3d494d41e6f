"""/api/v1/reports/pipeline and /forecast beside the funnel's reports, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rapport.commerce.tests.factories import api
from rapport.deals import services

pytestmark = pytest.mark.django_db


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def test_the_forecast_weighs_open_deals_by_month_of_expected_close(users: Any, make_deal: Any) -> None:
    today = timezone.localdate()
    make_deal(expected_close=today.isoformat(), amount="1000")
    make_deal(expected_close=today.isoformat(), amount="500", currency="USD", probability=50)
    response = api(users["rep_ana"]).get("/api/v1/reports/forecast?months=3")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["currencies"] == ["EUR", "USD"] and len(body["months"]) == 3
    this_month = body["series"]["EUR"]["months"][_month(today)]
    assert (this_month["count"], this_month["amount"], this_month["weighted"]) == (1, "1000.00", "100.00")
    assert body["series"]["USD"]["open"]["weighted"] == "250.00"


def test_the_forecast_narrows_to_an_owner_and_refuses_a_bad_span(users: Any, make_deal: Any) -> None:
    make_deal(user="rep_ben")
    client = api(users["manager_mei"])
    assert client.get(f"/api/v1/reports/forecast?owner={users['rep_ana'].pk}").json()["currencies"] == []
    assert client.get(f"/api/v1/reports/forecast?owner={users['rep_ben'].pk}&start=2027-01-15").json()["start"] == "2027-01-01"
    refused = client.get("/api/v1/reports/forecast?months=99")
    assert refused.status_code == 422 and "months" in refused.json()["errors"]
    assert client.get("/api/v1/reports/forecast?start=9999-12-31").status_code == 422


def test_the_pipeline_counts_open_deals_per_step_and_the_win_rate(users: Any, make_deal: Any) -> None:
    open_deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=open_deal, to="build_trust", override_reason="Known customer")
    lost = make_deal(name="Spare parts")
    services.close_deal(user=users["rep_ana"], deal=lost, outcome="lost", reason="price")
    response = api(users["rep_ana"]).get("/api/v1/reports/pipeline")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["steps"]["build_trust"]["count"] == 1 and body["steps"]["build_trust"]["by_currency"]["EUR"]["amount"] == "120000.00"
    assert (body["won"], body["lost"], body["win_rate"]) == (0, 1, 0.0)
    assert body["lost_reasons"][0]["reason"] == "price"
    assert body["conversion"][0]["from"] == "analyse" and body["conversion"][0]["to"] == "build_trust"
    assert body["conversion"][0]["entered"] == 2 and body["conversion"][0]["converted"] == 1


def test_the_pipeline_of_another_team_is_empty_and_a_reversed_period_is_refused(users: Any, make_deal: Any) -> None:
    make_deal()
    client = api(users["rep_bo_other_team"])
    assert sum(s["count"] for s in client.get("/api/v1/reports/pipeline").json()["steps"].values()) == 0
    refused = client.get("/api/v1/reports/pipeline?since=2027-02-01&until=2027-01-01")
    assert refused.status_code == 422 and "since" in refused.json()["errors"]
    assert client.get("/api/v1/reports/pipeline?since=2026-01-01&until=2026-12-31").status_code == 200
    assert client.get("/api/v1/reports/pipeline?until=9999-12-31").status_code == 422


def test_the_funnel_reports_still_answer_beside_the_deal_reports(users: Any) -> None:
    client = api(users["rep_ana"])
    for path in ("funnel", "methods", "referrers", "pipeline", "forecast", "receivables"):
        assert client.get(f"/api/v1/reports/{path}").status_code == 200, path


def test_the_openapi_document_builds_and_describes_the_deals(users: Any) -> None:
    response = api(users["rep_ana"]).get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/deals/{deal_id}/step" in paths and "/api/v1/reports/pipeline" in paths and "/api/v1/reports/funnel" in paths
    step = paths["/api/v1/deals/{deal_id}/step"]["post"]
    assert step["summary"] and {"200", "422"} <= set(step["responses"])
    schemas = response.json()["components"]["schemas"]
    assert "missing" in schemas["ExitSignalsMissingOut"]["properties"]
    assert {"from", "to"} <= set(schemas["StepMoveOut"]["properties"])
