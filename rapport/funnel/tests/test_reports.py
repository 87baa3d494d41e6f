"""The funnel report and the per-method report: counts now and at a past date, conversion, time in stage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rapport.cards.models import Card, StageChange
from rapport.funnel import services
from rapport.funnel.tests.factories import FakeOrders, api, orders


def backdate(card: Any, days: int) -> None:
    """Pretends the card and its history started ``days`` ago, one day between moves."""
    start = timezone.now() - dt.timedelta(days=days)
    Card.objects.filter(pk=card.pk).update(created_at=start)
    for i, change in enumerate(StageChange.objects.filter(card=card).order_by("id")):
        StageChange.objects.filter(pk=change.pk).update(changed_at=start + dt.timedelta(days=i * 10))


def walk(user: Any, card: Any, *stages: str) -> None:
    for stage in stages:
        if stage == "target":
            services.set_qualification(user=user, card=card, data={"intent": "clear", "power": "strong", "timeframe": "now"})
        services.move_stage(user=user, card=card, to_stage=stage, reason="test")


@pytest.fixture
def funnel(users: Any, make_org: Any) -> dict[str, Any]:
    ana = users["rep_ana"]
    a = make_org(name="A")
    walk(ana, a, "prospect", "target", "customer")
    b = make_org(name="B")
    walk(ana, b, "prospect", "lost")
    c = make_org(name="C")
    walk(ana, c, "prospect")
    d = make_org(name="D")
    for card in (a, b, c, d):
        backdate(card, 40)
    make_org(owner="rep_bo_other_team", name="Other team", lifecycle_stage="customer")
    return {"a": a, "b": b, "c": c, "d": d}


def test_counts_conversion_and_time_in_stage_of_the_users_own_cards(users: Any, funnel: Any) -> None:
    report = api(users["rep_ana"]).get("/api/v1/reports/funnel").json()
    assert report["counts"]["customer"] == 1 and report["counts"]["prospect"] == 1
    assert report["counts"]["lost"] == 1 and report["counts"]["suspect"] == 1
    assert report["total"] == 4  # the other team's customer never counts
    conv = {(c["from"], c["to"]): c for c in report["conversions"]}
    assert (conv[("suspect", "prospect")]["entered"], conv[("suspect", "prospect")]["converted"]) == (4, 3)
    assert (conv[("prospect", "target")]["entered"], conv[("prospect", "target")]["converted"]) == (3, 1)
    assert conv[("target", "customer")]["rate"] == 1.0
    assert report["time_in_stage"]["target"]["median_days"] == 10.0
    assert report["lost_reasons"] == [{"reason": "test", "count": 1}]


def test_counts_at_a_past_date_replay_the_history(users: Any, funnel: Any) -> None:
    # 40 days ago all four were suspects; 25 days later A was a target, B lost, C a prospect, D still a suspect.
    as_of = (timezone.now() - dt.timedelta(days=15)).date().isoformat()
    report = api(users["rep_ana"]).get(f"/api/v1/reports/funnel?as_of={as_of}").json()
    assert {k: v for k, v in report["counts"].items() if v} == {"suspect": 1, "prospect": 1, "target": 1, "lost": 1}
    early = (timezone.now() - dt.timedelta(days=35)).date().isoformat()
    assert api(users["rep_ana"]).get(f"/api/v1/reports/funnel?as_of={early}").json()["counts"]["suspect"] == 4
    before = (timezone.now() - dt.timedelta(days=60)).date().isoformat()
    assert api(users["rep_ana"]).get(f"/api/v1/reports/funnel?as_of={before}").json()["total"] == 0


def test_the_report_filters_by_rep_team_and_method(users: Any, funnel: Any) -> None:
    admin = api(users["admin"])
    assert admin.get("/api/v1/reports/funnel").json()["total"] == 5
    assert admin.get(f"/api/v1/reports/funnel?rep={users['rep_bo_other_team'].id}").json()["total"] == 1
    from rapport.catalog.models import InformationSource

    Card.objects.filter(pk=funnel["a"].pk).update(found_by=InformationSource.objects.get(key="agent"))
    by_method = admin.get("/api/v1/reports/funnel?method=agent").json()
    assert by_method["total"] == 1 and by_method["counts"]["customer"] == 1


@pytest.mark.parametrize("query", ["as_of=2999-01-01", "as_of=nope", "method=internet", "kind=robot", "segment=999999", "team=999999", "rep=999999"])
def test_bad_report_filters_answer_422(users: Any, funnel: Any, query: str) -> None:
    assert api(users["rep_ana"]).get(f"/api/v1/reports/funnel?{query}").status_code == 422


def test_a_rep_cannot_filter_the_report_on_another_teams_rep(users: Any, funnel: Any) -> None:
    response = api(users["rep_ana"]).get(f"/api/v1/reports/funnel?rep={users['rep_bo_other_team'].id}")
    assert response.status_code == 422 and "rep" in response.json()["errors"]


def test_the_method_report_shows_which_methods_pay(users: Any, funnel: Any) -> None:
    from rapport.catalog.models import InformationSource

    agent = InformationSource.objects.get(key="agent")
    Card.objects.filter(pk__in=[funnel["a"].pk, funnel["b"].pk]).update(found_by=agent)
    client = api(users["rep_ana"])
    rows = {r["key"]: r for r in client.get("/api/v1/reports/methods").json()["items"]}
    assert (rows["agent"]["found"], rows["agent"]["customers"], rows["agent"]["conversion_rate"]) == (2, 1, 0.5)
    assert rows["agent"]["median_days_to_customer"] == 30.0 and rows["agent"]["revenue"] is None
    assert rows[""]["found"] == 2
    with orders(FakeOrders(revenue={funnel["a"].pk: 1234.5})):
        rows = {r["key"]: r for r in client.get("/api/v1/reports/methods").json()["items"]}
    assert rows["agent"]["revenue"] == 1234.5


def test_the_funnel_page_draws_a_chart_and_a_table(users: Any, ana: Any, funnel: Any) -> None:
    response = ana.get("/reports/funnel/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'class="chart-bar"' in html and "funnel-table" in html
    assert "Other team" not in html
    assert ana.get("/reports/funnel/?as_of=nope").status_code == 422


def test_the_source_report_counts_cards_under_the_sources_of_their_facts(users: Any, funnel: Any) -> None:
    from rapport.cards.services import add_fact

    add_fact(user=users["rep_ana"], card=funnel["a"], item_key="business_scope", value="Tools", source_key="existing_customers")
    add_fact(user=users["rep_ana"], card=funnel["b"], item_key="business_scope", value="Paint", source_key="existing_customers")
    rows = {r["key"]: r for r in api(users["rep_ana"]).get("/api/v1/reports/methods?by=source").json()["items"]}
    assert (rows["existing_customers"]["found"], rows["existing_customers"]["customers"]) == (2, 1)
    assert api(users["rep_ana"]).get("/api/v1/reports/methods?by=colour").status_code == 422


def test_a_stage_move_shows_in_the_report_at_once(users: Any, funnel: Any) -> None:
    client = api(users["rep_ana"])
    assert client.get("/api/v1/reports/funnel").json()["counts"]["prospect"] == 1
    services.move_stage(user=users["rep_ana"], card=funnel["d"], to_stage="prospect")
    assert client.get("/api/v1/reports/funnel").json()["counts"]["prospect"] == 2
