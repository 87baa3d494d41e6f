"""The prospects trend: new prospects and customers per month by method or source, through the selector,
API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics.prospects import prospects_report
from rapport.analytics.reports import Filters
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)


@pytest.fixture
def history(users: Any, make_org: Any) -> dict[str, Any]:
    """Norte: found door to door, a prospect in February and a customer in April; Sur (another team): a
    prospect in March; Viejo: a customer back in 2025; Tarde: a customer after the period."""
    from rapport.cards.models import Card, StageChange
    from rapport.catalog import selectors as catalog

    door = catalog.sources()["door_to_door"]
    cards = {"north": make_org(name="Norte"), "south": make_org(owner="rep_bo_other_team", name="Sur"),
             "old": make_org(name="Viejo"), "late": make_org(name="Tarde")}
    Card.objects.filter(pk=cards["north"].pk).update(found_by=door)
    StageChange.objects.all().delete()  # the "created" moves of today
    moves = [("north", "prospect", dt.date(2026, 2, 10)), ("north", "target", dt.date(2026, 3, 1)),
             ("north", "customer", dt.date(2026, 4, 5)), ("south", "prospect", dt.date(2026, 3, 20)),
             ("old", "customer", dt.date(2025, 6, 1)), ("old", "regular", dt.date(2026, 2, 1)),
             ("late", "prospect", dt.date(2026, 5, 2)), ("late", "customer", dt.date(2026, 8, 1))]
    StageChange.objects.bulk_create([StageChange(card=cards[name], from_stage="", to_stage=stage, changed_at=_at(day))
                                     for name, stage, day in moves])
    return cards


def _flt(**kwargs: Any) -> Filters:
    return Filters(start=kwargs.pop("start", START), end=kwargs.pop("end", END), **kwargs)


def test_new_prospects_and_customers_per_month_by_method(users: Any, history: Any) -> None:
    report = prospects_report(users["admin"], _flt(by="method"))
    assert [(m.month, m.new_prospects, m.new_customers) for m in report.months] == [
        ("2026-01", 0, 0), ("2026-02", 1, 0), ("2026-03", 1, 0), ("2026-04", 0, 1), ("2026-05", 1, 0), ("2026-06", 0, 0)]
    rows = [(r.month, r.key, r.new_prospects, r.new_customers) for r in report.rows]
    assert rows == [("2026-02", "door_to_door", 1, 0), ("2026-03", "", 1, 0), ("2026-04", "door_to_door", 0, 1),
                    ("2026-05", "", 1, 0)]
    assert report.rows[0].label == "Door-to-door canvassing" or report.rows[0].label  # the catalogue's words
    assert any(g["key"] == "door_to_door" and g["found"] == 1 for g in report.groups)  # the funnel's method report


def test_moves_after_the_as_of_date_do_not_count(users: Any, history: Any) -> None:
    report = prospects_report(users["admin"], _flt(end=dt.date(2026, 3, 31)))
    assert sum(m.new_customers for m in report.months) == 0 and sum(m.new_prospects for m in report.months) == 2
    before = prospects_report(users["admin"], _flt(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31)))
    assert before.rows == [] and len(before.months) == 12


def test_a_rep_sees_only_their_cards_and_filters_reach_only_their_teams(users: Any, history: Any) -> None:
    from rapport.core.errors import ValidationError

    ana = prospects_report(users["rep_ana"], _flt())
    assert sum(m.new_prospects for m in ana.months) == 2  # Norte and Tarde, not Sur
    bo = prospects_report(users["rep_bo_other_team"], _flt())
    assert [(r.month, r.new_prospects) for r in bo.rows] == [("2026-03", 1)]
    south = users["rep_bo_other_team"].teams.get().pk
    with pytest.raises(ValidationError):
        prospects_report(users["rep_ana"], _flt(team=south))
    with pytest.raises(ValueError):
        prospects_report(users["admin"], _flt(start=dt.date(2000, 1, 1)))  # more months than a chart holds


def test_by_source_counts_a_card_under_every_source_of_its_facts(users: Any, history: Any) -> None:
    from rapport.cards.services import add_fact

    add_fact(user=users["rep_ana"], card=history["north"], item_key="business_scope", value="Ferretería",
             source_key="rep_observation")
    report = prospects_report(users["admin"], _flt(by="source"))
    assert ("2026-02", "rep_observation", 1) in [(r.month, r.key, r.new_prospects) for r in report.rows]


def test_the_api_the_cli_and_the_page(users: Any, history: Any, tmp_path: Path) -> None:
    from rapport.cli import main

    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/prospects?start={START}&end={END}").json()
    assert [m["new_prospects"] for m in body["months"]] == [0, 1, 0, 0, 1, 0] and body["by"] == "method"
    for bad in ("by=colour", f"start={END}&end={START}", "start=1990-01-01"):
        assert client.get(f"/api/v1/reports/prospects?{bad}").status_code == 422, bad
    target = tmp_path / "prospects.csv"
    assert main(["analytics", "prospects", "--from", START.isoformat(), "--to", END.isoformat(),
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["month"] for r in rows] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert list(rows[0]) == ["month", "key", "label", "new_prospects", "new_customers"]
    web = Client()
    web.force_login(users["manager_mei"])
    html = web.get(f"/analytics/prospects/?start={START}&end={END}").content.decode()
    assert "prospects-chart" in html and ">Feb<" in html and ">2026<" in html
    assert web.get("/analytics/prospects/?by=colour").status_code == 422
