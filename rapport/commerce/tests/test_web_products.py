"""The product catalogue: lists for everyone, changes for managers and administrators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rapport.commerce.models import Price, PriceList, Product
from rapport.commerce.tests.factories import priced_catalog

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_filters_ours_and_competitors(users: Any, ana: Client, django_assert_max_num_queries: Any) -> None:
    priced_catalog(users["admin"])
    with django_assert_max_num_queries(4):
        page = ana.get("/products/").content.decode()
    assert "OIL-5L" in page and "RIV-5L" in page
    page = ana.get("/products/", {"whose": "competitors"}).content.decode()
    assert "RIV-5L" in page and "OIL-5L" not in page


def test_the_product_page_shows_its_prices_formatted(users: Any, ana: Client) -> None:
    products = priced_catalog(users["admin"])
    page = ana.get(f"/products/{products['oil'].pk}/").content.decode()
    assert "€24.50" in page and "€29.90" in page and "Distributors 2026" in page
    assert "Set a price" not in page


def test_a_manager_creates_a_product_and_prices_it(users: Any) -> None:
    mei = _client(users["manager_mei"])
    response = mei.post("/products/new/", {"sku": "GRS-1", "name": "Grease", "name_es": "Grasa", "unit": "kg", "is_ours": "on", "active": "on"})
    product = Product.objects.get(sku="GRS-1")
    assert response.status_code == 302 and product.names == {"es": "Grasa"}
    assert mei.post(f"/products/{product.pk}/price-lists/", {"name": "Retail", "currency": "EUR", "valid_from": "2026-01-01"}).status_code == 302
    price_list = PriceList.objects.get()
    response = mei.post(f"/products/{product.pk}/prices/", {"price_list": price_list.pk, "list_price": "9.80"})
    assert response.status_code == 302 and Price.objects.get().list_price == Decimal("9.80")


def test_a_retail_range_upside_down_is_refused(users: Any) -> None:
    products = priced_catalog(users["admin"])
    price_list = PriceList.objects.get()
    response = _client(users["admin"]).post(f"/products/{products['filter'].pk}/prices/", {
        "price_list": price_list.pk, "list_price": "6", "min_retail": "9", "max_retail": "7"})
    assert response.status_code == 422 and "below the minimum" in response.content.decode()


def test_a_duplicate_sku_is_refused(users: Any) -> None:
    priced_catalog(users["admin"])
    response = _client(users["admin"]).post("/products/new/", {"sku": "OIL-5L", "name": "Again"})
    assert response.status_code == 422 and "exists already" in response.content.decode()


def test_a_rep_may_not_change_the_catalogue(users: Any, ana: Client) -> None:
    products = priced_catalog(users["admin"])
    assert ana.get("/products/new/").status_code == 403
    assert ana.post("/products/new/", {"sku": "X", "name": "X"}).status_code == 403
    assert ana.post(f"/products/{products['oil'].pk}/edit/", {"sku": "OIL-5L", "name": "Renamed"}).status_code == 403
    assert Product.objects.get(sku="OIL-5L").name == "Engine oil 5 L"


def test_an_unknown_product_is_not_found(ana: Client) -> None:
    assert ana.get("/products/999999/").status_code == 404
