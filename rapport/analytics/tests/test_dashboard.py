"""The analytics dashboard at /analytics/: a rep's own figures, a manager's team with a row per rep,
the whole company for an administrator or analyst; who may look at whose figures; the API's
answer; the downloads; and a query count that does not grow with the customers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.analytics import dashboard
from rapport.analytics.tests.factories import AS_OF, every
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db


def _days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def _web(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(users: Any, make_org: Any, orders: Any, sell: Any, products: Any) -> dict[str, Any]:
    """rep_ana: a monthly regular gone silent, a customer buying this June and last June, a prospect
    she calls, a kept promise and a visit; rep_ben (same team) and rep_bo_other_team one customer each."""
    from rapport.activities.services import log_activity
    from rapport.visits.models import Promise, Visit

    ana = users["rep_ana"]
    silent = make_org(owner="rep_ana", name="Ferretería Callada")
    orders(silent, every(30, count=12, last=_days_ago(120)))
    steady = make_org(owner="rep_ana", name="Pinturas Constantes")
    sell(steady, dt.date(2026, 6, 10), (products["oil"], 10, "50.00", "0"))
    sell(steady, dt.date(2025, 6, 10), (products["oil"], 8, "50.00", "0"))
    sell(steady, dt.date(2026, 2, 10), (products["rice"], 100, "2.00", "0"))
    loser = make_org(owner="rep_ana", name="Cliente Costoso")
    sell(loser, dt.date(2026, 5, 5), (products["oil"], 1, "7.00", "0"))
    for day in (2, 3, 4, 5, 8, 9):
        log_activity(user=ana, data={"kind": "visit", "summary": "Visita", "cards": [loser.pk],
                                     "occurred_at": f"2026-06-{day:02d}T10:00:00+00:00"})
    prospect = make_org(owner="rep_ana", name="Prospecto Nuevo")
    for day in (1, 2, 3):
        log_activity(user=ana, data={"kind": "call", "summary": "Llamada", "cards": [prospect.pk],
                                     "occurred_at": f"2026-06-{day:02d}T10:00:00+00:00"})
    common = {"card_owner_id": ana.pk, "card_team_id": steady.team_id}
    Visit.objects.create(card=steady, planned_on=dt.date(2026, 6, 10), owner=ana, status="done", **common)
    Promise.objects.create(card=steady, owner=ana, by="us", text="Enviar muestras", due_on=dt.date(2026, 6, 12),
                           kept_on=dt.date(2026, 6, 11))
    Promise.objects.create(card=steady, owner=ana, by="us", text="Llamar", due_on=dt.date(2026, 6, 20))
    ben_card = make_org(owner="rep_ben", name="Almacén de Ben")
    sell(ben_card, dt.date(2026, 6, 3), (products["rice"], 600, "2.00", "0"))
    bo_card = make_org(owner="rep_bo_other_team", name="Sur Secreto")
    orders(bo_card, every(30, count=12, last=_days_ago(150)))
    return {"silent": silent, "steady": steady, "loser": loser, "ben": ben_card, "bo": bo_card}


def test_a_reps_dashboard_shows_their_own_sales_against_last_year_and_their_silent_regulars(users: Any, world: Any) -> None:
    board = dashboard.build_dashboard(users["rep_ana"], as_of=AS_OF)
    assert board.mode == dashboard.REP_MODE and board.rep_id == users["rep_ana"].pk
    # June: 500 against last June's 400 and the silent regular's 100.
    assert (board.month.revenue, board.month.previous_revenue, board.month.change_percent) == (
        Decimal("500.00"), Decimal("500.00"), 0.0)
    assert (board.year.revenue, board.year.previous_revenue) == (Decimal("1007.00"), Decimal("700.00"))  # not Ben's
    assert [m.month.month for m in board.months] == [1, 2, 3, 4, 5, 6]
    assert board.flagged == 1 and [r.card_id for r in board.at_risk] == [world["silent"].pk]
    assert board.at_risk[0].why.startswith("Usually orders every ~") and "silent for 120 days" in board.at_risk[0].why
    assert sum(n for _k, _l, n in board.segments) == board.rfm_customers == 3
    assert board.activity.new_customer_calls == 3 and board.activity.visits_done == 1
    assert (board.activity.promises_due, board.activity.promises_kept, board.activity.promises_kept_percent) == (2, 1, 50.0)
    assert board.least_profitable[0].card_id == world["loser"].pk and board.least_profitable[0].net_profit < 0
    assert board.losing >= 1 and board.reps == []


def test_a_reps_page_reads_in_the_order_people_use_it_and_links_to_the_full_reports(users: Any, world: Any) -> None:
    page = _web(users["rep_ana"]).get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert "My dashboard" in html and "Ferretería Callada" in html and "silent for 120 days" in html
    assert html.index("Sales this month") < html.index("Silent regulars to call first") < html.index("Least profitable")
    assert reverse("card-detail", args=[world["silent"].pk]) in html
    for name in ("analytics-churn", "analytics-rfm", "analytics-reps", "analytics-performance", "analytics-profitability"):
        assert reverse(name) + "?" in html, name
    assert "Almacén de Ben" not in html and "Sur Secreto" not in html
    assert 'name="rep"' not in html  # a rep has no one to pick
    assert "champions" not in html and "needs_attention" not in html  # segment words, not their keys


def test_a_rep_cannot_see_another_reps_figures_by_naming_them(users: Any, world: Any) -> None:
    ana = users["rep_ana"]
    for other in (users["rep_ben"], users["rep_bo_other_team"], users["manager_mei"]):
        answer = api(ana).get(f"/api/v1/reports/dashboard?as_of={AS_OF}&rep={other.pk}")
        assert answer.status_code == 422 and "Unknown user." in answer.content.decode(), other.username
        page = _web(ana).get(reverse("analytics-dashboard"), {"rep": other.pk})
        assert page.status_code == 422 and "Almacén de Ben" not in page.content.decode()
        assert "That team or rep is not one whose figures you can see." in page.content.decode()
    unknown = api(ana).get(f"/api/v1/reports/dashboard?rep=987654")
    assert unknown.status_code == 422 and "Unknown user." in unknown.content.decode()
    mine = api(ana).get(f"/api/v1/reports/dashboard?as_of={AS_OF}&rep={ana.pk}")
    assert mine.status_code == 200 and mine.json()["rep_id"] == ana.pk


def test_a_managers_dashboard_has_a_row_per_rep_of_the_team_and_can_pick_one_rep(users: Any, world: Any) -> None:
    mei = users["manager_mei"]
    board = dashboard.build_dashboard(mei, as_of=AS_OF)
    assert board.mode == dashboard.TEAM_MODE
    assert board.year.revenue == Decimal("2207.00")  # Ana's 1,007 and Ben's 1,200; nothing of the South
    assert {line.rep for line in board.reps} == {"rep_ana", "rep_ben"}
    ana_line = next(line for line in board.reps if line.rep == "rep_ana")
    assert (ana_line.flagged, ana_line.promises_due, ana_line.revenue) == (1, 2, Decimal("1007.00"))
    assert board.reps[0].rep == "rep_ben"  # the most sales first
    page = _web(mei).get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat()})
    html = page.content.decode()
    assert page.status_code == 200 and "Team dashboard" in html and 'name="rep"' in html and "Sur Secreto" not in html
    picked = _web(mei).get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat(), "rep": users["rep_ana"].pk})
    assert picked.status_code == 200 and "rep_ana's dashboard" in picked.content.decode()
    assert dashboard.build_dashboard(mei, as_of=AS_OF, rep=users["rep_ana"].pk).year.revenue == Decimal("1007.00")


def test_a_manager_cannot_pick_a_rep_or_a_team_they_do_not_manage(users: Any, world: Any) -> None:
    mei, bo = users["manager_mei"], users["rep_bo_other_team"]
    south = bo.teams.get().pk
    for query in (f"rep={bo.pk}", f"team={south}", "team=987654"):
        answer = api(mei).get(f"/api/v1/reports/dashboard?as_of={AS_OF}&{query}")
        assert answer.status_code == 422, query
        assert _web(mei).get(f"{reverse('analytics-dashboard')}?{query}").status_code == 422, query
    north = users["rep_ana"].teams.get().pk  # their own team is fine, though one team needs no picker
    assert _web(mei).get(reverse("analytics-dashboard"), {"team": north}).status_code == 200
    assert api(mei).get(f"/api/v1/reports/dashboard?team={north}").status_code == 200


def test_an_admin_sees_the_whole_company_and_can_narrow_it_to_a_team(users: Any, world: Any) -> None:
    admin = users["admin"]
    board = dashboard.build_dashboard(admin, as_of=AS_OF)
    assert board.mode == dashboard.TEAM_MODE and board.flagged == 2
    assert {line.rep for line in board.reps} == {"rep_ana", "rep_ben", "rep_bo_other_team"}
    south = users["rep_bo_other_team"].teams.get()
    narrowed = dashboard.build_dashboard(admin, as_of=AS_OF, team=south.pk)
    assert narrowed.team == south.name and [r.card_id for r in narrowed.at_risk] == [world["bo"].pk]
    assert [line.rep for line in narrowed.reps] == ["rep_bo_other_team"]
    page = _web(admin).get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat(), "team": south.pk})
    assert page.status_code == 200 and "Sur Secreto" in page.content.decode() and 'name="team"' in page.content.decode()


def test_an_analyst_sees_the_company_figures_like_an_admin(users: Any, world: Any) -> None:
    seen = dashboard.as_dict(dashboard.build_dashboard(users["analyst_al"], as_of=AS_OF))
    admin = dashboard.as_dict(dashboard.build_dashboard(users["admin"], as_of=AS_OF))
    assert seen == admin
    assert _web(users["analyst_al"]).get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat()}).status_code == 200


def test_a_dashboard_without_any_data_says_so_and_shows_zeros(users: Any) -> None:
    board = dashboard.build_dashboard(users["rep_ana"], as_of=AS_OF)
    assert dashboard.no_data(board)
    assert board.year.revenue == 0 and board.flagged == 0 and board.activity.calls_per_day == 0
    page = _web(users["rep_ana"]).get(reverse("analytics-dashboard"))
    assert page.status_code == 200 and "Nothing to show yet" in page.content.decode()
    assert _web(users["admin"]).get(reverse("analytics-dashboard")).status_code == 200


def test_bad_filters_are_refused_with_422_and_say_why(users: Any) -> None:
    client = api(users["admin"])
    for bad in ("as_of=yesterday", "as_of=1800-01-01", "as_of=2026-02-30", "team=abc", "rep=0", "rep=-3", "team=" + "9" * 30):
        assert client.get(f"/api/v1/reports/dashboard?{bad}").status_code == 422, bad
    web = _web(users["admin"])
    for bad in ("as_of=yesterday", "as_of=1800-01-01", "team=abc", "rep=987654"):
        page = web.get(f"{reverse('analytics-dashboard')}?{bad}")
        assert page.status_code == 422 and 'class="errors"' in page.content.decode(), bad
    assert web.get(f"{reverse('analytics-dashboard-csv')}?as_of=yesterday").status_code == 422


def test_the_api_answers_the_figures_in_their_documented_shape(users: Any, world: Any) -> None:
    body = api(users["manager_mei"]).get(f"/api/v1/reports/dashboard?as_of={AS_OF}").json()
    assert set(body) == {"as_of", "mode", "rep_id", "rep", "team_id", "team", "currency", "month", "year", "months",
                         "churn", "rfm", "activity", "profitability", "reps", "missing_rates"}
    assert body["mode"] == "team" and body["currency"] == "EUR" and body["year"]["revenue"] == "2207.00"
    assert body["churn"]["flagged"] == 1 and body["churn"]["at_risk"][0]["name"] == "Ferretería Callada"
    assert {s["segment_key"] for s in body["rfm"]["segments"]} >= {"champions", "hibernating"}
    assert body["activity"]["call_target"] == 5 and body["activity"]["reps"] == 2
    assert {r["rep"] for r in body["reps"]} == {"rep_ana", "rep_ben"}
    assert body["profitability"]["least_profitable"][0]["name"] == "Cliente Costoso"
    spanish = api(users["manager_mei"]).get(f"/api/v1/reports/dashboard?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="es").json()
    assert "Campeones" in {s["segment"] for s in spanish["rfm"]["segments"]}
    schema = api(users["admin"]).get("/api/v1/openapi.json").json()
    assert "/api/v1/reports/dashboard" in schema["paths"]


def test_the_downloads_hold_a_row_per_rep_and_are_audited(users: Any, world: Any) -> None:
    from rapport.audit.models import AuditEntry

    answer = _web(users["manager_mei"]).get(reverse("analytics-dashboard-csv"), {"as_of": AS_OF.isoformat()})
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert {r["rep"] for r in rows} == {"rep_ana", "rep_ben"} and rows[0]["currency"] == "EUR"
    xlsx = _web(users["rep_ana"]).get(reverse("analytics-dashboard-xlsx"), {"as_of": AS_OF.isoformat()})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert AuditEntry.objects.filter(record_type="analytics.dashboard", action="export").count() == 2


def test_the_number_of_queries_does_not_grow_with_the_customers(users: Any, make_org: Any, orders: Any, world: Any) -> None:
    def count(user: Any) -> tuple[int, int]:
        user = type(user).objects.get(pk=user.pk)  # a fresh object: no scope kept from an earlier call
        reset_queries()  # the log keeps the last 9,000 queries: a full one would count nothing
        with CaptureQueriesContext(connection) as built:
            dashboard.build_dashboard(user, as_of=AS_OF)
        client = _web(user)
        client.get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat()})  # the session, warm
        with CaptureQueriesContext(connection) as page:
            assert client.get(reverse("analytics-dashboard"), {"as_of": AS_OF.isoformat()}).status_code == 200
        return len(built), len(page)

    count(users["admin"])  # warms the per-process caches (exchange rates, labels) once
    before = {name: count(users[name]) for name in ("rep_ana", "manager_mei", "admin")}
    for i in range(25):
        card = make_org(owner="rep_ana" if i % 2 else "rep_ben", name=f"Cliente {i}")
        orders(card, every(20 + i, count=6, last=_days_ago(3 * i)))
    after = {name: count(users[name]) for name in ("rep_ana", "manager_mei", "admin")}
    assert after == before
    assert max(page for _built, page in after.values()) <= 60


def test_the_command_line_writes_the_rep_table_and_refuses_another_reps_figures(users: Any, world: Any, tmp_path: Any) -> None:
    from rapport.cli import main

    target = tmp_path / "dashboard.csv"
    assert main(["analytics", "dashboard", "--as-of", AS_OF.isoformat(), "--user", "manager_mei",
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert {r["rep"] for r in rows} == {"rep_ana", "rep_ben"}
    refused = tmp_path / "refused.csv"
    assert main(["analytics", "dashboard", "--user", "rep_ana", "--rep", "rep_ben", "--output", str(refused)]) != 0
    assert not refused.exists()
