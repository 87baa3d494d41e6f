"""Invoices, credit notes and payments from ERP files: upsert on number and reference, allocations."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rapport.commerce.models import Allocation, ImportedRecord, Invoice, InvoiceKind, Order, Payment
from rapport.commerce.tests.test_import_support import customer, errors_of, run_file, xlsx_bytes

INVOICES = "customer_external_id,invoice_number,kind,issued_on,due_on,amount,currency,order_number\n"
PAYMENTS = "customer_external_id,reference,kind,received_on,amount,currency,invoice_number\n"


@pytest.fixture(autouse=True)
def _imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = False
    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def shop(users: Any) -> Any:
    return customer(users["rep_ana"], external_id="C-1")


def invoices(users: Any, tmp_path: Path, rows: str, **options: Any) -> Any:
    return run_file(users["rep_ana"], tmp_path, INVOICES + rows, name="invoices.csv", kind="invoices", **options)


def payments(users: Any, tmp_path: Path, rows: str, **options: Any) -> Any:
    return run_file(users["rep_ana"], tmp_path, PAYMENTS + rows, name="payments.csv", kind="payments", **options)


def test_invoices_and_credit_notes_import_with_their_open_amount(users: Any, shop: Any, tmp_path: Path) -> None:
    job = invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,121.00,EUR,\nC-1,F-1,nota de crédito,2026-03-05,,21.00,EUR,\n")
    assert job.created_count == 2, errors_of(job)
    invoice = Invoice.objects.get(kind=InvoiceKind.INVOICE)
    assert invoice.open_amount == Decimal("121.00") and invoice.is_open and invoice.import_job_id == job.pk
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.external_id == "F-1" and note.due_on == note.issued_on


def test_an_invoice_points_at_its_order_by_number(users: Any, shop: Any, tmp_path: Path) -> None:
    run_file(users["rep_ana"], tmp_path, "customer_external_id,order_external_id,ordered_on,quantity,amount,currency\n"
             "C-1,A-1,2026-03-01,1,100,EUR\n")
    job = invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-02,2026-04-01,100,EUR,A-1\nC-1,F-2,invoice,2026-03-02,,5,EUR,A-404\n")
    assert Invoice.objects.get(external_id="F-1").order == Order.objects.get()
    assert errors_of(job) == [(2, "order_number", "No order A-404 for this customer.")]


def test_an_invoices_xlsx_file_with_spanish_headers_imports(users: Any, shop: Any, tmp_path: Path) -> None:
    import datetime as dt

    content = xlsx_bytes([["Cliente", "Número de factura", "Tipo", "Fecha", "Vencimiento", "Importe", "Moneda"],
                          ["C-1", "F-9", "factura", dt.date(2026, 1, 2), dt.date(2026, 2, 1), 50, "EUR"]])
    job = run_file(users["rep_ana"], tmp_path, content, name="facturas.xlsx", kind=None)
    assert job.kind == "invoices" and job.created_count == 1, errors_of(job)
    assert Invoice.objects.get().due_on == dt.date(2026, 2, 1)


def test_an_invoice_imported_again_updates_its_amount_and_keeps_what_was_paid(users: Any, shop: Any, tmp_path: Path) -> None:
    invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,100.00,EUR,\n")
    payments(users, tmp_path, "C-1,R-1,payment,2026-03-10,30.00,EUR,F-1\n")
    job = invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-04-30,120.00,EUR,\n")
    assert job.updated_count == 1
    invoice = Invoice.objects.get()
    assert invoice.amount == Decimal("120.00") and invoice.open_amount == Decimal("90.00")
    again = invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-04-30,120.00,EUR,\n")
    assert again.skipped_count == 1 and again.updated_count == 0


@pytest.mark.parametrize("row, column, reason", [
    ("C-1,F-2,invoice,2026-03-01,2026-03-31,0,EUR,", "amount", "greater than zero"),
    ("C-1,F-2,invoice,2026-03-01,2026-03-31,-5,EUR,", "amount", "must not be negative"),
    ("C-1,F-2,invoice,2026-03-01,2026-03-31,many,EUR,", "amount", "is not a number"),
    ("C-1,F-2,invoice,2026-03-01,2026-03-31,5,ABC,", "currency", "is not an ISO 4217 currency code"),
    ("C-1,F-2,invoice,01-13-2026,2026-03-31,5,EUR,", "issued_on", "is not a date"),
    ("C-1,F-2,invoice,2026-03-31,2026-03-01,5,EUR,", "due_on", "Due before it was issued."),
    ("C-1,F-2,bill of sale,2026-03-01,2026-03-31,5,EUR,", "kind", "Unknown kind"),
    ("C-404,F-2,invoice,2026-03-01,2026-03-31,5,EUR,", "customer_external_id", "No such customer."),
    ("C-1,F-1,invoice,2026-03-01,2026-03-31,5,USD,", "currency", "a currency cannot change"),
])
def test_a_bad_invoice_row_is_refused_with_its_reason(users: Any, shop: Any, tmp_path: Path, row: str, column: str, reason: str) -> None:
    invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,10,EUR,\n")
    job = invoices(users, tmp_path, row + "\n")
    [(number, got_column, got_reason)] = errors_of(job)
    assert (number, got_column) == (1, column) and reason in got_reason
    assert not Invoice.objects.filter(external_id="F-2").exists()
    assert Invoice.objects.get(external_id="F-1").currency == "EUR"


def test_an_invoice_number_twice_in_one_file_is_refused_the_second_time(users: Any, shop: Any, tmp_path: Path) -> None:
    job = invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,,10,EUR,\nC-1,F-1,invoice,2026-03-02,,12,EUR,\n")
    assert errors_of(job) == [(2, "invoice_number", "F-1 appears twice in the file (row 1 first).")]
    assert Invoice.objects.get().amount == Decimal("10.00")


def test_payments_import_and_are_allocated_to_the_invoice_named(users: Any, shop: Any, tmp_path: Path) -> None:
    invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,100.00,EUR,\n")
    job = payments(users, tmp_path, "C-1,R-1,pago,2026-03-10,60.00,EUR,F-1\nC-1,R-2,anticipo,2026-03-11,500,EUR,\n")
    assert job.created_count == 2, errors_of(job)
    first = Payment.objects.get(external_id="R-1")
    assert first.unallocated == 0 and first.import_job_id == job.pk
    assert Invoice.objects.get().open_amount == Decimal("40.00")
    assert Payment.objects.get(external_id="R-2").kind == "advance"


def test_an_allocation_larger_than_the_invoices_open_amount_is_refused(users: Any, shop: Any, tmp_path: Path) -> None:
    invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,100.00,EUR,\n")
    job = payments(users, tmp_path, "C-1,R-1,payment,2026-03-10,60.00,EUR,F-1\nC-1,R-2,payment,2026-03-11,50.00,EUR,F-1\n")
    [(row, column, reason)] = errors_of(job)
    assert (row, column) == (2, "invoice_number")
    assert "is more than the" in reason and "still open on invoice F-1" in reason
    assert not Payment.objects.filter(external_id="R-2").exists()
    assert Invoice.objects.get().open_amount == Decimal("40.00")


@pytest.mark.parametrize("row, column, reason", [
    ("C-1,R-9,payment,2026-03-10,0,EUR,", "amount", "greater than zero"),
    ("C-1,R-9,payment,2026-03-10,ten,EUR,", "amount", "is not a number"),
    ("C-1,R-9,payment,2026-03-10,10,EU,", "currency", "is not an ISO 4217 currency code"),
    ("C-1,R-9,payment,someday,10,EUR,", "received_on", "is not a date"),
    ("C-1,R-9,payment,2026-03-10,10,EUR,F-404", "invoice_number", "No invoice F-404 for this customer."),
    ("C-404,R-9,payment,2026-03-10,10,EUR,", "customer_external_id", "No such customer."),
])
def test_a_bad_payment_row_is_refused_with_its_reason(users: Any, shop: Any, tmp_path: Path, row: str, column: str, reason: str) -> None:
    job = payments(users, tmp_path, row + "\n")
    [(number, got_column, got_reason)] = errors_of(job)
    assert (number, got_column) == (1, column) and reason in got_reason
    assert not Payment.objects.exists()


def test_an_invoice_of_a_customer_the_importer_may_not_see_reads_like_an_unknown_one(users: Any, shop: Any, tmp_path: Path) -> None:
    other = customer(users["rep_bo_other_team"], external_id="S-1", name="Sur")
    run_file(users["rep_bo_other_team"], tmp_path, INVOICES + "S-1,F-S,invoice,2026-03-01,,10,EUR,\n", name="s.csv", kind="invoices")
    job = payments(users, tmp_path, "S-1,R-1,payment,2026-03-10,10,EUR,\nC-1,R-2,payment,2026-03-10,10,EUR,F-S\n")
    assert errors_of(job) == [(1, "customer_external_id", "No such customer."),
                              (2, "invoice_number", "No invoice F-S for this customer.")]
    assert Invoice.objects.get().card == other and not Payment.objects.exists()


def test_a_payment_imported_again_is_unchanged(users: Any, shop: Any, tmp_path: Path) -> None:
    invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,100.00,EUR,\n")
    payments(users, tmp_path, "C-1,R-1,payment,2026-03-10,60.00,EUR,F-1\n")
    job = payments(users, tmp_path, "C-1,R-1,payment,2026-03-10,60.00,EUR,F-1\n")
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 0, 1)
    assert Allocation.objects.count() == 1 and ImportedRecord.objects.filter(job=job).count() == 0


def test_a_payments_xlsx_file_in_romanian_imports(users: Any, shop: Any, tmp_path: Path) -> None:
    import datetime as dt

    invoices(users, tmp_path, "C-1,F-1,invoice,2026-03-01,2026-03-31,100.00,EUR,\n")
    content = xlsx_bytes([["Cod client", "Referință", "Tip", "Data plății", "Sumă", "Monedă", "Număr factură"],
                          ["C-1", "OP-77", "plată", dt.date(2026, 3, 9), 25, "EUR", "F-1"]])
    job = run_file(users["rep_ana"], tmp_path, content, name="plati.xlsx", kind=None)
    assert job.kind == "payments" and job.created_count == 1, errors_of(job)
    assert Invoice.objects.get().open_amount == Decimal("75.00")


def test_a_payment_reference_twice_in_a_file_or_in_another_currency_is_refused(users: Any, shop: Any, tmp_path: Path) -> None:
    payments(users, tmp_path, "C-1,R-1,payment,2026-03-10,10,EUR,\n")
    job = payments(users, tmp_path, "C-1,R-1,payment,2026-03-10,10,USD,\nC-1,R-2,payment,2026-03-10,5,EUR,\n"
                   "C-1,R-2,payment,2026-03-11,6,EUR,\n")
    assert errors_of(job) == [
        (1, "currency", "Payment R-1 is in EUR; a currency cannot change when it is imported again."),
        (3, "reference", "R-2 appears twice in the file (row 2 first)."),
    ]
    assert Payment.objects.get(external_id="R-2").amount == Decimal("5.00")
