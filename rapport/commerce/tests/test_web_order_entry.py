"""Entering an order on the web: lines priced from the price list, and bad input refused whole."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rapport.commerce.models import Order
from rapport.commerce.tests.factories import priced_catalog

pytestmark = pytest.mark.django_db


def _lines(*rows: tuple[str, str, str, str]) -> dict[str, list[str]]:
    return {
        "line_product": [r[0] for r in rows], "line_quantity": [r[1] for r in rows],
        "line_unit_price": [r[2] for r in rows], "line_discount": [r[3] for r in rows],
    }


def _order(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"currency": "EUR", "ordered_on": "2026-03-02", "status": "confirmed", "external_id": "", "note": ""}
    data.update(_lines(("OIL-5L", "10", "", ""), ("FLT-01", "4", "5.90", "10"), ("", "1", "", "")))
    data.update(overrides)
    return data


def test_a_rep_enters_an_order_with_two_lines_priced_from_the_list(users: Any, make_org: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    response = ana.post(f"/cards/{org.pk}/orders/new/", _order())
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert [(ln.product.sku if ln.product else "", ln.unit_price, ln.amount) for ln in order.lines.all()] == [
        ("OIL-5L", Decimal("24.5000"), Decimal("245.0000")), ("FLT-01", Decimal("5.9000"), Decimal("21.2400")),
    ]
    assert order.total == Decimal("266.2400")


def test_the_form_offers_four_empty_lines_and_the_product_list(users: Any, make_org: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    page = ana.get(f"/cards/{org.pk}/orders/new/").content.decode()
    assert page.count('name="line_product"') == 4
    assert '<option value="OIL-5L">Engine oil 5 L</option>' in page
    assert "RIV-5L" not in page  # a competitor's product is not sold


def test_choosing_a_product_fills_its_list_price(users: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    response = ana.get("/orders/line/", {"line_product": "OIL-5L", "currency": "EUR", "ordered_on": "2026-03-02"},
                       HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'value="24.5"' in page and "Engine oil 5 L" in page and "Distributors 2026" in page


def test_a_product_without_a_price_in_the_currency_asks_for_a_unit_price(users: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    page = ana.get("/orders/line/", {"line_product": "OIL-5L", "currency": "USD", "ordered_on": "2026-03-02"}).content.decode()
    assert "No list price in USD" in page


def test_an_unknown_product_is_a_line_error_and_nothing_is_saved(users: Any, make_org: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    response = ana.post(f"/cards/{org.pk}/orders/new/", _order(**_lines(("OIL-5L", "1", "", ""), ("NOPE-1", "1", "", ""))))
    assert response.status_code == 422
    assert "No product matches “NOPE-1”" in response.content.decode()
    assert not Order.objects.exists()


def test_a_malformed_quantity_or_price_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    for row in (("OIL-5L", "ten", "", ""), ("OIL-5L", "1", "12,50", ""), ("OIL-5L", "1", "", "150")):
        response = ana.post(f"/cards/{org.pk}/orders/new/", _order(**_lines(row)))
        assert response.status_code == 422, row
        assert "has-errors" in response.content.decode()
    assert not Order.objects.exists()


def test_a_date_that_is_not_a_date_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    response = ana.post(f"/cards/{org.pk}/orders/new/", _order(ordered_on="2026-02-30"))
    assert response.status_code == 422 and "Enter a valid date" in response.content.decode()
    assert not Order.objects.exists()


def test_an_order_without_lines_is_refused(make_org: Any, ana: Client) -> None:
    org = make_org()
    response = ana.post(f"/cards/{org.pk}/orders/new/", _order(**_lines(("", "1", "", ""))))
    assert response.status_code == 422 and "An order needs at least one line." in response.content.decode()


def test_another_teams_customer_is_not_found(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org(owner="rep_bo_other_team")
    assert ana.get(f"/cards/{org.pk}/orders/new/").status_code == 404
    assert ana.post(f"/cards/{org.pk}/orders/new/", _order()).status_code == 404
    assert not Order.objects.exists()


def test_an_analyst_may_not_enter_orders(users: Any, make_org: Any) -> None:
    org = make_org()
    analyst = Client()
    analyst.force_login(users["analyst_al"])
    assert analyst.get(f"/cards/{org.pk}/orders/new/").status_code == 403
    assert analyst.post(f"/cards/{org.pk}/orders/new/", _order()).status_code == 403
    assert not Order.objects.exists()


def test_a_product_typed_by_its_name_is_found_when_only_one_matches(users: Any, make_org: Any, ana: Client) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    page = ana.get("/orders/line/", {"line_product": "filter", "currency": "EUR", "ordered_on": "2026-03-02"}).content.decode()
    assert 'value="FLT-01"' in page and 'value="6.2"' in page
    response = ana.post(f"/cards/{org.pk}/orders/new/", _order(**_lines(("engine oil", "2", "", ""))))
    assert response.status_code == 302
    assert Order.objects.get().lines.get().product.sku == "OIL-5L"  # type: ignore[union-attr]
    response = ana.post(f"/cards/{org.pk}/orders/new/", _order(**_lines(("oil", "2", "", ""))))
    assert response.status_code == 422  # "oil" names two products: the rep must choose
