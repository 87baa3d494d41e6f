"""Profitability per customer: revenue, discounts, cost of goods, margin, cost to serve and net
profit, through the selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from rapport.analytics import profitability, selectors
from rapport.analytics.tests.factories import AS_OF
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START = dt.date(2025, 7, 1)


def _log(user: Any, kind: str, *cards: Any, day: dt.date = dt.date(2026, 3, 1)) -> None:
    from rapport.activities.services import log_activity

    log_activity(user=user, data={"kind": kind, "summary": f"{kind} test", "cards": [c.pk for c in cards],
                                  "occurred_at": f"{day.isoformat()}T10:00:00+00:00"})


def _row(report: selectors.ProfitReport, card: Any) -> selectors.ProfitRow:
    return next(row for row in report.rows if row.card_id == card.pk)


def test_combine_adds_revenue_cost_of_goods_and_shares_an_activity_between_its_customers() -> None:
    def rate(currency: str, day: dt.date) -> Decimal | None:
        return {"EUR": Decimal(1), "USD": Decimal("0.5")}.get(currency)

    profits = profitability.combine(
        [(1, "EUR", AS_OF, 2, Decimal("100")), (1, "USD", AS_OF, 1, Decimal("40")), (2, "GBP", AS_OF, 1, Decimal("9"))],
        [(1, "EUR", AS_OF, Decimal("10"), Decimal("30"), 0), (1, "USD", AS_OF, Decimal("4"), Decimal("5"), 1)],
        [(1, "visit", 1), (1, "call", 2), (2, "call", 2)],
        rate=rate, costs={"visit": Decimal("60"), "call": Decimal("5")},
    )
    one, two = profits[1], profits[2]
    assert (one.orders, one.revenue, one.discounts, one.cost_of_goods) == (3, Decimal("120"), Decimal("12"), Decimal("35"))
    assert one.margin == Decimal("85") and one.cost_to_serve == Decimal("62.5") and one.net_profit == Decimal("22.5")
    assert one.uncosted_lines == 1 and one.margin_share == pytest.approx(85 / 120)
    assert two.missing_rates == {"GBP"} and two.revenue == 0 and two.net_profit == Decimal("-2.5")
    assert two.margin_share is None


def test_the_report_computes_each_customer_and_names_the_least_profitable_of_each_tier(
        users: Any, make_org: Any, sell: Any, products: Any) -> None:
    rep = users["rep_ana"]
    good = make_org(name="Buen Cliente", tier="A")
    costly = make_org(name="Cliente Caro", tier="A")
    quiet = make_org(name="Solo Visitas")  # no tier, no order: only the cost of being visited
    sell(good, dt.date(2026, 2, 1), (products["oil"], 10, "10.00", "10"), (products["rice"], 20, "2.00", "0"))
    sell(costly, dt.date(2026, 2, 1), (products["oil"], 1, "10.00", "0"))
    sell(good, dt.date(2024, 1, 1), (products["oil"], 99, "10.00", "0"))  # before the period
    for _ in range(3):
        _log(rep, "visit", costly)
    _log(rep, "visit", quiet)
    _log(rep, "call", good, costly)  # shared: 2.50 each
    report = selectors.profitability_report(rep, start=START, end=AS_OF)
    g = _row(report, good)
    assert (g.orders, g.revenue, g.discounts, g.cost_of_goods, g.margin) == (
        1, Decimal("130.00"), Decimal("10.00"), Decimal("90.00"), Decimal("40.00"))
    assert g.cost_to_serve == Decimal("2.50") and g.net_profit == Decimal("37.50") and g.margin_percent == 30.8
    c = _row(report, costly)
    assert c.net_profit == Decimal("10.00") - Decimal("6.00") - Decimal("180.00") - Decimal("2.50") and c.activities == 4
    q = _row(report, quiet)
    assert (q.orders, q.revenue, q.net_profit, q.tier) == (0, 0, Decimal("-60.00"), "")
    assert [r.card_id for r in report.rows] == [good.pk, quiet.pk, costly.pk]  # most profitable first
    tiers = {t.tier: t for t in report.tiers}
    assert [r.card_id for r in tiers["A"].least] == [costly.pk, good.pk] and tiers["A"].losing == 1
    assert tiers[""].label and tiers["A"].net_profit == g.net_profit + c.net_profit


def test_unit_costs_come_from_the_settings(users: Any, make_org: Any) -> None:
    card = make_org()
    _log(users["rep_ana"], "visit", card)
    with override_settings(RAPPORT_COST_TO_SERVE={"visit": "100"}):
        report = selectors.profitability_report(users["rep_ana"], start=START, end=AS_OF)
    assert _row(report, card).cost_to_serve == Decimal("100.00") and report.costs["call"] == Decimal("5")


def test_foreign_currencies_convert_and_missing_rates_or_costs_are_named(users: Any, make_org: Any, sell: Any,
                                                                        products: Any) -> None:
    from rapport.commerce.models import ExchangeRate

    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.5"))
    card = make_org()
    sell(card, dt.date(2026, 2, 1), (products["oil"], 2, "10.00", "0"), currency="USD")
    sell(card, dt.date(2026, 2, 2), (products["new"], 1, "50.00", "0"), currency="GBP")
    row = _row(selectors.profitability_report(users["rep_ana"], start=START, end=AS_OF), card)
    assert row.revenue == Decimal("10.00") and row.cost_of_goods == Decimal("12.00") and row.orders == 2
    assert "GBP" in row.note and "1 order line of a product without a unit cost" in row.note


def test_visibility_archived_cards_and_orders_that_do_not_count(users: Any, make_org: Any, sell: Any,
                                                                products: Any) -> None:
    from rapport.commerce.models import OrderStatus

    mine = make_org(owner="rep_ana", name="Mío")
    theirs = make_org(owner="rep_bo_other_team", name="Suyo")
    gone = make_org(owner="rep_ana", name="Archivado")
    sell(mine, dt.date(2026, 2, 1), (products["oil"], 1, "10.00", "0"))
    sell(mine, dt.date(2026, 2, 1), (products["oil"], 5, "10.00", "0"), status=OrderStatus.CANCELLED)
    sell(theirs, dt.date(2026, 2, 1), (products["oil"], 1, "10.00", "0"))
    sell(gone, dt.date(2026, 2, 1), (products["oil"], 1, "10.00", "0"))
    gone.archived_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    gone.save(update_fields=["archived_at"])
    report = selectors.profitability_report(users["rep_ana"], start=START, end=AS_OF)
    assert [r.card_id for r in report.rows] == [mine.pk] and report.rows[0].revenue == Decimal("10.00")
    admin = selectors.profitability_report(users["admin"], start=START, end=AS_OF, rep=users["rep_bo_other_team"].pk)
    assert [r.card_id for r in admin.rows] == [theirs.pk]


def test_an_empty_period_gives_an_empty_report_and_a_reversed_one_is_refused(users: Any) -> None:
    report = selectors.profitability_report(users["rep_ana"], start=START, end=AS_OF)
    assert report.rows == [] and report.tiers == []
    with pytest.raises(ValueError):
        selectors.profitability_report(users["rep_ana"], start=AS_OF, end=START)


def test_the_api_answers_the_rows_and_tiers_and_refuses_bad_input(users: Any, make_org: Any, sell: Any,
                                                                  products: Any) -> None:
    card = make_org(tier="B")
    sell(card, dt.date(2026, 2, 1), (products["oil"], 1, "10.00", "0"))
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/profitability?start={START}&end={AS_OF}").json()
    assert body["count"] == 1 and body["items"][0]["margin"] == "4.00" and body["currency"] == "EUR"
    assert body["tiers"][0]["tier"] == "B" and body["tiers"][0]["least_profitable"] == [card.pk]
    assert client.get(f"/api/v1/reports/profitability?start={START}&end={AS_OF}&tier=A").json()["count"] == 0
    for bad in ("start=2026-13-01", f"start={AS_OF}&end={START}", "tier=Z", "team=abc", "end=0001-01-01"):
        assert client.get(f"/api/v1/reports/profitability?{bad}").status_code == 422, bad


def test_the_cli_writes_csv_and_xlsx(users: Any, make_org: Any, sell: Any, products: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from rapport.cli import main

    card = make_org(name="=cmd|' /C calc'!A0")
    sell(card, dt.date(2026, 2, 1), (products["oil"], 1, "10.00", "0"))
    target = tmp_path / "profit.csv"
    assert main(["analytics", "profitability", "--from", START.isoformat(), "--to", AS_OF.isoformat(),
                 "--user", "rep_ana", "--output", str(target)]) == 0
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert next(csv.reader(lines[:1])) == list(selectors.PROFIT_COLUMNS)
    rows = list(csv.DictReader(lines))
    assert rows[0]["name"].startswith("'=") and rows[0]["net_profit"] == "4.00"
    book = tmp_path / "profit.xlsx"
    assert main(["analytics", "profitability", "--to", AS_OF.isoformat(), "--output", str(book)]) == 0
    sheet = load_workbook(book).active
    assert sheet is not None and len(list(sheet.values)) == 2
    assert main(["analytics", "profitability", "--from", AS_OF.isoformat(), "--to", START.isoformat(),
                 "--output", str(target)]) == 2


def test_the_page_shows_the_tier_chart_the_least_profitable_and_the_downloads(users: Any, make_org: Any, sell: Any,
                                                                               products: Any) -> None:
    card = make_org(name="Visitado Sin Pedido", tier="C")
    _log(users["rep_ana"], "visit", card)
    client = Client()
    client.force_login(users["rep_ana"])
    html = client.get(f"/analytics/profitability/?start={START}&end={AS_OF}").content.decode()
    assert "Visitado Sin Pedido" in html and "profit-chart" in html and "analytics/profitability.csv" in html
    assert "row-loss" in html
    assert client.get(f"/analytics/profitability/?start={AS_OF}&end={START}").status_code == 422
    response = client.get(f"/analytics/profitability.csv?start={START}&end={AS_OF}")
    assert response.status_code == 200 and b"Visitado Sin Pedido" in response.content


def test_the_product_unit_cost_is_kept_and_validated(users: Any) -> None:
    client = api(users["manager_mei"])
    created = client.post("/api/v1/products", {"sku": "C-1", "name": "Coste", "unit_cost": "2.75"},
                          content_type="application/json")
    assert created.status_code in (200, 201) and Decimal(created.json()["unit_cost"]) == Decimal("2.75")
    bad = client.post("/api/v1/products", {"sku": "C-2", "name": "Negativo", "unit_cost": "-1"},
                      content_type="application/json")
    assert bad.status_code in (400, 422)
