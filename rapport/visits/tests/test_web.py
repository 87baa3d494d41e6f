"""The visits pages: the day, planning, the visit page, the reflection, the report form, the
week plan, sites and the card panel; refused input shown with what was typed kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.visits import services
from rapport.visits.models import PlanStatus, Promise, Site, Status, Visit

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_day_lists_the_reps_visits_in_their_order_with_objectives(users: Any, make_visit: Any, make_org: Any) -> None:
    second = make_org(name="Ferretería Central")
    make_visit(objectives=["collect_payment"])
    make_visit(card=second)
    page = client_for(users["rep_ana"]).get("/visits/?day=2027-03-15")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.index("Distribuidora Norte") < text.index("Ferretería Central")
    assert "Collect a payment" in text and "collect_payment" not in text


def test_a_manager_sees_a_reps_day_and_a_rep_of_another_team_gets_404(users: Any, make_visit: Any) -> None:
    make_visit()
    ana = users["rep_ana"].pk
    assert "Distribuidora Norte" in client_for(users["manager_mei"]).get(f"/visits/?day=2027-03-15&user={ana}").content.decode()
    assert client_for(users["rep_bo_other_team"]).get(f"/visits/?day=2027-03-15&user={ana}").status_code == 404
    assert client_for(users["rep_ana"]).get("/visits/?day=not-a-day").status_code == 404


def test_planning_a_visit_from_the_card_with_objectives_and_tools(users: Any, org: Any) -> None:
    client = client_for(users["rep_ana"])
    form = client.get(f"/visits/new/?organization={org.pk}")
    assert form.status_code == 200 and "Collect a payment" in form.content.decode()
    response = client.post(f"/visits/new/?organization={org.pk}", {
        "date": "2027-03-15", "window_start": "10:00", "window_end": "12:00", "duration_minutes": "40",
        "objective": ["collect_payment", "first_order"], "target_collect_payment": "900", "currency_collect_payment": "EUR",
        "tool": ["brochures"],
    })
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert [o.kind for o in visit.objectives.all()] == ["collect_payment", "first_order"]
    assert visit.tools == {"brochures": False}


def test_a_refused_plan_shows_the_errors_and_keeps_what_was_typed(users: Any, org: Any) -> None:
    response = client_for(users["rep_ana"]).post(f"/visits/new/?organization={org.pk}", {
        "date": "2027-03-15", "window_start": "12:00", "window_end": "10:00", "purpose": "Spring stock",
        "objective": ["collect_payment"], "target_collect_payment": "-3", "currency_collect_payment": "EUR",
    })
    text = response.content.decode()
    assert response.status_code == 422
    assert "The window must end after it starts." in text and 'value="Spring stock"' in text and 'value="-3"' in text
    assert not Visit.objects.exists()


def test_the_visit_page_checks_in_ticks_tools_and_a_manager_gives_instructions(users: Any, make_visit: Any) -> None:
    visit = make_visit(tools=["brochures"])
    rep = client_for(users["rep_ana"])
    assert rep.get(f"/visits/{visit.pk}/").status_code == 200
    assert rep.post(f"/visits/{visit.pk}/act/", {"action": "tool", "tool": "brochures", "packed": "1"}).status_code == 302
    assert rep.post(f"/visits/{visit.pk}/act/", {"action": "check_in", "latitude": "", "longitude": ""}).status_code == 302
    visit.refresh_from_db()
    assert visit.tools == {"brochures": True} and visit.status == Status.IN_PROGRESS
    assert rep.post(f"/visits/{visit.pk}/act/", {"action": "instructions", "instructions": "x"}).status_code == 403
    manager = client_for(users["manager_mei"])
    assert manager.post(f"/visits/{visit.pk}/act/", {"action": "instructions", "instructions": "Ask for the shelf"}).status_code == 302
    assert "Ask for the shelf" in rep.get(f"/visits/{visit.pk}/").content.decode()
    assert client_for(users["rep_bo_other_team"]).get(f"/visits/{visit.pk}/").status_code == 404


def test_the_reflection_page_shows_promises_receivables_and_people(users: Any, make_visit: Any, org: Any) -> None:
    services.add_promise(user=users["rep_ana"], card=org, data={"by": "them", "text": "Send the stock list"})
    visit = make_visit()
    page = client_for(users["rep_ana"]).get(f"/visits/{visit.pk}/reflection/")
    text = page.content.decode()
    assert page.status_code == 200 and "Send the stock list" in text and "Nothing owed." in text


def test_the_report_form_sends_the_report_and_the_visit_is_done(users: Any, make_visit: Any) -> None:
    visit = make_visit(objectives=["first_order"])
    objective = visit.objectives.get()
    client = client_for(users["rep_ana"])
    form = client.get(f"/visits/{visit.pk}/report/").content.decode()
    assert 'name="report_token"' in form and "data-draft-key" in form
    response = client.post(f"/visits/{visit.pk}/report/", {
        "report_token": "abc123", "outcome": "met", f"result_{objective.pk}": "met", f"achieved_{objective.pk}": "1200",
        f"achieved_currency_{objective.pk}": "EUR", "promise_rows": "3", "promise_by_0": "us", "promise_text_0": "Send samples",
        "retail_shop_clean": "ok", "intel_kind_0": "competitor_price", "intel_text_0": "Acme sells at 9.90",
    })
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Status.DONE and Promise.objects.get().text == "Send samples"
    assert client.get(f"/visits/{visit.pk}/report/").status_code == 302  # a reported visit opens its page


def test_a_refused_report_comes_back_with_the_reason_and_what_was_typed(users: Any, make_visit: Any) -> None:
    visit = make_visit(objectives=["first_order"])
    objective = visit.objectives.get()
    response = client_for(users["rep_ana"]).post(f"/visits/{visit.pk}/report/", {
        "report_token": "abc123", "outcome": "met", f"result_{objective.pk}": "not_met", "summary": "Long talk about prices",
    })
    text = response.content.decode()
    assert response.status_code == 422 and "Say why." in text and "Long talk about prices" in text
    assert "Win a first order: Say why." in text


def test_the_week_page_sends_the_plan_and_the_manager_approves_it(users: Any, make_visit: Any) -> None:
    make_visit(date="2027-03-16")
    rep = client_for(users["rep_ana"])
    assert rep.post("/visits/week/?week=2027-03-16", {"action": "submit", "note": ""}).status_code == 302
    ana = users["rep_ana"].pk
    assert "Approve the week" in client_for(users["manager_mei"]).get(f"/visits/week/?week=2027-03-16&user={ana}").content.decode()
    assert client_for(users["manager_mei"]).post(f"/visits/week/?week=2027-03-16&user={ana}", {"action": "approve"}).status_code == 302
    from rapport.visits.models import WeekPlan

    assert WeekPlan.objects.get().status == PlanStatus.APPROVED


def test_the_site_form_saves_opening_hours_and_refuses_half_coordinates(users: Any, org: Any) -> None:
    client = client_for(users["rep_ana"])
    bad = client.post(f"/visits/site/{org.pk}/", {"latitude": "40.1", "longitude": "", "opens_at": "09:00"})
    assert bad.status_code == 422 and not Site.objects.exists()
    ok = client.post(f"/visits/site/{org.pk}/", {"latitude": "40.1", "longitude": "-3.7", "opens_at": "09:00", "closes_at": "14:00",
                                                 "closed_weekdays": ["6"]})
    assert ok.status_code == 302 and Site.objects.get(card=org).closed_weekdays == [6]
    assert client_for(users["rep_bo_other_team"]).get(f"/visits/site/{org.pk}/").status_code == 404


def test_the_card_shows_the_visits_panel_with_open_promises(users: Any, make_visit: Any, org: Any) -> None:
    make_visit()
    services.add_promise(user=users["rep_ana"], card=org, data={"by": "us", "text": "Bring the new price list"})
    page = client_for(users["rep_ana"]).get(f"/cards/{org.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and 'id="visits"' in text and "Bring the new price list" in text


def test_the_visit_reports_page_draws_the_objectives_chart(users: Any, make_visit: Any) -> None:
    visit = make_visit(date="2026-11-10", objectives=["first_order"])
    services.report_visit(user=users["rep_ana"], visit=visit, data={
        "outcome": "met", "objectives": [{"id": visit.objectives.get().pk, "result": "met"}]})
    page = client_for(users["manager_mei"]).get("/visits/reports/?from=2026-11-01&to=2026-11-30")
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text and "100%" in text and "rep_ana" in text


def test_a_colleague_of_the_team_goes_along_and_a_stranger_cannot_be_named(users: Any, org: Any) -> None:
    client = client_for(users["rep_ana"])
    form = client.get(f"/visits/new/?organization={org.pk}").content.decode()
    assert "rep_ben" in form and "rep_bo_other_team" not in form
    assert client.post(f"/visits/new/?organization={org.pk}", {"date": "2027-03-15", "companion": [str(users["rep_ben"].pk)]}).status_code == 302
    assert [u.username for u in Visit.objects.get().companions.all()] == ["rep_ben"]
    refused = client.post(f"/visits/new/?organization={org.pk}", {"date": "2027-03-15", "companion": ["99999999"]})
    assert refused.status_code == 422 and Visit.objects.count() == 1


def test_the_reflection_lists_the_collection_work_open_on_the_customer(users: Any, make_visit: Any, org: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from rapport.commerce import collection
    from rapport.commerce import services as commerce
    from rapport.commerce.tests.factories import invoice

    commerce.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=30, large_from="1000")
    invoice(users["rep_ana"], org, "5000.00", issued="2026-01-01", due=(timezone.localdate() - dt.timedelta(days=5)).isoformat())
    collection.generate_tasks(as_of=timezone.localdate())
    visit = make_visit()
    text = client_for(users["rep_ana"]).get(f"/visits/{visit.pk}/reflection/").content.decode()
    assert "Collection work: Rep visits to collect" in text and "Rep visits to collect" in text
