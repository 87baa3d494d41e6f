"""The customer profile: cards per group with risk and buying habits, through the selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics.profile import profile_report
from rapport.analytics.reports import Filters
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
MONDAYS = [dt.date(2026, 3, 2), dt.date(2026, 3, 16), dt.date(2026, 3, 30)]


@pytest.fixture
def customers(users: Any, make_org: Any, sell: Any, products: Any) -> dict[str, Any]:
    from rapport.cards.models import Address, Card
    from rapport.cards.services import add_fact
    from rapport.commerce.models import Product

    Product.objects.filter(pk=products["oil"].pk).update(category="Aceites")
    Product.objects.filter(pk=products["rice"].pk).update(category="Arroz")
    north = make_org(name="Norte", tier="A", industry="Food")
    quiet = make_org(name="Sin pedidos", tier="A")
    south = make_org(owner="rep_bo_other_team", name="Sur", tier="B")
    Address.objects.create(card=north, city="Valencia", region="Valencia", country="ES")
    add_fact(user=users["rep_ana"], card=north, item_key="distribution_channels", value=["wholesale", "own_shops"],
             source_key="rep_observation")
    for day in MONDAYS:
        sell(north, day, (products["oil"], 10, "10.00", "0"))
    sell(north, MONDAYS[-1], (products["rice"], 2, "5.00", "0"))  # a second order the same Monday
    sell(south, dt.date(2026, 4, 1), (products["rice"], 4, "5.00", "0"), currency="GBP")  # no GBP rate
    Card.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))  # all existed in the period
    return {"north": north, "quiet": quiet, "south": south}


def _flt(**kwargs: Any) -> Filters:
    return Filters(start=kwargs.pop("start", START), end=kwargs.pop("end", END), **kwargs)


def _by(report: Any) -> dict[str, Any]:
    return {row.key: row for row in report.rows}


def test_cards_by_tier_with_buyers_orders_revenue_and_buying_habits(users: Any, customers: Any) -> None:
    report = profile_report(users["admin"], _flt(by="tier"))
    a, b = _by(report)["A"], _by(report)["B"]
    assert (a.cards, a.buyers, a.orders, a.revenue) == (2, 1, 4, Decimal("310.00"))
    assert a.share_percent == pytest.approx(66.7) and a.label == "Tier A"
    assert a.busiest_weekday == "Monday" and a.busiest_month == "March" and a.median_interval_days == 14.0
    assert a.top_categories == "Aceites, Arroz" and a.weekdays[0] == 4 and a.months[2] == 4
    # Sur's only order is in pounds, which have no rate: counted as an order, never added to the euros.
    assert (b.orders, b.revenue, b.median_interval_days) == (1, Decimal("0.00"), None)
    assert report.missing_rates == ["GBP"] and report.total.cards == 3 and report.total.revenue == Decimal("310.00")


def test_cards_by_region_channel_stage_and_kind(users: Any, customers: Any) -> None:
    regions = _by(profile_report(users["admin"], _flt(by="region")))
    assert regions["Valencia"].cards == 1 and regions[""].cards == 2 and regions[""].label == "Not set"
    channels = _by(profile_report(users["admin"], _flt(by="channel")))
    assert channels["wholesale"].label == "Wholesale" and channels["own_shops"].cards == 1 and channels[""].cards == 2
    stages = profile_report(users["admin"], _flt(by="stage"))
    assert sum(row.cards for row in stages.rows) == 3
    kinds = _by(profile_report(users["admin"], _flt(by="kind")))
    assert kinds["organization"].cards == 3


def test_a_card_created_after_the_as_of_date_is_not_counted_and_stage_is_read_as_it_stood(users: Any,
                                                                                        customers: Any) -> None:
    from rapport.cards.models import Card, StageChange

    # Created after the date, and no order by then; Norte was created later too, but had ordered by then.
    Card.objects.update(created_at=dt.datetime(2026, 7, 15, tzinfo=dt.timezone.utc))
    StageChange.objects.update(changed_at=dt.datetime(2026, 7, 15, tzinfo=dt.timezone.utc))
    report = profile_report(users["admin"], _flt(by="stage", end=dt.date(2026, 6, 30)))
    assert report.total.cards == 2 and {row.key for row in report.rows} == {""}  # no stage yet on that day
    before = profile_report(users["admin"], _flt(by="tier", start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30)))
    assert before.rows == [] and before.total.cards == 0 and before.total.busiest_weekday == ""


def test_a_rep_sees_only_their_cards_and_a_manager_their_team(users: Any, customers: Any) -> None:
    ana = profile_report(users["rep_ana"], _flt(by="tier"))
    assert ana.total.cards == 2 and "B" not in _by(ana)
    bo = profile_report(users["rep_bo_other_team"], _flt(by="tier"))
    assert bo.total.cards == 1 and bo.total.revenue == 0
    mei = profile_report(users["manager_mei"], _flt(by="tier"))
    assert mei.total.cards == 2
    assert profile_report(users["admin"], _flt(by="tier", rep=users["rep_ana"].pk)).total.cards == 2


def test_a_saved_segment_narrows_the_cards_and_groups_them(users: Any, customers: Any) -> None:
    from rapport.segments.services import create_segment

    tier_a = create_segment(user=users["admin"], data={"name": "Tier A", "conditions": [{"field": "tier", "value": ["A"]}]})
    narrowed = profile_report(users["admin"], _flt(by="tier", segment=tier_a.pk))
    assert narrowed.total.cards == 2 and set(_by(narrowed)) == {"A"}
    grouped = _by(profile_report(users["admin"], _flt(by="segment")))
    assert grouped[str(tier_a.pk)].cards == 2 and grouped[""].cards == 1 and grouped[""].label == "In no saved segment"


def test_churn_flags_are_counted_per_group(users: Any, make_org: Any, orders: Any) -> None:
    from rapport.analytics.tests.factories import every

    regular = make_org(name="Mensual", tier="C")
    orders(regular, every(30, count=8, last=END - dt.timedelta(days=150)))
    row = _by(profile_report(users["admin"], _flt(by="tier")))["C"]
    assert (row.scored, row.flagged, row.risk_percent) == (1, 1, 100.0)


def test_empty_data_future_dates_and_bad_filters(users: Any) -> None:
    empty = profile_report(users["admin"], _flt(end=dt.date(2030, 1, 1), by="industry"))
    assert empty.rows == [] and empty.total.orders == 0
    with pytest.raises(ValueError):
        profile_report(users["admin"], _flt(start=END, end=START))
    with pytest.raises(ValueError):
        profile_report(users["admin"], _flt(by="colour"))


def test_the_api_the_cli_and_the_page(users: Any, customers: Any, tmp_path: Path) -> None:
    from rapport.audit.models import AuditEntry
    from rapport.cli import main

    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/profile?start={START}&end={END}&by=tier").json()
    assert body["total"]["cards"] == 2 and body["items"][0]["key"] == "A" and body["by"] == "tier"
    assert body["items"][0]["weekdays"][0] == 4 and body["currency"] == "EUR"
    assert client.get(f"/api/v1/reports/profile?as_of={END}&by=tier").json()["end"] == END.isoformat()
    south = users["rep_bo_other_team"].teams.get().pk
    for bad in ("by=colour", f"start={END}&end={START}", "start=2026-02-30", f"as_of={END}&end={START}",
                f"team={south}"):
        assert client.get(f"/api/v1/reports/profile?{bad}").status_code == 422, bad
    target = tmp_path / "profile.csv"
    assert main(["analytics", "profile", "--by", "tier", "--from", START.isoformat(), "--as-of", END.isoformat(),
                 "--user", "rep_ana", "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["key"] for r in rows] == ["A", ""] and rows[0]["revenue"] == "310.00" and rows[-1]["label"] == "All customers"
    assert AuditEntry.objects.filter(record_type="analytics.profile", action="export").count() == 1
    xlsx = tmp_path / "profile.xlsx"
    assert main(["analytics", "profile", "--output", str(xlsx)]) == 0 and xlsx.stat().st_size > 0
    web = Client()
    web.force_login(users["manager_mei"])
    html = web.get(f"/analytics/profile/?start={START}&end={END}&by=tier").content.decode()
    assert "Tier A" in html and "Monday" in html and "weekday-chart" in html and "Sur" not in html
    assert web.get("/analytics/profile/?by=colour").status_code == 422
    download = web.get(f"/analytics/profile.csv?start={START}&end={END}")
    assert download.status_code == 200 and download["Content-Disposition"].endswith('profile-2026-06-30.csv"')
