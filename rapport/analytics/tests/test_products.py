"""Products: ABC classes, products bought together, and the cross-sell list on the card."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import products, selectors
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START, END = dt.date(2025, 7, 1), dt.date(2026, 6, 30)
DAY = dt.date(2026, 3, 1)


def test_abc_cuts_revenue_at_80_and_95_percent() -> None:
    rows = products.abc({1: Decimal(70), 2: Decimal(15), 3: Decimal(10), 4: Decimal(5), 5: Decimal(0)})
    assert [(r.product_id, r.abc) for r in rows] == [(1, "A"), (2, "A"), (3, "B"), (4, "C"), (5, "C")]
    assert rows[1].cumulative == Decimal("0.85") and products.abc({}) == []


def test_pairs_count_orders_with_both_and_their_lift() -> None:
    lines = [(1, 10), (1, 11), (2, 10), (2, 11), (3, 10), (4, 12), (5, 10), (5, 12), (6, 11), (6, 11)]
    pairs = products.bought_together(lines, min_orders=1)
    first = pairs[0]
    assert (first.first, first.second, first.orders) == (11, 10, 2)  # 11 is the rarer: 3 orders against 4
    assert first.confidence == pytest.approx(2 / 3) and first.lift == pytest.approx((2 / 3) / (4 / 6))
    assert all(p.orders >= 2 for p in products.bought_together(lines))


def test_cross_sell_ranks_what_the_neighbours_buy() -> None:
    bought = {1: {10, 11}, 2: {10, 11, 12}, 3: {10, 12}, 4: {11, 13}, 5: {99}}
    suggestions = products.cross_sell(1, bought)
    assert [s.product_id for s in suggestions] == [12, 13]
    assert suggestions[0].buyers == 2 and suggestions[0].neighbours == 3
    assert products.cross_sell(6, bought) == [] and products.cross_sell(5, bought) == []


@pytest.fixture
def catalogue(users: Any, make_org: Any, sell: Any) -> dict[str, Any]:
    from rapport.commerce.models import Product

    oil = Product.objects.create(sku="OIL", name="Aceite", names={"es": "Aceite de oliva"}, category="Aceites")
    rice = Product.objects.create(sku="RICE", name="Rice", names={"es": "Arroz"})
    salt = Product.objects.create(sku="SALT", name="Salt", names={"es": "Sal"})
    a, b, c = (make_org(name=f"Tienda {n}") for n in "ABC")
    hidden = make_org(owner="rep_bo_other_team", name="Oculta")
    sell(a, DAY, (oil, 10, "10.00", "0"), (rice, 10, "2.00", "0"))
    sell(b, DAY, (oil, 5, "10.00", "0"), (rice, 5, "2.00", "0"), (salt, 1, "1.00", "0"))
    sell(c, DAY, (oil, 1, "10.00", "0"), (salt, 2, "1.00", "0"))
    sell(hidden, DAY, (rice, 100, "2.00", "0"))
    return {"oil": oil, "rice": rice, "salt": salt, "a": a, "b": b, "c": c}


def test_the_report_gives_abc_and_pairs_of_what_the_user_sees(users: Any, catalogue: Any) -> None:
    report = selectors.products_report(users["rep_ana"], start=START, end=END)
    assert [(r.sku, r.abc, r.revenue, r.customers) for r in report.rows] == [
        ("OIL", "A", Decimal("160.00"), 3), ("RICE", "B", Decimal("30.00"), 2), ("SALT", "C", Decimal("3.00"), 2)]
    assert report.pairs[0].orders == 2 and {report.pairs[0].first_sku, report.pairs[0].second_sku} in (
        {"OIL", "RICE"}, {"OIL", "SALT"})
    assert report.classes()[0] == ("A", 1, Decimal("160.00"))
    with pytest.raises(ValueError):
        selectors.products_report(users["rep_ana"], start=END, end=START)


def test_the_cross_sell_list_on_the_card(users: Any, catalogue: Any) -> None:
    suggestions = selectors.cross_sell(users["rep_ana"], catalogue["a"], as_of=END)
    assert [(s.sku, s.buyers, s.neighbours) for s in suggestions] == [("SALT", 2, 2)]
    client = Client()
    client.force_login(users["rep_ana"])
    client.cookies["django_language"] = "es"
    html = client.get(f"/cards/{catalogue['a'].pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "cross-sell-panel" in html
    listed = html.split("cross-sell-panel", 1)[1].split("</section>", 1)[0]
    assert listed.count("<li>") == 1 and "<li>Sal " in listed  # the product's Spanish name
    body = api(users["rep_ana"]).get(f"/api/v1/cards/{catalogue['a'].pk}/cross-sell").json()
    assert body and body[0]["sku"] in ("SALT",)
    assert api(users["rep_bo_other_team"]).get(f"/api/v1/cards/{catalogue['a'].pk}/cross-sell").status_code == 404


def test_the_api_the_cli_and_the_page(users: Any, catalogue: Any, tmp_path: Path) -> None:
    from rapport.cli import main

    body = api(users["rep_ana"]).get(f"/api/v1/reports/products?start={START}&end={END}").json()
    assert [item["sku"] for item in body["items"]] == ["OIL", "RICE", "SALT"] and body["pairs"]
    assert api(users["rep_ana"]).get(f"/api/v1/reports/products?start={END}&end={START}").status_code == 422
    target = tmp_path / "products.csv"
    assert main(["analytics", "products", "--from", START.isoformat(), "--to", END.isoformat(), "--user", "rep_ana",
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["abc"] for r in rows] == ["A", "B", "C"]
    web = Client()
    web.force_login(users["rep_ana"])
    html = web.get(f"/analytics/products/?start={START}&end={END}").content.decode()
    assert "abc-chart" in html and "pairs-table" in html
