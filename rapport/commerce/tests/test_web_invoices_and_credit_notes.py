"""Entering invoices and credit notes, applying a credit note, and recording why an invoice is unpaid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rapport.commerce.models import Invoice
from rapport.commerce.tests.factories import invoice, order

pytestmark = pytest.mark.django_db


def _invoice(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "invoice", "external_id": "F-7", "currency": "EUR", "amount": "300.00",
                            "issued_on": "2026-03-01", "due_on": "2026-03-31", "note": "", "order": ""}
    data.update(overrides)
    return data


def test_a_rep_enters_an_invoice_for_an_order(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    o = order(users["rep_ana"], org, "300.00")
    form = ana.get(f"/cards/{org.pk}/invoices/new/?order={o.pk}").content.decode()
    assert 'value="300.0000"' in form or 'value="300' in form
    response = ana.post(f"/cards/{org.pk}/invoices/new/", _invoice(order=str(o.pk)))
    inv = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/invoices/{inv.pk}/"
    assert inv.order == o and inv.open_amount == Decimal("300.0000")


def test_a_due_date_before_the_issue_date_is_refused(make_org: Any, ana: Client) -> None:
    org = make_org()
    response = ana.post(f"/cards/{org.pk}/invoices/new/", _invoice(due_on="2026-02-01"))
    assert response.status_code == 422 and "Due before it was issued." in response.content.decode()
    assert not Invoice.objects.exists()


def test_an_unknown_currency_and_a_malformed_amount_are_refused(make_org: Any, ana: Client) -> None:
    org = make_org()
    assert ana.post(f"/cards/{org.pk}/invoices/new/", _invoice(currency="EUX")).status_code == 422
    assert ana.post(f"/cards/{org.pk}/invoices/new/", _invoice(amount="3OO")).status_code == 422
    assert ana.post(f"/cards/{org.pk}/invoices/new/", _invoice(order="999999")).status_code == 422
    assert not Invoice.objects.exists()


def test_a_credit_note_is_applied_to_an_open_invoice(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    target = invoice(users["rep_ana"], org, "100.00")
    response = ana.post(f"/cards/{org.pk}/invoices/new/", _invoice(kind="credit_note", external_id="AB-1", amount="30"))
    note = Invoice.objects.get(kind="credit_note")
    assert response["Location"] == f"/invoices/{note.pk}/"
    page = ana.get(f"/invoices/{note.pk}/").content.decode()
    assert "Use this credit note against an invoice" in page
    assert ana.post(f"/invoices/{note.pk}/apply/", {"invoice": target.pk, "amount": "30"}).status_code == 302
    target.refresh_from_db()
    note.refresh_from_db()
    assert target.open_amount == Decimal("70.0000") and not note.is_open


def test_applying_a_credit_note_to_another_customers_invoice_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    note = invoice(users["rep_ana"], org, "30.00", kind="credit_note")
    other = invoice(users["rep_ana"], make_org(name="Another customer"), "100.00")
    response = ana.post(f"/invoices/{note.pk}/apply/", {"invoice": other.pk, "amount": "30"})
    assert response.status_code == 422
    other.refresh_from_db()
    assert other.open_amount == Decimal("100.0000")


def test_the_cause_of_non_payment_is_recorded_on_an_overdue_invoice(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "100.00", due="2026-03-01")
    assert "Why is it not paid?" in ana.get(f"/invoices/{inv.pk}/").content.decode()
    assert ana.post(f"/invoices/{inv.pk}/cause/", {"cause": "our_fault", "note": "Late delivery"}).status_code == 302
    inv.refresh_from_db()
    assert inv.non_payment == "our_fault" and inv.non_payment_note == "Late delivery"
    assert "Our fault" in ana.get(f"/invoices/{inv.pk}/").content.decode()


def test_an_unknown_cause_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "100.00", due="2026-03-01")
    assert ana.post(f"/invoices/{inv.pk}/cause/", {"cause": "aliens"}).status_code == 422
    inv.refresh_from_db()
    assert inv.non_payment == ""


def test_another_teams_invoice_is_not_found(users: Any, make_org: Any, ana: Client) -> None:
    inv = invoice(users["rep_bo_other_team"], make_org(owner="rep_bo_other_team"), "100.00", due="2026-03-01")
    assert ana.get(f"/invoices/{inv.pk}/").status_code == 404
    assert ana.post(f"/invoices/{inv.pk}/cause/", {"cause": "fraud"}).status_code == 404
