"""Helpers for commerce tests: an API client per user, a priced catalog, orders and invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client

from rapport.accounts.services import create_token
from rapport.commerce import services
from rapport.commerce.models import Invoice, Order, Product


def api(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def post(client: Client, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, body, content_type="application/json", **headers)


def priced_catalog(admin: Any) -> dict[str, Product]:
    """Two of our products and a competitor's, priced in EUR from 2026-01-01."""
    oil = services.create_product(user=admin, data={"sku": "OIL-5L", "name": "Engine oil 5 L", "names": {"es": "Aceite de motor 5 L"},
                                                    "category": "Lubricants", "brand": "Rapport"})
    filt = services.create_product(user=admin, data={"sku": "FLT-01", "name": "Oil filter", "category": "Filters"})
    rival = services.create_product(user=admin, data={"sku": "RIV-5L", "name": "Rival oil 5 L", "is_ours": False})
    eur = services.create_price_list(user=admin, data={"name": "Distributors 2026", "currency": "EUR", "valid_from": "2026-01-01"})
    services.set_price(user=admin, price_list=eur, product=oil, data={"list_price": "24.50", "purchase_price": "20",
                                                                     "min_retail": "27", "max_retail": "33", "recommended_retail": "29.90"})
    services.set_price(user=admin, price_list=eur, product=filt, data={"list_price": "6.20"})
    return {"oil": oil, "filter": filt, "rival": rival}


def order(user: Any, card: Any, total: str = "100.00", *, on: str = "2026-02-01", currency: str = "EUR", **extra: Any) -> Order:
    return services.create_order(user=user, card=card, data={
        "currency": currency, "ordered_on": on, "lines": [{"description": "Goods", "quantity": 1, "unit_price": total}], **extra,
    })


def invoice(user: Any, card: Any, amount: str = "100.00", *, issued: str = "2026-02-01", due: str = "2026-03-01",
            currency: str = "EUR", **extra: Any) -> Invoice:
    return services.create_invoice(user=user, card=card, data={
        "currency": currency, "amount": amount, "issued_on": issued, "due_on": due, **extra,
    })


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def money(text: str) -> Decimal:
    return Decimal(text)
