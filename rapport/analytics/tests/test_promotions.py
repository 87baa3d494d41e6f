"""Promotions: planning them (managers and admins only) and their sales against the baseline before them,
per product and region, through the services, the selector, the API, the CLI and the pages."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import services
from rapport.analytics.promotions import promotion_report, uplift
from rapport.analytics.reports import Filters
from rapport.commerce.tests.factories import api, post
from rapport.core.errors import PermissionDenied, ValidationError

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 5, 1), dt.date(2026, 5, 14)  # 14 days; the baseline is 17–30 April
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def sales(users: Any, make_org: Any, sell: Any, products: Any) -> dict[str, Any]:
    from rapport.cards.models import Address
    from rapport.commerce.models import Product

    Product.objects.filter(pk=products["oil"].pk).update(category="Aceites")
    north = make_org(name="Norte")
    south = make_org(owner="rep_bo_other_team", name="Sur")
    Address.objects.create(card=north, city="Valencia", region="Valencia", country="ES")
    Address.objects.create(card=south, city="Ciudad de México", region="CDMX", country="MX")
    sell(north, dt.date(2026, 4, 20), (products["oil"], 10, "10.00", "0"))  # baseline
    sell(north, dt.date(2026, 5, 3), (products["oil"], 20, "10.00", "10"), (products["rice"], 5, "2.00", "0"))
    sell(north, dt.date(2026, 5, 10), (products["oil"], 10, "10.00", "10"))
    sell(south, dt.date(2026, 5, 4), (products["oil"], 8, "10.00", "0"))
    sell(south, dt.date(2026, 4, 25), (products["oil"], 4, "10.00", "0"), currency="GBP")  # no GBP rate
    sell(north, dt.date(2026, 3, 1), (products["oil"], 99, "10.00", "0"))  # before the baseline
    promotion = services.create_promotion(user=users["manager_mei"], data={
        "name": "Aceite de mayo", "starts_on": START, "ends_on": END, "categories": ["Aceites"]})
    return {"north": north, "south": south, "promotion": promotion}


def _flt(promotion: Any, as_of: dt.date = AS_OF, **kwargs: Any) -> Filters:
    return Filters(start=as_of, end=as_of, promotion=promotion.pk, **kwargs)


def test_the_uplift_compares_daily_rates_so_periods_of_different_lengths_compare_fairly() -> None:
    assert uplift(Decimal(30), 14, Decimal(10), 14) == 200.0
    assert uplift(Decimal(30), 10, Decimal(60), 60) == 200.0  # 3 a day against 1 a day
    assert uplift(Decimal(5), 14, Decimal(0), 14) is None and uplift(Decimal(5), 0, Decimal(5), 14) is None


def test_units_and_revenue_per_product_and_region_against_the_baseline(users: Any, sales: Any) -> None:
    report = promotion_report(users["admin"], _flt(sales["promotion"]))
    assert (report.promo_days, report.baseline_start, report.baseline_end) == (14, dt.date(2026, 4, 17), dt.date(2026, 4, 30))
    (oil,) = report.products  # rice is not in the promotion
    assert (oil.promo_units, oil.baseline_units, oil.units_uplift_percent) == (Decimal(38), Decimal(14), 171.4)
    # Pounds without a rate: their units count, their revenue is left out, and the currency is named.
    assert (oil.promo_revenue, oil.baseline_revenue) == (Decimal("350.00"), Decimal("100.00"))
    assert oil.revenue_uplift_percent == 250.0 and report.missing_rates == ["GBP"]
    assert (oil.promo_orders, oil.promo_customers, oil.baseline_customers) == (3, 2, 2)
    regions = {row.key: row for row in report.regions}
    assert regions["Valencia"].promo_units == 30 and regions["CDMX"].baseline_units == 4
    assert report.total is not None and report.total.promo_units == 38


def test_regions_and_products_named_by_the_promotion_narrow_the_lines(users: Any, sales: Any, products: Any) -> None:
    services.update_promotion(user=users["admin"], promotion=sales["promotion"],
                              data={"countries": ["es"], "categories": [], "products": [products["rice"].pk]})
    report = promotion_report(users["admin"], _flt(sales["promotion"]))
    assert [(r.key, r.promo_units, r.units_uplift_percent) for r in report.products] == [("RICE-1", Decimal(5), None)]
    assert [r.key for r in report.regions] == ["Valencia"]


def test_a_rep_sees_only_the_sales_of_their_customers(users: Any, sales: Any) -> None:
    report = promotion_report(users["rep_bo_other_team"], _flt(sales["promotion"]))
    assert [r.key for r in report.regions] == ["CDMX"] and report.products[0].promo_units == 8
    assert promotion_report(users["manager_mei"], _flt(sales["promotion"])).products[0].promo_units == 30


def test_a_running_promotion_is_compared_over_its_days_so_far_and_a_future_one_is_empty(users: Any, sales: Any) -> None:
    running = promotion_report(users["admin"], _flt(sales["promotion"], as_of=dt.date(2026, 5, 7)))
    assert running.promo_days == 7 and running.promo_end == dt.date(2026, 5, 7) and "still running" in running.note
    assert running.products[0].promo_units == 28  # 20 on the 3rd, 8 on the 4th; the 10th is after the date
    before = promotion_report(users["admin"], _flt(sales["promotion"], as_of=dt.date(2026, 4, 1)))
    assert before.promo_days == 0 and before.products == [] and before.total is None and "not started" in before.note


def test_only_managers_and_admins_plan_promotions_and_bad_input_is_refused(users: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.create_promotion(user=users["rep_ana"], data={"name": "x", "starts_on": START, "ends_on": END})
    bad = [{"name": "", "starts_on": START, "ends_on": END}, {"name": "x", "starts_on": END, "ends_on": START},
           {"name": "x", "starts_on": START, "ends_on": END, "baseline_days": 0},
           {"name": "x", "starts_on": START, "ends_on": END, "countries": ["Spain"]},
           {"name": "x", "starts_on": START, "ends_on": END, "products": [999999]},
           {"name": "x", "starts_on": START, "ends_on": END, "colour": "red"}]
    for data in bad:
        with pytest.raises(ValidationError):
            services.create_promotion(user=users["admin"], data=data)
    promotion = services.create_promotion(user=users["admin"], data={
        "name": "Semana", "starts_on": START, "ends_on": END, "baseline_days": 28, "regions": "Valencia, CDMX"})
    assert promotion.regions == ["CDMX", "Valencia"] and promotion.baseline_start == dt.date(2026, 4, 3)


def test_the_api_crud_and_report_the_cli_and_the_pages(users: Any, sales: Any, tmp_path: Path) -> None:
    from rapport.cli import main

    promotion = sales["promotion"]
    rep = api(users["rep_ana"])
    body = rep.get(f"/api/v1/reports/promotions?promotion={promotion.pk}&as_of={AS_OF}").json()
    assert body["products"][0]["promo_units"] == "30.000" and body["regions"][0]["key"] == "Valencia"
    assert rep.get("/api/v1/reports/promotions").status_code == 422
    assert rep.get("/api/v1/reports/promotions?promotion=999999").status_code == 404
    assert post(rep, "/api/v1/promotions", {"name": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-02"}).status_code == 403
    admin = api(users["admin"])
    created = post(admin, "/api/v1/promotions", {"name": "Enero", "starts_on": "2026-01-01", "ends_on": "2026-01-31",
                                                  "countries": ["MX"]})
    assert created.status_code == 201 and created.json()["baseline_start"] == "2025-12-01"
    pid = created.json()["id"]
    assert post(admin, "/api/v1/promotions", {"name": "x", "starts_on": "2026-02-01", "ends_on": "2026-01-01"}).status_code == 422
    changed = admin.patch(f"/api/v1/promotions/{pid}", {"baseline_days": 10}, content_type="application/json",
                          HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = admin.patch(f"/api/v1/promotions/{pid}", {"name": "y"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412  # the version moved on: If-Match no longer holds
    assert [p["name"] for p in rep.get("/api/v1/promotions").json()] == ["Aceite de mayo", "Enero"]
    assert admin.delete(f"/api/v1/promotions/{pid}").status_code == 204
    assert admin.get(f"/api/v1/promotions/{pid}").status_code == 404

    target = tmp_path / "promo.csv"
    assert main(["analytics", "promotions", "--promotion", str(promotion.pk), "--as-of", AS_OF.isoformat(),
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["level"] for r in rows] == ["product", "region", "region", "total"] and rows[0]["promo_revenue"] == "350.00"

    web = Client()
    web.force_login(users["rep_ana"])
    html = web.get("/analytics/promotions/").content.decode()  # the latest promotion, without choosing
    assert "Aceite de mayo" in html and "perf-chart" in html and "New promotion" not in html
    assert web.get("/analytics/promotions/new/").status_code == 403
    manager = Client()
    manager.force_login(users["manager_mei"])
    assert "New promotion" in manager.get("/analytics/promotions/").content.decode()
    saved = manager.post("/analytics/promotions/new/", {"name": "Junio", "starts_on": "2026-06-01", "ends_on": "2026-06-10",
                                                        "categories": "Aceites", "countries": "ES"})
    assert saved.status_code == 302
    refused = manager.post("/analytics/promotions/new/", {"name": "Mal", "starts_on": "2026-06-10", "ends_on": "2026-06-01"})
    assert refused.status_code == 422 and "ends before it starts" in refused.content.decode()
    assert web.get(f"/analytics/promotions.xlsx?promotion={promotion.pk}").status_code == 200


def test_the_demo_adds_two_promotions_once(users: Any, products: Any) -> None:
    from rapport.analytics.demo import add_promotions
    from rapport.commerce.models import Product

    Product.objects.filter(pk=products["oil"].pk).update(category="Paint")
    made = add_promotions(today=AS_OF)
    assert [p.name for p in made] == ["Spring paint, Spain", "Tools month"]
    assert list(made[0].products.values_list("pk", flat=True)) == [products["oil"].pk] and made[1].baseline_days == 60
    assert add_promotions(today=AS_OF) == []
