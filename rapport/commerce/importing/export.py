"""Export of products (CSV and XLSX), spreadsheet-safe like the card exports."""

from __future__ import annotations

from typing import Any


from rapport.accounts.models import User
from rapport.commerce.models import Product


PRODUCT_COLUMNS = ["sku", "name", "name_es", "name_zh_hans", "name_ro", "category", "brand", "unit", "is_ours", "active"]


def export_products(user: User, writer: Any) -> int:
    """The product catalog, in columns a products import maps back by itself. Products are not
    customer data: everyone who may sign in may export them."""
    writer.header(PRODUCT_COLUMNS)
    count = 0
    for product in Product.objects.order_by("sku").iterator(chunk_size=2000):
        names = product.names or {}
        writer.row([product.sku, product.name, names.get("es", ""), names.get("zh-hans", ""), names.get("ro", ""),
                    product.category, product.brand, product.unit, "yes" if product.is_ours else "no",
                    "yes" if product.active else "no"])
        count += 1
    return count
