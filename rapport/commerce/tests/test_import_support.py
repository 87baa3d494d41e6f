"""Helpers the commerce import tests share (files written on the fly, customers, products), and
the registration they rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rapport.accounts.models import User
from rapport.cards.models import Card
from rapport.commerce.models import Product
from rapport.imports.models import ImportJob, RowError


def run_file(user: User, folder: Path, content: str | bytes, *, name: str = "orders.csv", kind: str | None = "orders",
             dry_run: bool = False, mapping: dict[str, str] | None = None) -> ImportJob:
    """Writes ``content`` to a file and imports it as ``user``; returns the finished job."""
    from rapport.imports import services

    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    job = services.create_job(user=user, path=path, file_name=name, kind=kind, mapping=mapping)
    return services.run_import(job=job, dry_run=dry_run).job


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def errors_of(job: ImportJob) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in RowError.objects.filter(job_id=job.pk).order_by("row", "id")]


def customer(user: User, external_id: str = "", name: str = "Ferretería López", tax_id: str = "") -> Card:
    from rapport.cards.services import add_fact, create_organization

    card = create_organization(user=user, data={"name": name, "external_id": external_id})
    if tax_id:
        add_fact(user=user, card=card, item_key="tax_id", value=tax_id, source_key="customer_stated")
    return card


def product(sku: str, name: str = "Taladro") -> Product:
    return Product.objects.create(sku=sku, name=name)


def test_the_commerce_kinds_are_registered_with_the_imports_app() -> None:
    from rapport.imports import extensions

    assert {k.key for k in extensions.import_kinds()} >= {"orders", "invoices", "payments", "products"}
    assert extensions.export_kind("products") is not None
