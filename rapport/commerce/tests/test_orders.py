"""Entering orders: lines priced from the price list, totals, statuses, and bad input refused whole."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from rapport.commerce import services
from rapport.commerce.models import Order, OrderLine
from rapport.commerce.tests.factories import api, post, priced_catalog
from rapport.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def test_an_order_line_without_a_price_takes_the_list_price_valid_on_the_order_date(users: Any, make_org: Any) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    order = services.create_order(user=users["rep_ana"], card=org, data={
        "currency": "EUR", "ordered_on": "2026-03-10",
        "lines": [{"product": "OIL-5L", "quantity": 10}, {"product": "FLT-01", "quantity": 4, "discount": "50"}],
    })
    lines = list(order.lines.order_by("position"))
    assert [ln.unit_price for ln in lines] == [Decimal("24.5000"), Decimal("6.2000")]
    assert [ln.amount for ln in lines] == [Decimal("245.00"), Decimal("12.40")]
    assert order.total == Decimal("257.40") and order.status == "confirmed" and order.approval == ""


def test_a_line_given_only_its_amount_gets_the_unit_price_that_makes_it(users: Any, make_org: Any) -> None:
    order = services.create_order(user=users["rep_ana"], card=make_org(), data={
        "currency": "EUR", "ordered_on": "2026-03-10", "lines": [{"quantity": 3, "amount": "100"}],
    })
    assert order.total == Decimal("100.00")


def test_yen_amounts_are_rounded_to_whole_yen(users: Any, make_org: Any) -> None:
    order = services.create_order(user=users["rep_ana"], card=make_org(), data={
        "currency": "jpy", "lines": [{"quantity": 3, "unit_price": "333.4"}],
    })
    assert order.currency == "JPY" and order.total == Decimal("1000")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"product": "OIL-5L", "quantity": -2}, "lines[1].quantity"),
        ({"product": "OIL-5L", "quantity": 0}, "lines[1].quantity"),
        ({"product": "OIL-5L", "quantity": "many"}, "lines[1].quantity"),
        ({"product": "NOPE", "quantity": 1}, "lines[1].product"),
        ({"product": "OIL-5L", "quantity": 1, "discount": 140}, "lines[1].discount"),
        ({"product": "OIL-5L", "quantity": 1, "unit_price": "NaN"}, "lines[1].unit_price"),
        ({"product": "OIL-5L", "quantity": "1e40"}, "lines[1].quantity"),
        ({"quantity": 1}, "lines[1].unit_price"),
    ],
)
def test_a_bad_line_refuses_the_whole_order_naming_the_line(users: Any, make_org: Any, line: dict[str, Any], field: str) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    with pytest.raises(ValidationError) as caught:
        services.create_order(user=users["rep_ana"], card=org, data={
            "currency": "EUR", "ordered_on": "2026-03-10", "lines": [{"product": "FLT-01", "quantity": 1}, line],
        })
    assert field in caught.value.errors
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_a_currency_without_a_price_list_needs_explicit_prices(users: Any, make_org: Any) -> None:
    priced_catalog(users["admin"])
    with pytest.raises(ValidationError) as caught:
        services.create_order(user=users["rep_ana"], card=make_org(), data={
            "currency": "USD", "ordered_on": "2026-03-10", "lines": [{"product": "OIL-5L", "quantity": 1}],
        })
    assert "no price in USD" in caught.value.errors["lines[0].unit_price"][0]


def test_a_price_list_that_has_not_started_yet_does_not_price_an_order(users: Any, make_org: Any) -> None:
    priced_catalog(users["admin"])
    with pytest.raises(ValidationError):
        services.create_order(user=users["rep_ana"], card=make_org(), data={
            "currency": "EUR", "ordered_on": "2025-12-31", "lines": [{"product": "OIL-5L", "quantity": 1}],
        })


def test_an_unknown_currency_code_is_refused(users: Any, make_org: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_order(user=users["rep_ana"], card=make_org(), data={"currency": "EUX", "lines": [{"quantity": 1, "unit_price": 1}]})
    assert "ISO 4217" in caught.value.errors["currency"][0]


def test_an_order_moves_from_confirmed_to_delivered_and_never_back(users: Any, make_org: Any) -> None:
    order = services.create_order(user=users["rep_ana"], card=make_org(), data={
        "currency": "EUR", "ordered_on": "2026-03-10", "lines": [{"quantity": 1, "unit_price": 5}],
    })
    order = services.change_order(user=users["rep_ana"], order=order, data={"status": "delivered", "delivered_on": "2026-03-12"})
    assert order.status == "delivered" and str(order.delivered_on) == "2026-03-12"
    with pytest.raises(ValidationError):
        services.change_order(user=users["rep_ana"], order=order, data={"status": "confirmed"})
    with pytest.raises(ValidationError):
        services.change_order(user=users["rep_ana"], order=order, data={"accepted_on": "2026-03-11"})


def test_the_api_creates_an_order_and_answers_it_with_lines_and_etag(users: Any, make_org: Any) -> None:
    priced_catalog(users["admin"])
    org = make_org()
    client = api(users["rep_ana"])
    response = post(client, "/api/v1/orders", {"customer": org.pk, "currency": "EUR", "ordered_on": "2026-03-10",
                                               "external_id": "SO-1", "lines": [{"product": "OIL-5L", "quantity": 2}]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "49.00" and body["lines"][0]["sku"] == "OIL-5L" and response["ETag"] == '"1"'
    again = post(client, "/api/v1/orders", {"customer": org.pk, "currency": "EUR", "external_id": "SO-1",
                                            "lines": [{"quantity": 1, "unit_price": 1}]})
    assert again.status_code == 422 and "external_id" in again.json()["errors"]
    listed = client.get("/api/v1/orders", {"customer": org.pk}).json()
    assert listed["count"] == 1 and listed["items"][0]["external_id"] == "SO-1"


def test_a_stale_if_match_on_an_order_change_is_refused_and_changes_nothing(users: Any, make_org: Any) -> None:
    client = api(users["rep_ana"])
    org = make_org()
    created = post(client, "/api/v1/orders", {"customer": org.pk, "currency": "EUR", "lines": [{"quantity": 1, "unit_price": 1}]}).json()
    url = f"/api/v1/orders/{created['id']}"
    first = client.patch(url, {"status": "delivered"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert first.status_code == 200
    stale = client.patch(url, {"status": "cancelled"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert Order.objects.get(pk=created["id"]).status == "delivered"


def test_an_order_for_a_customer_of_another_team_reads_like_an_unknown_customer(users: Any, make_org: Any) -> None:
    theirs = make_org(owner="rep_bo_other_team", name="Ferretería Sur")
    response = post(api(users["rep_ana"]), "/api/v1/orders", {"customer": theirs.pk, "currency": "EUR",
                                                              "lines": [{"quantity": 1, "unit_price": 1}]})
    unknown = post(api(users["rep_ana"]), "/api/v1/orders", {"customer": 999999, "currency": "EUR",
                                                              "lines": [{"quantity": 1, "unit_price": 1}]})
    assert response.status_code == unknown.status_code == 422
    assert response.json()["errors"] == unknown.json()["errors"] == {"customer": ["No such customer."]}
    assert not Order.objects.exists()


def test_another_teams_rep_gets_404_for_an_order_and_the_analyst_reads_but_cannot_write(users: Any, make_org: Any) -> None:
    org = make_org()
    created = post(api(users["rep_ana"]), "/api/v1/orders", {"customer": org.pk, "currency": "EUR",
                                                              "lines": [{"quantity": 1, "unit_price": 1}]}).json()
    assert api(users["rep_bo_other_team"]).get(f"/api/v1/orders/{created['id']}").status_code == 404
    assert api(users["rep_bo_other_team"]).get("/api/v1/orders").json()["count"] == 0
    analyst = api(users["analyst_al"])
    assert analyst.get(f"/api/v1/orders/{created['id']}").status_code == 200
    refused = post(analyst, "/api/v1/orders", {"customer": org.pk, "currency": "EUR", "lines": [{"quantity": 1, "unit_price": 1}]})
    assert refused.status_code == 403


def test_wrong_types_in_an_order_body_get_422_not_500(users: Any, make_org: Any) -> None:
    org = make_org()
    client = api(users["rep_ana"])
    for body in (
        {"customer": "abc", "currency": "EUR", "lines": []},
        {"customer": org.pk, "currency": "EUR", "lines": "x"},
        {"customer": org.pk, "currency": "EUR", "lines": [{"quantity": {"a": 1}}]},
        {"customer": org.pk, "currency": "EUR", "lines": []},
        {"customer": org.pk, "currency": "EUR", "ordered_on": "yesterday", "lines": [{"quantity": 1, "unit_price": 1}]},
        {"customer": org.pk, "currency": "EUR", "note": "x" * 501, "lines": [{"quantity": 1, "unit_price": 1}]},
    ):
        assert post(client, "/api/v1/orders", body).status_code == 422, body
    assert not Order.objects.exists()


def test_the_products_export_downloads_a_formula_safe_csv_and_an_xlsx(users: Any) -> None:
    from rapport.commerce.models import Product

    priced_catalog(users["admin"])
    Product.objects.filter(sku="FLT-01").update(name="=HYPERLINK(\"x\")")
    client = api(users["rep_ana"])
    csv_answer = client.get("/api/v1/products/export")
    assert csv_answer.status_code == 200 and csv_answer["Content-Type"].startswith("text/csv")
    text = b"".join(getattr(csv_answer, "streaming_content")).decode("utf-8-sig")
    assert "OIL-5L" in text and "'=HYPERLINK" in text
    xlsx = client.get("/api/v1/products/export", {"format": "xlsx"})
    assert xlsx.status_code == 200 and b"".join(getattr(xlsx, "streaming_content")).startswith(b"PK")
    assert client.get("/api/v1/products/export", {"format": "vcard"}).status_code == 422
