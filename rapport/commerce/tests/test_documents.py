"""The printable documents: the statement as PDF and XLSX, and the confirmation of balances."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from rapport.commerce import collection, documents, selectors, services
from rapport.commerce.tests.factories import invoice

pytestmark = pytest.mark.django_db


def test_a_chinese_customer_prints_with_the_built_in_cjk_font(users: Any, make_org: Any) -> None:
    org = make_org(name="上海五金有限公司")
    invoice(users["rep_ana"], org, "1234.50", currency="CNY")
    statement = selectors.account_statement(org)
    pdf = documents.statement_pdf(statement, "en")
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf
    assert b"STSong-Light" in documents.statement_pdf(statement, "zh-hans")


def test_a_latin_statement_needs_no_cjk_font(users: Any, make_org: Any) -> None:
    org = make_org(name="Ferretería Ruiz")
    invoice(users["rep_ana"], org, "10.00")
    pdf = documents.statement_pdf(selectors.account_statement(org), "es")
    assert pdf.startswith(b"%PDF") and b"STSong-Light" not in pdf


def test_the_workbook_keeps_numbers_as_numbers_and_neutralises_formulas(users: Any, make_org: Any) -> None:
    from openpyxl import load_workbook

    org = make_org(name="@SUM(A1)")
    invoice(users["rep_ana"], org, "1234.50", external_id="-2+3")
    content = documents.statement_xlsx(selectors.account_statement(org), "en")
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert "'@SUM(A1)" in values and "'-2+3" in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)
    line = next(row for row in sheet.iter_rows(values_only=True) if row and row[2] == "'-2+3")
    assert float(line[4]) == 1234.5 and isinstance(line[0], dt.datetime)
    assert [row[0] for row in book.worksheets[1].iter_rows(values_only=True)][0] == "Not yet due"


def test_the_confirmation_of_balances_prints(users: Any, make_org: Any) -> None:
    org = make_org(name="北方贸易")
    invoice(users["rep_ana"], org, "500.00")
    services.record_payment(user=users["rep_ana"], card=org, data={"currency": "EUR", "amount": "50", "kind": "deposit"})
    check = collection.record_account_check(user=users["rep_ana"], card=org, data={"currency": "EUR", "confirmed": True,
                                                                                   "confirmed_by": "王先生"})
    pdf = documents.account_check_pdf(check, org, "zh-hans")
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf
