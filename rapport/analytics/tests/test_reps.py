"""Rep performance: revenue, new-customer calls per working day against the target, visits and
their objectives, promises kept and conversion, per rep, through the selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from rapport.analytics import reps, selectors
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def test_working_days_count_monday_to_friday() -> None:
    assert reps.working_days(dt.date(2026, 3, 2), dt.date(2026, 3, 8)) == 5  # a whole week
    assert reps.working_days(dt.date(2026, 3, 7), dt.date(2026, 3, 8)) == 0  # a weekend
    assert reps.working_days(START, END) == 22
    assert reps.working_days(END, START) == 0


def test_a_call_counts_as_new_business_until_the_card_first_orders() -> None:
    calls = [(1, 10, dt.date(2026, 3, 2)), (1, 11, dt.date(2026, 3, 2)), (1, 11, dt.date(2026, 3, 20)), (2, 12, START)]
    firsts = {11: dt.date(2026, 3, 10), 12: dt.date(2025, 1, 1)}
    assert reps.new_customer_calls(calls, firsts) == {1: 2}


@pytest.fixture
def month(users: Any, make_org: Any) -> dict[str, Any]:
    from rapport.activities.services import log_activity
    from rapport.commerce.models import Order
    from rapport.deals.models import Deal
    from rapport.visits.models import Objective, Promise, Visit

    ana = users["rep_ana"]
    old = make_org(owner="rep_ana", name="Cliente Antiguo")
    new = make_org(owner="rep_ana", name="Prospecto Nuevo")
    south = make_org(owner="rep_bo_other_team", name="Sur")
    Order.objects.create(card=old, ordered_on=dt.date(2025, 5, 1), currency="EUR", total=50)
    Order.objects.create(card=old, ordered_on=dt.date(2026, 3, 5), currency="EUR", total=Decimal("1000.00"))
    Order.objects.create(card=south, ordered_on=dt.date(2026, 3, 5), currency="EUR", total=Decimal("300.00"))
    for day in (2, 3, 4):
        log_activity(user=ana, data={"kind": "call", "summary": "Llamada", "cards": [new.pk],
                                     "occurred_at": f"2026-03-{day:02d}T10:00:00+00:00"})
    log_activity(user=ana, data={"kind": "call", "summary": "Llamada", "cards": [old.pk],
                                 "occurred_at": "2026-03-06T10:00:00+00:00"})  # a customer already: not new business
    common = {"card_owner_id": ana.pk, "card_team_id": old.team_id}
    done = Visit.objects.create(card=old, planned_on=dt.date(2026, 3, 5), owner=ana, status="done", **common)
    Visit.objects.create(card=old, planned_on=dt.date(2026, 3, 9), owner=ana, status="planned", **common)
    for result in ("met", "partly", "not_met", ""):
        Objective.objects.create(visit=done, kind="order", result=result)
    Promise.objects.create(card=old, owner=ana, by="us", text="Enviar muestras", due_on=dt.date(2026, 3, 10),
                           kept_on=dt.date(2026, 3, 9))
    Promise.objects.create(card=old, owner=ana, by="us", text="Llamar", due_on=dt.date(2026, 3, 12),
                           kept_on=dt.date(2026, 3, 15))
    Promise.objects.create(card=old, owner=ana, by="them", text="Pagar", due_on=dt.date(2026, 3, 12))
    closed = dt.datetime(2026, 3, 20, 12, tzinfo=dt.timezone.utc)
    for status, amount in (("won", "500"), ("lost", "200"), ("won", "100")):
        Deal.objects.create(card=old, name=f"Trato {status}", currency="EUR", amount=Decimal(amount), owner=ana,
                            status=status, closed_at=closed, **common)
    return {"ana": ana, "old": old, "new": new}


def _row(report: selectors.RepReport, username: str) -> selectors.RepRow:
    return next(row for row in report.rows if row.rep == username)


def test_the_report_counts_each_figure_of_the_rep(users: Any, month: Any) -> None:
    with override_settings(RAPPORT_NEW_CUSTOMER_CALLS_PER_DAY=1):
        report = selectors.reps_report(users["manager_mei"], start=START, end=END)
    row = _row(report, "rep_ana")
    assert (row.revenue, row.orders, row.customers) == (Decimal("1000.00"), 1, 1)
    assert row.new_customer_calls == 3 and row.working_days == 22 and row.calls_per_day == round(3 / 22, 2)
    assert row.call_target == 1 and not row.on_target
    assert row.visits_done == 1 and row.objectives_met_percent == 50.0  # met + half of partly, of three judged
    assert row.promises_due == 2 and row.promises_kept_percent == 50.0
    assert (row.deals_won, row.deals_lost, row.conversion_percent, row.won_amount) == (2, 1, 66.7, Decimal("600.00"))
    assert {r.rep for r in report.rows} == {"rep_ana", "rep_ben"}  # the manager's team, not the other team


def test_a_rep_sees_only_themselves_and_an_admin_every_rep(users: Any, month: Any) -> None:
    assert [r.rep for r in selectors.reps_report(users["rep_ana"], start=START, end=END).rows] == ["rep_ana"]
    everyone = selectors.reps_report(users["admin"], start=START, end=END)
    assert {"rep_ana", "rep_bo_other_team"} <= {r.rep for r in everyone.rows}
    assert _row(everyone, "rep_bo_other_team").revenue == Decimal("300.00")
    only = selectors.reps_report(users["admin"], start=START, end=END, rep=users["rep_bo_other_team"].pk)
    assert [r.rep for r in only.rows] == ["rep_bo_other_team"]
    with pytest.raises(ValueError):
        selectors.reps_report(users["admin"], start=END, end=START)


def test_the_api_the_cli_and_the_page(users: Any, month: Any, tmp_path: Path) -> None:
    from rapport.cli import main

    body = api(users["rep_ana"]).get(f"/api/v1/reports/reps?start={START}&end={END}").json()
    assert [item["rep"] for item in body["items"]] == ["rep_ana"] and body["items"][0]["revenue"] == "1000.00"
    assert api(users["rep_ana"]).get(f"/api/v1/reports/reps?start={END}&end={START}").status_code == 422
    target = tmp_path / "reps.csv"
    assert main(["analytics", "reps", "--from", START.isoformat(), "--to", END.isoformat(), "--team", "North",
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert {r["rep"] for r in rows} == {"rep_ana", "rep_ben"}
    web = Client()
    web.force_login(users["rep_ana"])
    html = web.get(f"/analytics/reps/?start={START}&end={END}").content.decode()
    assert "rep-tiles" in html and "rep-chart" in html and "66.7 %" in html
    assert web.get(f"/analytics/reps/?start={END}&end={START}").status_code == 422
