"""Imports of products, orders, invoices and payments through the import pipeline.

The imports app reads the file, keeps the job, its batches, error file and dry runs; the
runners here turn a batch of rows into records, checked by the same services as the web
and the API (``services.check_order``, ``create_invoice``, ``record_payment``,
``create_product``, ``money.parse_amount``…). Customers are found among the cards the
importing user can see, by external id, tax id or card id; any other answers "no such
customer", exactly like a card that does not exist.

Orders are the bulk path (an ERP export has millions of lines): a flat file holds one row per
line, rows with the same order number are the lines of one order. Rows are grouped and
checked without the database (in the import's worker process for a large file), then each
batch's orders, lines and records are inserted with one ``executemany`` per table. Invoices,
payments and products go through their services one row at a time.

Upserts: a row whose key (order or invoice number, payment reference, SKU) exists updates that
record; the lines of an order in a file are the whole order, so an order imported again gets
the file's lines (unchanged when they are the same). Lines of one order that come back later
in the same file, after other orders, are added to it. What a row did is an
``ImportedRecord``, which revert undoes unless the record changed since.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from rapport.commerce.importing.columns import CUSTOMER_TARGETS, _may_import_products, _may_write_records, _suggest, _targets
from rapport.commerce.importing.export import export_products
from rapport.commerce.importing.orders import OrderRunner
from rapport.commerce.importing.records import InvoiceRunner, PaymentRunner, ProductRunner
from rapport.commerce.importing.revert import revert
from rapport.imports.extensions import ExportKind, ImportKind, register_export_kind, register_import_kind


def _kind(key: str, label: Any, runner: Any, may_import: Any, required: tuple[tuple[str, ...], ...],
          signature: frozenset[str]) -> ImportKind:
    return ImportKind(
        key=key, label=label, targets=lambda: _targets(key), suggest=lambda headers: _suggest(key, headers), runner=runner,
        revert=revert, may_import=may_import, required=required, signature=signature,
    )


def register() -> None:
    """Registers the commerce import kinds (and the product export) with the imports app."""
    for kind in (
        _kind("orders", gettext_lazy("Orders (one row per line)"), OrderRunner, _may_write_records,
              (CUSTOMER_TARGETS, ("order_external_id",), ("ordered_on",), ("currency",), ("quantity", "amount", "unit_price")),
              frozenset({"order_external_id", "quantity"})),
        _kind("invoices", gettext_lazy("Invoices and credit notes"), InvoiceRunner, _may_write_records,
              (CUSTOMER_TARGETS, ("invoice_number",), ("issued_on",), ("amount",), ("currency",)),
              frozenset({"invoice_number", "issued_on"})),
        _kind("payments", gettext_lazy("Payments"), PaymentRunner, _may_write_records,
              (CUSTOMER_TARGETS, ("reference",), ("received_on",), ("amount",), ("currency",)),
              frozenset({"reference", "received_on"})),
        _kind("products", gettext_lazy("Products"), ProductRunner, _may_import_products, (("sku",),),
              frozenset({"sku", "name"})),
    ):
        register_import_kind(kind)
    register_export_kind(ExportKind(key="products", label=gettext_lazy("Products"), formats=("csv", "xlsx"), write=export_products))
