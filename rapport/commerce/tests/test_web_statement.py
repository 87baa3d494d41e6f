"""The account statement page, its currency and period, and its PDF and XLSX downloads."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from rapport.commerce import services
from rapport.commerce.tests.factories import invoice

pytestmark = pytest.mark.django_db


def _account(users: Any, org: Any) -> None:
    ana = users["rep_ana"]
    first = invoice(ana, org, "1000.00", issued="2026-01-10", due="2026-02-10", external_id="F-1")
    invoice(ana, org, "250.00", issued="2026-03-01", due="2026-03-31", external_id="=HYPERLINK(\"x\")")
    services.record_payment(user=ana, card=org, data={"currency": "EUR", "amount": "400", "received_on": "2026-02-15",
                                                     "allocations": [{"invoice": first.pk, "amount": "400"}]})
    invoice(ana, org, "999.00", currency="USD", issued="2026-04-01", due="2026-04-30")


def test_it_shows_the_running_balance_with_formatted_amounts(users: Any, make_org: Any, ana: Client,
                                                             django_assert_max_num_queries: Any) -> None:
    org = make_org()
    _account(users, org)
    with django_assert_max_num_queries(12):
        response = ana.get(f"/cards/{org.pk}/statement/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "€1,000.00" in page and "€600.00" in page and "€850.00" in page
    assert "Not yet due" in page and "Over 90 days" in page
    assert "1_30" not in page.replace('aging-1_30', '')


def test_the_currency_and_the_period_are_chosen_by_the_reader(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    _account(users, org)
    page = ana.get(f"/cards/{org.pk}/statement/", {"currency": "USD"}).content.decode()
    assert "US$999.00" in page or "$999.00" in page
    page = ana.get(f"/cards/{org.pk}/statement/", {"currency": "EUR", "date_from": "2026-02-01"}).content.decode()
    assert "Opening balance" in page and "€1,000.00" in page


def test_a_bad_period_or_currency_is_a_form_error(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    _account(users, org)
    assert ana.get(f"/cards/{org.pk}/statement/", {"date_from": "2026-13-01"}).status_code == 422
    assert ana.get(f"/cards/{org.pk}/statement/", {"currency": "GBP"}).status_code == 422
    response = ana.get(f"/cards/{org.pk}/statement/", {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.status_code == 422 and "ends before it starts" in response.content.decode()


def test_it_downloads_as_pdf_and_as_a_formula_safe_workbook(users: Any, make_org: Any, ana: Client) -> None:
    from openpyxl import load_workbook

    org = make_org()
    _account(users, org)
    pdf = ana.get(f"/cards/{org.pk}/statement.pdf", {"currency": "EUR"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    xlsx = ana.get(f"/cards/{org.pk}/statement.xlsx", {"currency": "EUR"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    numbers = [row[2] for row in sheet.iter_rows(values_only=True) if row and len(row) > 2]
    assert "'=HYPERLINK(\"x\")" in numbers


def test_an_analyst_reads_the_statement(users: Any, make_org: Any) -> None:
    org = make_org()
    _account(users, org)
    analyst = Client()
    analyst.force_login(users["analyst_al"])
    page = analyst.get(f"/cards/{org.pk}/statement/").content.decode()
    assert "€850.00" in page and "+ Payment" not in page and "Record an account check" not in page


def test_another_teams_statement_is_not_found(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org(owner="rep_bo_other_team")
    invoice(users["rep_bo_other_team"], org, "10.00")
    for url in ("statement/", "statement.pdf", "statement.xlsx"):
        assert ana.get(f"/cards/{org.pk}/{url}").status_code == 404


def test_a_download_with_a_bad_period_shows_the_form_error_instead(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    _account(users, org)
    response = ana.get(f"/cards/{org.pk}/statement.pdf", {"date_to": "31/12/2026"})
    assert response.status_code == 422 and response["Content-Type"].startswith("text/html")
    assert "Enter a valid date" in response.content.decode()
