"""Price and inventory audits on visits: bad rows refused by name, the inventory analysis with
hand-checked numbers, the suggested order, the price policy flags, the comparison across the
customers one may see, the API and the pages."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from rapport.commerce import services as commerce
from rapport.commerce.models import Order, OrderStatus
from rapport.commerce.tests.factories import api, priced_catalog
from rapport.core.errors import NotFound, ValidationError
from rapport.visits import audits
from rapport.visits.models import PriceObservation, StockObservation

pytestmark = pytest.mark.django_db


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(users: Any) -> Any:
    """OIL-5L (ours, EUR list price 24.50, retail policy 27–33), FLT-01 (ours, 6.20), RIV-5L (a competitor's)."""
    return priced_catalog(users["admin"])


def put(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def deliver(user: Any, card: Any, day: str, product: Any, quantity: int) -> Order:
    return commerce.create_order(user=user, card=card, data={
        "currency": "EUR", "ordered_on": day, "delivered_on": day, "status": "delivered",
        "lines": [{"product": product.pk, "quantity": quantity, "unit_price": "24.50"}],
    })


@pytest.fixture
def two_counts(users: Any, org: Any, catalog: Any, make_visit: Any) -> Any:
    """Counted on 1 March (oil 10, filter 50, rival 30), 40 oil delivered on 10 March, counted
    again four weeks later on 29 March (oil 14, filter 46, rival 10)."""
    ana = users["rep_ana"]
    first = make_visit(date="2027-03-01")
    audits.record_stock_audit(user=ana, visit=first, rows=[
        {"product": "OIL-5L", "quantity": 10}, {"product": "FLT-01", "quantity": 50}, {"product": "RIV-5L", "quantity": 30}])
    deliver(ana, org, "2027-03-10", catalog["oil"], 40)
    second = make_visit(date="2027-03-29")
    audits.record_stock_audit(user=ana, visit=second, rows=[
        {"product": "OIL-5L", "quantity": 14}, {"product": "FLT-01", "quantity": "46"}, {"product": "RIV-5L", "quantity": 10}])
    return second


def line_of(analysis: audits.InventoryAnalysis, sku: str) -> audits.StockLine:
    return next(ln for ln in analysis.lines if ln.product.sku == sku)


# --- refusing bad rows ---------------------------------------------------------------------------------


def test_a_negative_price_is_refused_naming_the_row_and_nothing_is_written(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    with pytest.raises(ValidationError) as exc:
        audits.record_price_audit(user=users["rep_ana"], visit=visit, rows=[
            {"product": "OIL-5L", "retail_price": "29.90", "currency": "EUR"},
            {"product": "RIV-5L", "retail_price": "-3", "currency": "EUR"},
        ])
    assert set(exc.value.errors) == {"rows[1].retail_price"}
    assert "negative" in exc.value.errors["rows[1].retail_price"][0]
    assert not PriceObservation.objects.exists()


def test_a_negative_stock_is_refused_naming_the_row(users: Any, catalog: Any, make_visit: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        audits.record_stock_audit(user=users["rep_ana"], visit=make_visit(), rows=[
            {"product": "OIL-5L", "quantity": 3}, {"product": "FLT-01", "quantity": 1}, {"product": "RIV-5L", "quantity": -2}])
    assert set(exc.value.errors) == {"rows[2].quantity"}
    assert not StockObservation.objects.exists()


def test_a_stock_with_more_than_three_decimals_is_refused(users: Any, catalog: Any, make_visit: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        audits.record_stock_audit(user=users["rep_ana"], visit=make_visit(), rows=[{"product": "OIL-5L", "quantity": "1.2345"}])
    assert exc.value.errors == {"rows[0].quantity": ["At most three decimals."]}


def test_an_unknown_product_is_refused(users: Any, catalog: Any, make_visit: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[
            {"product": "NOPE-1", "retail_price": "5", "currency": "EUR"}])
    assert set(exc.value.errors) == {"rows[0].product"}


def test_an_unknown_currency_is_refused(users: Any, catalog: Any, make_visit: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[
            {"product": "RIV-5L", "retail_price": "5", "currency": "XYZ"}])
    assert set(exc.value.errors) == {"rows[0].currency"}


def test_our_product_in_a_currency_our_price_lists_do_not_use_is_refused(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    with pytest.raises(ValidationError) as exc:
        audits.record_price_audit(user=users["rep_ana"], visit=visit, rows=[
            {"product": "OIL-5L", "retail_price": "31", "currency": "USD"}])
    assert "EUR" in exc.value.errors["rows[0].currency"][0]
    # A competitor's product has no list of ours: any ISO 4217 currency will do.
    audits.record_price_audit(user=users["rep_ana"], visit=visit, rows=[{"product": "RIV-5L", "retail_price": "31", "currency": "USD"}])


def test_a_row_without_any_price_a_duplicate_and_an_unknown_field_are_refused(users: Any, catalog: Any, make_visit: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[
            {"product": "OIL-5L", "currency": "EUR"},
            {"product": "RIV-5L", "retail_price": "5", "currency": "EUR", "colour": "red"},
            {"product": "RIV-5L", "retail_price": "6", "currency": "EUR"},
        ])
    assert set(exc.value.errors) == {"rows[0].retail_price", "rows[1].colour", "rows[2].product"}


def test_more_than_five_hundred_rows_are_refused(users: Any, catalog: Any, make_visit: Any) -> None:
    rows = [{"product": "OIL-5L", "quantity": 1}] * (audits.MAX_ROWS + 1)
    with pytest.raises(ValidationError) as exc:
        audits.record_stock_audit(user=users["rep_ana"], visit=make_visit(), rows=rows)
    assert set(exc.value.errors) == {"rows"}


def test_a_second_audit_replaces_the_products_it_names_and_keeps_the_others(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    ana = users["rep_ana"]
    audits.record_price_audit(user=ana, visit=visit, rows=[
        {"product": "OIL-5L", "purchase_price": "20", "retail_price": "29.90", "currency": "EUR"},
        {"product": "RIV-5L", "retail_price": "26", "currency": "EUR", "on_promotion": True}])
    audits.record_price_audit(user=ana, visit=visit, rows=[{"product": "OIL-5L", "retail_price": "30.50", "currency": "eur"}])
    prices = {o.product.sku: o for o in PriceObservation.objects.filter(visit=visit).select_related("product")}
    assert prices["OIL-5L"].retail_price == Decimal("30.50") and prices["OIL-5L"].purchase_price is None
    assert prices["RIV-5L"].on_promotion and prices["RIV-5L"].observed_on == dt.date(2027, 3, 15)
    assert prices["OIL-5L"].card_owner_id == users["rep_ana"].pk and prices["OIL-5L"].card_team_id == visit.card.team_id


def test_another_teams_visit_is_refused_by_the_service(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    with pytest.raises(NotFound):
        audits.record_price_audit(user=users["rep_bo_other_team"], visit=visit, rows=[
            {"product": "OIL-5L", "retail_price": "29", "currency": "EUR"}])
    with pytest.raises(NotFound):
        audits.record_stock_audit(user=users["rep_bo_other_team"], visit=visit, rows=[{"product": "OIL-5L", "quantity": 1}])
    assert not PriceObservation.objects.exists() and not StockObservation.objects.exists()


def test_an_analyst_may_not_record_an_audit(users: Any, catalog: Any, make_visit: Any) -> None:
    from rapport.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        audits.record_stock_audit(user=users["analyst_al"], visit=make_visit(), rows=[{"product": "OIL-5L", "quantity": 1}])


# --- the inventory analysis ----------------------------------------------------------------------------


def test_sell_through_counts_our_delivery_between_the_two_audits(users: Any, org: Any, two_counts: Any) -> None:
    analysis = audits.inventory_analysis(users["rep_ana"], org)
    assert (analysis.previous_on, analysis.current_on, analysis.weeks) == (dt.date(2027, 3, 1), dt.date(2027, 3, 29), Decimal("4.00"))
    oil = line_of(analysis, "OIL-5L")
    # 10 before + 40 delivered − 14 now = 36 sold in 4 weeks: 9 a week, 14 ÷ 9 = 1.6 weeks of cover.
    assert (oil.previous, oil.delivered, oil.current, oil.sold) == (Decimal("10"), Decimal("40"), Decimal("14"), Decimal("36"))
    assert (oil.sell_through, oil.weekly_sales, oil.weeks_of_cover) == (Decimal("72.0"), Decimal("9.000"), Decimal("1.6"))
    rival = line_of(analysis, "RIV-5L")
    assert (rival.sold, rival.weekly_sales, rival.weeks_of_cover) == (Decimal("20"), Decimal("5.000"), Decimal("2.0"))


def test_weeks_of_cover_flag_stock_out_risk_and_overstock(users: Any, org: Any, two_counts: Any) -> None:
    analysis = audits.inventory_analysis(users["rep_ana"], org)
    assert line_of(analysis, "OIL-5L").flags == [audits.STOCK_OUT_RISK]  # 1.6 < 2 weeks
    assert line_of(analysis, "FLT-01").flags == [audits.OVERSTOCK]  # 46 left, 1 a week: 46 > 12 weeks
    assert line_of(analysis, "RIV-5L").flags == []  # exactly 2 weeks: not below
    assert [ln.product.sku for ln in analysis.fast_movers] == ["OIL-5L"]
    assert [ln.product.sku for ln in analysis.slow_movers] == ["FLT-01"]


def test_the_thresholds_come_from_the_settings(settings: Any, users: Any, org: Any, two_counts: Any) -> None:
    settings.RAPPORT_COVER_LOW_WEEKS = 1
    settings.RAPPORT_COVER_HIGH_WEEKS = 50
    analysis = audits.inventory_analysis(users["rep_ana"], org)
    assert line_of(analysis, "OIL-5L").flags == [] and line_of(analysis, "FLT-01").flags == []


def test_our_share_and_the_change_since_the_previous_audit(users: Any, org: Any, two_counts: Any) -> None:
    analysis = audits.inventory_analysis(users["rep_ana"], org)
    assert analysis.our_share == Decimal("85.7")  # (14 + 46) of 70
    assert analysis.quantity_change == Decimal("-20")  # 70 now, 90 before
    assert (analysis.variety, analysis.variety_change) == (3, 0)


def test_a_product_counted_at_zero_is_out_of_stock(users: Any, org: Any, catalog: Any, make_visit: Any) -> None:
    ana = users["rep_ana"]
    audits.record_stock_audit(user=ana, visit=make_visit(date="2027-03-01"), rows=[{"product": "OIL-5L", "quantity": 8}])
    audits.record_stock_audit(user=ana, visit=make_visit(date="2027-03-15"), rows=[{"product": "OIL-5L", "quantity": 0}])
    analysis = audits.inventory_analysis(ana, org)
    assert line_of(analysis, "OIL-5L").flags == [audits.OUT_OF_STOCK]
    assert analysis.variety_change == -1
    # 8 sold in 2 weeks: 4 a week; four weeks of safety stock is 16.
    assert [(s.product.sku, s.quantity, s.amount) for s in analysis.suggested] == [("OIL-5L", Decimal("16"), Decimal("392.00"))]


def test_the_suggested_order_restores_the_safety_stock_and_becomes_a_draft_order(users: Any, org: Any, two_counts: Any) -> None:
    analysis = audits.inventory_analysis(users["rep_ana"], org)
    # Oil sells 9 a week: 4 weeks is 36, 14 on hand, so 22 at the list price 24.50. The filter
    # has 46 weeks of cover and the rival is not ours: nothing for them.
    assert [(s.product.sku, s.quantity, s.unit_price, s.amount) for s in analysis.suggested] == [
        ("OIL-5L", Decimal("22"), Decimal("24.5000"), Decimal("539.00"))]
    order = audits.create_suggested_order(user=users["rep_ana"], visit=two_counts)
    assert (order.status, order.currency, order.total, order.card_id) == (OrderStatus.DRAFT, "EUR", Decimal("539.00"), org.pk)
    assert [(ln.product_id, ln.quantity) for ln in order.lines.all()] == [(line_of(analysis, "OIL-5L").product.pk, Decimal("22"))]


def test_asking_twice_for_the_suggested_order_gives_the_same_order(users: Any, org: Any, two_counts: Any) -> None:
    from rapport.commerce.models import Order

    first = audits.create_suggested_order(user=users["rep_ana"], visit=two_counts)
    again = audits.create_suggested_order(user=users["rep_ana"], visit=two_counts)
    assert again.pk == first.pk and Order.objects.filter(card=org, status="draft").count() == 1


def test_the_safety_stock_comes_from_the_settings(settings: Any, users: Any, org: Any, two_counts: Any) -> None:
    settings.RAPPORT_SAFETY_STOCK_WEEKS = 6
    analysis = audits.inventory_analysis(users["rep_ana"], org)
    assert [(s.product.sku, s.quantity) for s in analysis.suggested] == [("OIL-5L", Decimal("40"))]  # 54 − 14


# --- prices: policy, comparison, history ---------------------------------------------------------------


def test_policy_flags_below_the_minimum_and_above_the_maximum(users: Any, catalog: Any, make_visit: Any) -> None:
    audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[
        {"product": "OIL-5L", "purchase_price": "20", "retail_price": "25", "currency": "EUR"},
        {"product": "FLT-01", "retail_price": "9", "currency": "EUR"}])
    audits.record_price_audit(user=users["rep_ana"], visit=make_visit(date="2027-03-16"), rows=[
        {"product": "OIL-5L", "retail_price": "35", "currency": "EUR"}])
    flags = {(r.product.sku, r.observed_on.day): r.flags for r in audits.price_history(users["rep_ana"], make_visit().card, catalog["oil"])}
    assert flags == {("OIL-5L", 15): [audits.BELOW_MIN], ("OIL-5L", 16): [audits.ABOVE_MAX]}
    row = next(r for r in audits.visit_price_audit(users["rep_ana"], PriceObservation.objects.filter(retail_price=25).get().visit)
               if r.product.sku == "OIL-5L")
    assert (row.margin, row.margin_percent) == (Decimal("5.0000"), Decimal("20.0"))
    assert audits.policy_flags(Decimal("30"), row.policy) == []


def test_the_comparison_includes_only_the_customers_one_may_see(users: Any, catalog: Any, make_org: Any, make_visit: Any) -> None:
    north = make_visit().card
    south = make_org(owner="rep_bo_other_team", name="Comercial Sur S.L.")
    audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[
        {"product": "OIL-5L", "purchase_price": "20", "retail_price": "25", "currency": "EUR"}])
    audits.record_price_audit(user=users["rep_bo_other_team"], visit=make_visit(user="rep_bo_other_team", card=south), rows=[
        {"product": "OIL-5L", "purchase_price": "22", "retail_price": "31", "currency": "EUR"}])

    def customers(user: str) -> list[str]:
        c = audits.price_comparison(users[user], "OIL-5L", "EUR", "2027-01-01", "2027-12-31")
        return [p.name for p in c.customers]

    assert customers("rep_ana") == [north.display_name]
    assert customers("manager_mei") == [north.display_name]
    assert customers("rep_bo_other_team") == ["Comercial Sur S.L."]
    admin = audits.price_comparison(users["admin"], "OIL-5L", "EUR", "2027-01-01", "2027-12-31")
    assert [p.name for p in admin.customers] == [north.display_name, "Comercial Sur S.L."]  # cheapest first
    assert (admin.observations, admin.customer_count, admin.below_min, admin.above_max) == (2, 2, 1, 0)
    assert (admin.retail.minimum, admin.retail.maximum, admin.retail.median, admin.retail.average) == (
        Decimal("25"), Decimal("31"), Decimal("28.00"), Decimal("28.00"))
    assert admin.customers[0].flags == [audits.BELOW_MIN] and admin.policy is not None and admin.policy.min_retail == Decimal("27")


def test_the_comparison_takes_each_customers_latest_price_and_the_median_of_all(users: Any, catalog: Any, make_visit: Any) -> None:
    ana = users["rep_ana"]
    for day, retail in (("2027-03-01", "28"), ("2027-03-08", "29"), ("2027-03-15", "34")):
        audits.record_price_audit(user=ana, visit=make_visit(date=day), rows=[{"product": "OIL-5L", "retail_price": retail, "currency": "EUR"}])
    c = audits.price_comparison(ana, catalog["oil"], "EUR", "2027-03-01", "2027-03-31")
    assert [(p.retail_price, p.flags) for p in c.customers] == [(Decimal("34"), [audits.ABOVE_MAX])]
    assert (c.retail.median, c.above_max, c.observations, c.customer_count) == (Decimal("29.00"), 1, 3, 1)


def test_a_comparison_with_its_period_upside_down_is_refused(users: Any, catalog: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        audits.price_comparison(users["admin"], "OIL-5L", "EUR", "2027-03-01", "2027-01-01")
    assert set(exc.value.errors) == {"to"}


def test_the_latest_findings_sum_up_the_last_audits(users: Any, org: Any, two_counts: Any, make_visit: Any) -> None:
    audits.record_price_audit(user=users["rep_ana"], visit=two_counts, rows=[{"product": "OIL-5L", "retail_price": "25", "currency": "EUR"}])
    findings = audits.latest_findings(users["rep_ana"], org)
    assert findings.price_on == dt.date(2027, 3, 29) and [p.flags for p in findings.prices] == [[audits.BELOW_MIN]]
    assert [ln.product.sku for ln in findings.inventory.stock_out_risk] == ["OIL-5L"]
    assert findings.inventory.suggested_total == Decimal("539.00")
    assert audits.latest_findings(users["rep_bo_other_team"], org).is_empty

    from django.template.loader import render_to_string

    html = render_to_string("visits/_findings.html", {"findings": findings})
    assert "Below the minimum retail price" in html and "Stock-out risk" in html and "below_min" not in html


# --- the API -------------------------------------------------------------------------------------------


def test_the_api_records_and_reads_a_price_audit(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    client = api(users["rep_ana"])
    response = put(client, f"/api/v1/visits/{visit.pk}/price-audit", {"rows": [
        {"product": "OIL-5L", "purchase_price": "20", "retail_price": "25", "currency": "EUR"}]})
    assert response.status_code == 200, response.json()
    item = response.json()["items"][0]
    assert (item["retail_price"], item["margin"], item["margin_percent"], item["flags"]) == ("25.00", "5.00", "20.0", ["below_min"])
    assert item["policy"]["min_retail"] == "27.00"
    assert client.get(f"/api/v1/visits/{visit.pk}/price-audit").json()["count"] == 1


def test_the_api_refuses_bad_rows_naming_them(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    response = put(api(users["rep_ana"]), f"/api/v1/visits/{visit.pk}/price-audit", {"rows": [
        {"product": "OIL-5L", "retail_price": "25", "currency": "EUR"}, {"product": "GHOST", "retail_price": "-1", "currency": "EUR"}]})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"rows[1].product", "rows[1].retail_price"}
    response = put(api(users["rep_ana"]), f"/api/v1/visits/{visit.pk}/inventory-audit", {"rows": [{"product": "OIL-5L", "quantity": "-1"}]})
    assert response.status_code == 422 and set(response.json()["errors"]) == {"rows[0].quantity"}


def test_another_teams_visit_is_404_by_the_api(users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    client = api(users["rep_bo_other_team"])
    assert client.get(f"/api/v1/visits/{visit.pk}/price-audit").status_code == 404
    assert put(client, f"/api/v1/visits/{visit.pk}/price-audit", {"rows": [
        {"product": "OIL-5L", "retail_price": "25", "currency": "EUR"}]}).status_code == 404
    assert client.get(f"/api/v1/visits/{visit.pk}/inventory-audit").status_code == 404
    assert client.post(f"/api/v1/visits/{visit.pk}/inventory-audit/order").status_code == 404
    assert client.get("/api/v1/visits/999999/price-audit").status_code == 404
    assert not PriceObservation.objects.exists()


def test_the_api_gives_the_inventory_analysis_and_creates_the_suggested_order(users: Any, org: Any, two_counts: Any) -> None:
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/visits/{two_counts.pk}/inventory-audit").json()
    assert body["count"] == 3 and body["analysis"]["our_share_percent"] == "85.7"
    oil = next(ln for ln in body["analysis"]["lines"] if ln["product"]["sku"] == "OIL-5L")
    assert (oil["sold"], oil["weeks_of_cover"], oil["flags"]) == ("36", "1.6", ["stock_out_risk"])
    assert body["analysis"]["suggested_order"]["total"] == "539.00"
    response = client.post(f"/api/v1/visits/{two_counts.pk}/inventory-audit/order")
    assert response.status_code == 201 and response.json()["total"] == "539.00"
    assert Order.objects.get(pk=response.json()["order"]).status == OrderStatus.DRAFT


def test_the_api_comparison_answers_the_figures_and_refuses_an_unknown_product(users: Any, catalog: Any, make_visit: Any) -> None:
    audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[
        {"product": "OIL-5L", "purchase_price": "20", "retail_price": "25", "currency": "EUR"}])
    client = api(users["manager_mei"])
    body = client.get("/api/v1/price-audits/comparison?product=OIL-5L&currency=EUR&from=2027-01-01&to=2027-12-31").json()
    assert (body["customers_count"], body["retail"]["median"], body["below_min"], body["from"]) == (1, "25.00", 1, "2027-01-01")
    assert api(users["rep_bo_other_team"]).get(
        "/api/v1/price-audits/comparison?product=OIL-5L&currency=EUR&from=2027-01-01&to=2027-12-31").json()["customers_count"] == 0
    response = client.get("/api/v1/price-audits/comparison?product=GHOST&currency=EUR")
    assert response.status_code == 422 and "product" in response.json()["errors"]


# --- the pages -----------------------------------------------------------------------------------------


def test_the_price_audit_page_renders_and_saves_what_is_posted(ana: Any, users: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    page = ana.get(f"/visits/{visit.pk}/price-audit/")
    assert page.status_code == 200 and "Engine oil 5 L" in page.content.decode()
    oil, rival = catalog["oil"].pk, catalog["rival"].pk
    response = ana.post(f"/visits/{visit.pk}/price-audit/", {
        "currency": "EUR", "product": [oil, rival], f"purchase-{oil}": "20", f"retail-{oil}": "25", f"retail-{rival}": "",
    })
    assert response.status_code == 302
    assert PriceObservation.objects.get(visit=visit).retail_price == Decimal("25")
    page = ana.get(f"/visits/{visit.pk}/price-audit/?product={oil}").content.decode()
    assert "Below the minimum retail price" in page and "<svg" in page and "below_min" not in page


def test_a_negative_price_posted_is_shown_next_to_its_row(ana: Any, catalog: Any, make_visit: Any) -> None:
    visit = make_visit()
    oil = catalog["oil"].pk
    response = ana.post(f"/visits/{visit.pk}/price-audit/", {"currency": "EUR", "product": [oil], f"retail-{oil}": "-5"})
    assert response.status_code == 422
    html = response.content.decode()
    row = html[html.index(f'name="product" value="{oil}"'):]
    assert "must not be negative" in row[: row.index("</li>")]
    assert not PriceObservation.objects.exists()


def test_the_inventory_page_renders_posts_and_creates_the_order(ana: Any, users: Any, org: Any, two_counts: Any, catalog: Any) -> None:
    page = ana.get(f"/visits/{two_counts.pk}/inventory-audit/")
    html = page.content.decode()
    assert page.status_code == 200 and "Create this order" in html and "Stock-out risk" in html and "<svg" in html
    oil = catalog["oil"].pk
    assert ana.post(f"/visits/{two_counts.pk}/inventory-audit/", {"product": [oil], f"quantity-{oil}": "12"}).status_code == 302
    assert StockObservation.objects.get(visit=two_counts, product=catalog["oil"]).quantity == Decimal("12")
    bad = ana.post(f"/visits/{two_counts.pk}/inventory-audit/", {"product": [oil], f"quantity-{oil}": "-1"})
    assert bad.status_code == 422 and "must not be negative" in bad.content.decode()
    response = ana.post(f"/visits/{two_counts.pk}/inventory-audit/order/")
    assert response.status_code == 302
    assert Order.objects.filter(card=org, status=OrderStatus.DRAFT).count() == 1


def test_the_comparison_page_renders_the_chart_and_table(users: Any, catalog: Any, make_visit: Any) -> None:
    from django.test import Client

    audits.record_price_audit(user=users["rep_ana"], visit=make_visit(), rows=[{"product": "OIL-5L", "retail_price": "35", "currency": "EUR"}])
    client = Client()
    client.force_login(users["manager_mei"])
    assert client.get("/audits/prices/").status_code == 200
    page = client.get(f"/audits/prices/?product={catalog['oil'].pk}&currency=EUR&from=2027-01-01&to=2027-12-31")
    html = page.content.decode()
    assert page.status_code == 200 and "Distribuidora Norte S.A." in html and "Above the maximum retail price" in html
    assert "<svg" in html and "audit-band" in html
    assert client.get(f"/audits/prices/?product={catalog['oil'].pk}&currency=ZZZ").status_code == 422


def test_another_teams_visit_pages_are_404(users: Any, catalog: Any, make_visit: Any) -> None:
    from django.test import Client

    visit = make_visit()
    client = Client()
    client.force_login(users["rep_bo_other_team"])
    assert client.get(f"/visits/{visit.pk}/price-audit/").status_code == 404
    assert client.get(f"/visits/{visit.pk}/inventory-audit/").status_code == 404
