"""Reverting a commerce import: what it created goes, what it updated comes back, what changed since stays."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rapport.commerce.models import Allocation, ImportedRecord, Invoice, Order, Payment, Product
from rapport.commerce.tests.test_import_support import customer, product, run_file
from rapport.imports.models import Status

ORDERS = "customer_external_id,order_external_id,ordered_on,product_sku,quantity,amount,currency\n"
INVOICES = "customer_external_id,invoice_number,issued_on,due_on,amount,currency\n"
PAYMENTS = "customer_external_id,reference,received_on,amount,currency,invoice_number\n"


@pytest.fixture(autouse=True)
def _imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = False
    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def shop(users: Any) -> Any:
    product("DR-1")
    return customer(users["rep_ana"], external_id="C-1")


def revert(users: Any, job: Any, user: str = "rep_ana") -> Any:
    from rapport.imports import services

    report = services.revert_import(user=users[user], job=job)
    job.refresh_from_db()
    return report


def test_revert_deletes_the_orders_it_created_and_restores_those_it_updated(users: Any, shop: Any, tmp_path: Path) -> None:
    run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\n")
    job = run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-02,,5,99.00,EUR\nC-1,A-2,2026-03-02,,1,1.00,EUR\n")
    assert (job.created_count, job.updated_count) == (1, 1)
    report = revert(users, job)
    assert (report.deleted, report.restored, report.kept) == (1, 1, 0)
    assert job.status == Status.REVERTED and job.message == ""
    order = Order.objects.get()
    assert order.external_id == "A-1" and order.total == Decimal("40.00") and order.ordered_on.isoformat() == "2026-03-01"
    assert [(ln.product.sku if ln.product else None, ln.quantity) for ln in order.lines.all()] == [("DR-1", Decimal("2"))]
    assert ImportedRecord.objects.filter(job=job).count() == 2  # the record of what was done stays with the job


def test_an_order_changed_since_the_import_is_kept_and_the_job_says_so(users: Any, shop: Any, tmp_path: Path) -> None:
    from rapport.commerce import services

    job = run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\nC-1,A-2,2026-03-01,,1,1.00,EUR\n")
    services.change_order(user=users["rep_ana"], order=Order.objects.get(external_id="A-1"), data={"note": "urgent"})
    report = revert(users, job)
    assert (report.deleted, report.kept) == (1, 1)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A-1"]
    assert "1 order" in job.message


def test_an_invoice_that_received_a_payment_since_is_kept(users: Any, shop: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path, INVOICES + "C-1,F-1,2026-03-01,,100,EUR\nC-1,F-2,2026-03-01,,50,EUR\n",
                   name="i.csv", kind="invoices")
    run_file(users["rep_ana"], tmp_path, PAYMENTS + "C-1,R-1,2026-03-05,30,EUR,F-1\n", name="p.csv", kind="payments")
    report = revert(users, job)
    assert (report.deleted, report.kept) == (1, 1)
    assert list(Invoice.objects.values_list("external_id", flat=True)) == ["F-1"]
    assert job.message == "Kept because they changed since the import or other records depend on them: 1 invoice."


def test_reverting_a_payments_import_gives_the_invoices_their_open_amount_back(users: Any, shop: Any, tmp_path: Path) -> None:
    run_file(users["rep_ana"], tmp_path, INVOICES + "C-1,F-1,2026-03-01,,100,EUR\n", name="i.csv", kind="invoices")
    job = run_file(users["rep_ana"], tmp_path, PAYMENTS + "C-1,R-1,2026-03-05,30,EUR,F-1\n", name="p.csv", kind="payments")
    assert Invoice.objects.get().open_amount == Decimal("70.00")
    report = revert(users, job)
    assert report.deleted == 1
    invoice = Invoice.objects.get()
    assert invoice.open_amount == Decimal("100.00") and invoice.is_open
    assert not Payment.objects.exists() and not Allocation.objects.exists()


def test_an_updated_invoice_gets_its_earlier_amount_back(users: Any, shop: Any, tmp_path: Path) -> None:
    run_file(users["rep_ana"], tmp_path, INVOICES + "C-1,F-1,2026-03-01,,100,EUR\n", name="i.csv", kind="invoices")
    job = run_file(users["rep_ana"], tmp_path, INVOICES + "C-1,F-1,2026-03-01,2026-04-01,140,EUR\n", name="i.csv", kind="invoices")
    assert job.updated_count == 1
    assert revert(users, job).restored == 1
    invoice = Invoice.objects.get()
    assert (invoice.amount, invoice.open_amount, invoice.due_on.isoformat()) == (Decimal("100.00"), Decimal("100.00"), "2026-03-01")


def test_a_product_on_orders_since_is_kept_and_an_updated_one_is_restored(users: Any, shop: Any, tmp_path: Path) -> None:
    Product.objects.filter(sku="DR-1").update(name="Taladro")
    job = run_file(users["admin"], tmp_path, "sku,name\nDR-1,Taladro percutor\nNEW-1,Martillo\nNEW-2,Llave\n",
                   name="products.csv", kind="products")
    assert (job.created_count, job.updated_count) == (2, 1)
    run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-01,NEW-1,1,5,EUR\n")
    report = revert(users, job, "admin")
    assert (report.deleted, report.restored, report.kept) == (1, 1, 1)
    assert sorted(Product.objects.values_list("sku", "name")) == [("DR-1", "Taladro"), ("NEW-1", "Martillo")]


def test_a_job_is_reverted_once(users: Any, shop: Any, tmp_path: Path) -> None:
    from rapport.core.errors import Conflict

    job = run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\n")
    revert(users, job)
    with pytest.raises(Conflict):
        revert(users, job)


def test_lines_added_further_down_the_file_to_an_unchanged_order_are_reverted(
    users: Any, shop: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from rapport.imports import services

    run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-01,DR-1,1,10.00,EUR\n")
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    job = run_file(users["rep_ana"], tmp_path, ORDERS + "C-1,A-1,2026-03-01,DR-1,1,10.00,EUR\n"
                   "C-1,B-1,2026-03-01,,1,1.00,EUR\nC-1,C-1,2026-03-01,,1,1.00,EUR\nC-1,A-1,2026-03-01,,2,4.00,EUR\n")
    assert (job.created_count, job.updated_count, job.skipped_count) == (2, 1, 1)
    assert Order.objects.get(external_id="A-1").total == Decimal("14.00")
    report = revert(users, job)
    assert (report.deleted, report.restored, report.kept) == (2, 1, 0)
    order = Order.objects.get()
    assert order.total == Decimal("10.00") and order.lines.count() == 1
