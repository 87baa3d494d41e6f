"""Performance: sales by a dimension against the same period a year earlier, through the
selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import selectors
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)


@pytest.fixture
def sales(users: Any, make_org: Any, sell: Any, products: Any) -> dict[str, Any]:
    from rapport.cards.models import Address

    north = make_org(name="Norte", tier="A", industry="Food")
    south = make_org(owner="rep_bo_other_team", name="Sur", tier="B")
    Address.objects.create(card=north, city="Valencia", region="Valencia", country="ES")
    sell(north, dt.date(2026, 2, 1), (products["oil"], 10, "10.00", "0"), (products["rice"], 10, "5.00", "0"))
    sell(north, dt.date(2025, 2, 1), (products["oil"], 5, "10.00", "0"))  # a year earlier
    sell(north, dt.date(2024, 2, 1), (products["oil"], 50, "10.00", "0"))  # in neither period
    sell(south, dt.date(2026, 3, 1), (products["rice"], 4, "5.00", "0"))
    return {"north": north, "south": south}


def _by(report: selectors.PerformanceReport) -> dict[str, selectors.PerformanceRow]:
    return {row.label: row for row in report.rows}


def test_sales_by_category_and_product_add_up_order_lines_against_a_year_earlier(users: Any, sales: Any,
                                                                                 products: Any) -> None:
    from rapport.commerce.models import Product

    Product.objects.filter(pk=products["oil"].pk).update(category="Aceites")
    report = selectors.performance_report(users["admin"], start=START, end=END, dimension="category")
    rows = _by(report)
    assert rows["Aceites"].revenue == Decimal("100.00") and rows["Aceites"].previous_revenue == Decimal("50.00")
    assert rows["Aceites"].change == Decimal("50.00") and rows["Aceites"].change_percent == 100.0
    not_set = rows["Not set"]  # rice has no category
    assert not_set.revenue == Decimal("70.00") and not_set.previous_revenue == 0 and not_set.change_percent is None
    assert report.total.revenue == Decimal("170.00") and report.total.previous_revenue == Decimal("50.00")
    assert report.total.customers == 2 and report.previous_start == dt.date(2025, 1, 1)
    by_product = _by(selectors.performance_report(users["admin"], start=START, end=END, dimension="product"))
    assert by_product["OIL-1"].orders == 1 and by_product["RICE-1"].customers == 2


def test_sales_by_card_dimensions_use_order_totals(users: Any, sales: Any) -> None:
    tiers = _by(selectors.performance_report(users["admin"], start=START, end=END, dimension="tier"))
    assert tiers["Tier A"].revenue == Decimal("150.00") and tiers["Tier B"].revenue == Decimal("20.00")
    regions = _by(selectors.performance_report(users["admin"], start=START, end=END, dimension="region"))
    assert regions["Valencia"].revenue == Decimal("150.00") and regions["Not set"].revenue == Decimal("20.00")
    countries = _by(selectors.performance_report(users["admin"], start=START, end=END, dimension="country"))
    assert "Spain" in countries
    reps = _by(selectors.performance_report(users["admin"], start=START, end=END, dimension="rep"))
    assert set(reps) == {"rep_ana", "rep_bo_other_team"}
    months = selectors.performance_report(users["admin"], start=START, end=END, dimension="month")
    assert [(r.key, r.revenue, r.previous_revenue) for r in months.rows] == [
        ("2026-02", Decimal("150.00"), Decimal("50.00")), ("2026-03", Decimal("20.00"), Decimal("0.00"))]


def test_a_rep_sees_only_their_customers_and_bad_input_is_refused(users: Any, sales: Any) -> None:
    report = selectors.performance_report(users["rep_bo_other_team"], start=START, end=END, dimension="team")
    assert report.total.revenue == Decimal("20.00") and len(report.rows) == 1
    with pytest.raises(ValueError):
        selectors.performance_report(users["admin"], start=END, end=START)
    with pytest.raises(ValueError):
        selectors.performance_report(users["admin"], start=START, end=END, dimension="colour")
    empty = selectors.performance_report(users["admin"], start=dt.date(2000, 1, 1), end=dt.date(2000, 2, 29))
    assert empty.rows == [] and empty.total.revenue == 0 and empty.previous_end == dt.date(1999, 2, 28)


def test_the_api_the_cli_and_the_page(users: Any, sales: Any, tmp_path: Path) -> None:
    from rapport.cli import main

    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/performance?start={START}&end={END}&by=tier").json()
    assert body["total"]["revenue"] == "150.00" and body["items"][0]["label"] == "Tier A" and body["by"] == "tier"
    for bad in ("by=colour", f"start={END}&end={START}", "start=2026-02-30"):
        assert client.get(f"/api/v1/reports/performance?{bad}").status_code == 422, bad
    target = tmp_path / "perf.csv"
    assert main(["analytics", "performance", "--by", "month", "--from", START.isoformat(), "--to", END.isoformat(),
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["key"] for r in rows] == ["2026-02", "2026-03", ""] and rows[-1]["revenue"] == "170.00"
    with pytest.raises(SystemExit) as exit_code:  # argparse refuses an unknown dimension and lists the choices
        main(["analytics", "performance", "--by", "colour", "--output", str(target)])
    assert exit_code.value.code == 2
    web = Client()
    web.force_login(users["manager_mei"])
    html = web.get(f"/analytics/performance/?start={START}&end={END}&by=rep").content.decode()
    assert "perf-chart" in html and "rep_ana" in html and "+200.0 %" in html
    assert web.get("/analytics/performance/?by=colour").status_code == 422
