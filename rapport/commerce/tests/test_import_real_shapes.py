"""Orders files shaped like real exports: customer ids with leading zeros (CDNOW's ``00001``) that a
spreadsheet turned into numbers, and purchases of $0."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rapport.commerce.models import Order
from rapport.commerce.tests.test_import_support import customer, errors_of, run_file, xlsx_bytes
from rapport.imports.models import Status

# The first purchases of the CDNOW transactions, as the flat orders file.
HEADER = ["customer_external_id", "order_external_id", "ordered_on", "quantity", "amount", "currency"]
ROWS: list[list[Any]] = [
    ["00001", "00001-19970101-1", dt.date(1997, 1, 1), 1, 11.77, "USD"],
    ["00002", "00002-19970112-1", dt.date(1997, 1, 12), 1, 12.00, "USD"],
    ["00002", "00002-19970112-2", dt.date(1997, 1, 12), 5, 77.00, "USD"],
    ["00003", "00003-19970102-1", dt.date(1997, 1, 2), 2, 20.76, "USD"],
]


@pytest.fixture(autouse=True)
def _imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = False
    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def cdnow(users: Any) -> dict[str, Any]:
    return {ext: customer(users["rep_ana"], external_id=ext, name=f"CDNOW {ext}") for ext in ("00001", "00002", "00003")}


def test_a_workbook_with_the_ids_as_text_and_excel_dates_imports_every_purchase(users: Any, cdnow: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path, xlsx_bytes([HEADER, *ROWS]), name="cdnow.xlsx")
    assert job.status == Status.DONE and job.created_count == 4 and job.error_count == 0, errors_of(job)
    order = Order.objects.get(external_id="00002-19970112-2")
    assert order.card == cdnow["00002"] and order.ordered_on == dt.date(1997, 1, 12) and order.total == Decimal("77.00")
    assert sum(Order.objects.values_list("total", flat=True), Decimal(0)) == Decimal("121.53")


def test_ids_that_lost_their_leading_zeros_are_refused_naming_the_external_id(users: Any, cdnow: Any, tmp_path: Path) -> None:
    rows = [[int(row[0]), *row[1:]] for row in ROWS]  # what Excel does to "00001"
    job = run_file(users["rep_ana"], tmp_path, xlsx_bytes([HEADER, *rows]), name="cdnow.xlsx")
    assert job.created_count == 0 and job.error_count == 4 and not Order.objects.exists()
    row, column, reason = errors_of(job)[0]
    assert (row, column) == (1, "customer_external_id")
    assert reason.startswith("No such customer. 1 is the external id 00001 without its leading zeros")


def test_a_customer_column_does_not_take_a_number_that_lost_its_zeros_for_a_card_id(users: Any, cdnow: Any,
                                                                                      tmp_path: Path) -> None:
    # A card whose id is the number the spreadsheet left of "00001": the order is not its.
    other = customer(users["rep_ana"], external_id="X-1", name="Another shop")
    number = str(other.pk)
    owner = customer(users["rep_ana"], external_id=number.zfill(5), name="The customer")
    job = run_file(users["rep_ana"], tmp_path,
                   f"Cliente,Número de pedido,Fecha,Cantidad,Importe,Moneda\n{number},P-1,1997-01-01,1,11.77,USD\n", kind=None)
    assert job.created_count == 0 and not Order.objects.filter(card=other).exists()
    assert errors_of(job)[0][2].startswith(f"No such customer. {number} is the external id {owner.external_id} without")
    # Named by its card id in a card id column, the card is found as before.
    job = run_file(users["rep_ana"], tmp_path, f"customer_id,order_external_id,ordered_on,amount,currency\n{number},P-1,1997-01-01,11.77,USD\n")
    assert job.created_count == 1 and Order.objects.get().card == other


def test_a_number_no_card_has_even_with_zeros_reads_no_such_customer(users: Any, cdnow: Any, tmp_path: Path) -> None:
    job = run_file(users["rep_ana"], tmp_path, "customer_external_id,order_external_id,ordered_on,amount,currency\n"
                   "4,A-1,1997-01-01,11.77,USD\n")
    assert errors_of(job) == [(1, "customer_external_id", "No such customer.")]


def test_the_zeros_are_not_named_for_a_card_out_of_the_users_reach(users: Any, tmp_path: Path) -> None:
    customer(users["rep_bo_other_team"], external_id="00007", name="Not Ana's")
    job = run_file(users["rep_ana"], tmp_path, "customer_external_id,order_external_id,ordered_on,amount,currency\n"
                   "7,A-1,1997-01-01,11.77,USD\n")
    assert errors_of(job) == [(1, "customer_external_id", "No such customer.")]


def test_a_header_spelt_as_a_target_is_that_target(users: Any) -> None:
    from rapport.imports import extensions

    kind = extensions.import_kind("orders")
    assert kind is not None
    assert kind.suggest(["customer_id", "customer_external_id", "Customer ID"]) == {
        "customer_id": "customer_id", "customer_external_id": "customer_external_id", "Customer ID": ""}
    assert kind.suggest(["Customer ID", "order_external_id"])["Customer ID"] == "customer_external_id"
