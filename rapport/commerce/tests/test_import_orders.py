"""Flat orders files: one row per line, grouped into orders by their number, upserted on it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rapport.commerce.models import ImportedRecord, Order, OrderLine
from rapport.commerce.tests.test_import_support import customer, errors_of, product, run_file, xlsx_bytes
from rapport.imports.models import ImportJob, Status

HEADER = "customer_external_id,order_external_id,ordered_on,product_sku,quantity,amount,currency\n"


@pytest.fixture(autouse=True)
def _imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = False
    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def shop(users: Any) -> Any:
    product("DR-1")
    product("SAW-2", "Sierra")
    return customer(users["rep_ana"], external_id="C-1", tax_id="B12345678")


def test_a_flat_orders_file_imports_one_order_per_external_id(users: Any, shop: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path, HEADER
                   + "C-1,A-100,2026-03-01,DR-1,2,40.00,EUR\n"
                   + "C-1,A-100,2026-03-01,SAW-2,1,15.50,EUR\n"
                   + "C-1,A-101,2026-03-02,,3,9.99,EUR\n")
    assert job.status == Status.DONE and job.rows_read == 3 and job.created_count == 2 and job.error_count == 0
    order = Order.objects.get(external_id="A-100")
    assert order.card == shop and order.currency == "EUR" and order.total == Decimal("55.50") and order.import_job_id == job.pk
    assert [(ln.product.sku if ln.product else None, ln.quantity, ln.amount) for ln in order.lines.order_by("position")] == [
        ("DR-1", Decimal("2"), Decimal("40.00")), ("SAW-2", Decimal("1"), Decimal("15.50"))]
    assert Order.objects.get(external_id="A-101").lines.get().product is None
    assert ImportedRecord.objects.filter(job=job, model="order", created=True).count() == 2


def test_spanish_headers_and_a_day_first_date_are_understood(users: Any, shop: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path,
                   "Cliente,Número de pedido,Fecha,Código producto,Cantidad,Importe,Moneda\n"
                   "C-1,P-7,31/01/2026,DR-1,1,12.00,eur\n", kind=None)
    assert job.kind == "orders" and job.created_count == 1, errors_of(job)
    assert Order.objects.get().ordered_on.isoformat() == "2026-01-31"


def test_chinese_and_romanian_headers_are_suggested(users: Any) -> None:
    from rapport.imports import extensions

    kind = extensions.import_kind("orders")
    assert kind is not None
    assert kind.suggest(["客户编号", "订单号", "订单日期", "数量", "金额", "币种"]) == {
        "客户编号": "customer_external_id", "订单号": "order_external_id", "订单日期": "ordered_on", "数量": "quantity",
        "金额": "amount", "币种": "currency"}
    assert kind.suggest(["Cod client", "Nr. comandă", "Data comenzii", "Cantitate", "Valoare", "Monedă"]) == {
        "Cod client": "customer_external_id", "Nr. comandă": "order_external_id", "Data comenzii": "ordered_on",
        "Cantitate": "quantity", "Valoare": "amount", "Monedă": "currency"}


def test_an_xlsx_orders_file_imports(users: Any, shop: Any, tmp_path: Path) -> None:
    import datetime as dt

    content = xlsx_bytes([HEADER.strip().split(","), ["C-1", "X-1", dt.date(2026, 2, 3), "DR-1", 4, 20.5, "EUR"]])
    job = run_file(users["rep_ana"], tmp_path, content, name="orders.xlsx")
    assert job.created_count == 1, errors_of(job)
    order = Order.objects.get()
    assert order.total == Decimal("20.50") and order.ordered_on == dt.date(2026, 2, 3)


def test_the_customer_is_found_by_tax_id_or_card_id(users: Any, shop: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path, "customer,order,date,qty,amount,currency\n"
                   f"b12345678,T-1,2026-03-01,1,5,EUR\n{shop.pk},T-2,2026-03-01,1,5,EUR\n")
    assert job.created_count == 2, errors_of(job)
    assert set(Order.objects.values_list("card_id", flat=True)) == {shop.pk}


def test_importing_the_same_file_again_changes_nothing(users: Any, shop: Any, tmp_path: Path) -> None:
    content = HEADER + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\nC-1,A-1,2026-03-01,,1,1.00,EUR\n"
    run_file(users["rep_ana"], tmp_path, content)
    again = run_file(users["rep_ana"], tmp_path, content)
    assert (again.created_count, again.updated_count, again.skipped_count) == (0, 0, 1)
    order = Order.objects.get()
    assert order.version == 1 and order.lines.count() == 2


def test_an_order_imported_again_with_other_lines_gets_the_files_lines(users: Any, shop: Any, tmp_path: Path) -> None:
    run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\nC-1,A-1,2026-03-01,,1,1.00,EUR\n")
    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-05,SAW-2,3,30.00,EUR\n")
    assert job.updated_count == 1
    order = Order.objects.get()
    assert order.total == Decimal("30.00") and order.ordered_on.isoformat() == "2026-03-05" and order.version == 2
    assert list(order.lines.values_list("quantity", flat=True)) == [Decimal("3")]


def test_lines_of_an_order_further_down_the_file_are_added_to_it(users: Any, shop: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from rapport.imports import services

    monkeypatch.setattr(services, "BATCH_ROWS", 2)  # the order's second line comes in another batch
    job = run_file(users["rep_ana"], tmp_path, HEADER
                   + "C-1,A-1,2026-03-01,DR-1,1,10.00,EUR\n"
                   + "C-1,B-1,2026-03-01,DR-1,1,10.00,EUR\n"
                   + "C-1,C-1,2026-03-01,DR-1,1,10.00,EUR\n"
                   + "C-1,A-1,2026-03-01,SAW-2,2,7.00,EUR\n")
    assert job.error_count == 0 and job.created_count == 3 and job.updated_count == 1
    order = Order.objects.get(external_id="A-1")
    assert order.total == Decimal("17.00")
    assert list(order.lines.order_by("position").values_list("position", "product__sku")) == [(0, "DR-1"), (1, "SAW-2")]


def test_an_order_split_by_the_end_of_a_batch_stays_one_order(users: Any, shop: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from rapport.imports import services

    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,DR-1,1,1.00,EUR\n" * 5)
    assert job.created_count == 1 and job.updated_count == 0
    assert Order.objects.get().lines.count() == 5


def test_a_dry_run_writes_nothing(users: Any, shop: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\n", dry_run=True)
    assert job.created_count == 1
    assert not Order.objects.exists() and not OrderLine.objects.exists() and not ImportedRecord.objects.exists()
    assert ImportJob.objects.get(pk=job.pk).status == Status.UPLOADED


@pytest.mark.parametrize("line, column, reason", [
    ("C-1,A-9,2026-03-01,DR-1,-2,40.00,EUR", "quantity", "must not be negative"),
    ("C-1,A-9,2026-03-01,DR-1,0,40.00,EUR", "quantity", "greater than zero"),
    ("C-1,A-9,2026-03-01,DR-1,two,40.00,EUR", "quantity", "is not a number"),
    ("C-1,A-9,2026-03-01,DR-1,2,-40.00,EUR", "amount", "must not be negative"),
    ("C-1,A-9,2026-03-01,DR-1,2,abc,EUR", "amount", "is not a number"),
    ("C-1,A-9,2026-03-01,NOPE,2,40.00,EUR", "product_sku", "No product with the SKU"),
    ("C-404,A-9,2026-03-01,DR-1,2,40.00,EUR", "customer_external_id", "No such customer."),
    ("C-1,,2026-03-01,DR-1,2,40.00,EUR", "order_external_id", "The order number is required"),
    ("C-1,A-9,2026-03-01,DR-1,2,40.00,EURO", "currency", "is not an ISO 4217 currency code"),
    ("C-1,A-9,yesterday,DR-1,2,40.00,EUR", "ordered_on", "is not a date"),
    ("C-1,A-9,2026-02-30,DR-1,2,40.00,EUR", "ordered_on", "is not a date"),
])
def test_a_bad_line_is_refused_with_its_reason_and_its_order_is_not_written(
    users: Any, shop: Any, tmp_path: Path, line: str, column: str, reason: str
) -> None:
    customer_id, number, date, _sku, _quantity, _amount, currency = line.split(",")
    companion = ",".join([customer_id, number, date, "SAW-2", "1", "5.00", currency])
    job = run_file(users["rep_ana"], tmp_path, HEADER + line + "\n" + companion + "\n" + "C-1,A-10,2026-03-01,SAW-2,1,5.00,EUR\n")
    errors = errors_of(job)
    assert any(r == 1 and c == column and reason in text for r, c, text in errors), errors
    if number:
        assert (2, "", "Not imported with its order: row 1 cannot be imported.") in errors, errors
        assert job.error_count == 2
    assert job.created_count == 1
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A-10"]


def test_a_customer_the_importer_may_not_see_reads_like_an_unknown_one(users: Any, tmp_path: Path) -> None:
    customer(users["rep_bo_other_team"], external_id="SOUTH-1")
    job = run_file(users["rep_ana"], tmp_path, HEADER + "SOUTH-1,A-1,2026-03-01,,1,5.00,EUR\nNOBODY,A-2,2026-03-01,,1,5.00,EUR\n")
    assert errors_of(job) == [(1, "customer_external_id", "No such customer."), (2, "customer_external_id", "No such customer.")]
    assert not Order.objects.exists()


def test_an_order_number_of_another_customer_is_refused(users: Any, shop: Any, tmp_path: Path) -> None:
    customer(users["rep_ana"], external_id="C-2", name="Otra")
    run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,,1,5.00,EUR\n")
    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-2,A-1,2026-03-01,,1,5.00,EUR\n")
    assert errors_of(job) == [(1, "order_external_id", "An order with this number exists for another customer.")]


def test_rows_of_one_order_for_two_customers_are_refused(users: Any, shop: Any, tmp_path: Path) -> None:
    customer(users["rep_ana"], external_id="C-2", name="Otra")
    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,,1,5.00,EUR\nC-2,A-1,2026-03-01,,1,5.00,EUR\n")
    assert [(r, c) for r, c, _t in errors_of(job)] == [(1, ""), (2, "customer_external_id")]
    assert not Order.objects.exists()


def test_a_currency_that_differs_from_the_existing_order_is_refused(users: Any, shop: Any, tmp_path: Path) -> None:
    run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,,1,5.00,EUR\n")
    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,,1,5.00,USD\n")
    assert errors_of(job) == [(1, "currency", "Order A-1 is in EUR; a currency cannot change when it is imported again.")]
    assert Order.objects.get().currency == "EUR"


def test_a_missing_column_is_named_before_anything_runs(users: Any, tmp_path: Path) -> None:
    from rapport.core.errors import ValidationError

    with pytest.raises(ValidationError, match="needs a column for: Currency"):
        run_file(users["rep_ana"], tmp_path, "customer_external_id,order_external_id,ordered_on,quantity\nC-1,A,2026-01-01,1\n")


def test_an_analyst_may_not_import_orders(users: Any, tmp_path: Path) -> None:
    from rapport.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_file(users["analyst_al"], tmp_path, HEADER + "C-1,A-1,2026-03-01,,1,5.00,EUR\n")


def test_the_error_file_names_row_column_reason_and_value(users: Any, shop: Any, tmp_path: Path) -> None:
    from rapport.imports import services

    job = run_file(users["rep_ana"], tmp_path, HEADER + "C-1,A-1,2026-03-01,DR-1,=1+2,40.00,EUR\nC-1,A-2,2026-03-01,DR-1,1,x,EUR\n")
    lines = services.error_file_text(job).lstrip("\ufeff").splitlines()
    assert lines[0] == "row,column,reason,value,outcome"
    assert lines[1].startswith("1,quantity,Looks like a spreadsheet formula") and lines[1].endswith(",'=1+2,row not imported")
    assert lines[2] == "2,amount,'x' is not a number (use a dot for decimals).,x,row not imported"


@pytest.mark.django_db(transaction=True)  # the worker process is only forked outside a transaction
def test_a_large_file_is_read_in_a_worker_process_with_the_same_result(users: Any, tmp_path: Path, monkeypatch: Any,
                                                                       settings: Any) -> None:
    from django.db.models import Sum

    from rapport.imports import pipeline

    settings.RAPPORT_IMPORT_WORKER = True
    product("DR-1")
    customer(users["rep_ana"], external_id="C-1")
    forked: list[int] = []
    run_in_worker = pipeline.run_in_worker

    def counted(items: Any) -> Any:
        forked.append(1)
        return run_in_worker(items)

    monkeypatch.setattr(pipeline, "run_in_worker", counted)
    rows = [f"C-1,A-{n // 5:05d},2026-03-01,{'DR-1' if n % 2 else ''},{1 + n % 3},{n % 7 + 1}.25,EUR" for n in range(9000)]
    rows[4500] = "C-1,A-00900,2026-03-01,DR-1,0,1.00,EUR"  # a bad line: its order (900) is not imported
    content = HEADER + "\n".join(rows) + "\n"
    assert len(content) > 256 * 1024
    job = run_file(users["rep_ana"], tmp_path, content)
    assert forked and job.status == Status.DONE
    assert (job.rows_read, job.created_count, job.error_count) == (9000, 1799, 5)
    expected = sum(Decimal(r.split(",")[5]) for r in rows if ",A-00900," not in r)
    assert Order.objects.aggregate(s=Sum("total"))["s"] == expected
    assert OrderLine.objects.count() == 8995



def test_an_imported_first_order_makes_the_customer_a_customer_in_the_funnel(users: Any, tmp_path: Path) -> None:
    from rapport.cards.models import Card

    org = customer(users["rep_ana"], external_id="C-77", name="Compradora")
    job = run_file(users["rep_ana"], tmp_path, "customer_external_id,order_external_id,ordered_on,quantity,amount,currency\n"
                                                "C-77,SO-77,2026-11-20,2,50.00,EUR\n")
    assert job.status == Status.DONE, job.message
    assert Card.objects.get(pk=org.pk).lifecycle_stage == "customer"
