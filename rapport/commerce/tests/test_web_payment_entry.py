"""Recording a payment on the web and setting it against the customer's open invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rapport.commerce.models import Invoice, Payment
from rapport.commerce.tests.factories import invoice

pytestmark = pytest.mark.django_db


def _payment(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "payment", "amount": "150.00", "currency": "EUR", "received_on": "2026-03-10",
                            "external_id": "", "method": "Bank transfer", "note": ""}
    data.update(overrides)
    return data


def test_a_payment_is_allocated_to_two_invoices(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    first = invoice(users["rep_ana"], org, "100.00", due="2026-02-01")
    second = invoice(users["rep_ana"], org, "200.00", due="2026-04-01")
    page = ana.get(f"/cards/{org.pk}/payments/new/").content.decode()
    assert "€100.00" in page and "€200.00" in page
    response = ana.post(f"/cards/{org.pk}/payments/new/", _payment(
        alloc_invoice=[str(first.pk), str(second.pk)], alloc_amount=["100", "50"]))
    assert response.status_code == 302 and response["Location"] == f"/cards/{org.pk}/statement/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert not first.is_open and second.open_amount == Decimal("150.0000")
    assert Payment.objects.get().unallocated == Decimal("0")


def test_an_invoice_of_another_customer_in_the_post_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    mine = invoice(users["rep_ana"], make_org(name="Other customer of mine"), "100.00")
    theirs = invoice(users["rep_bo_other_team"], make_org(owner="rep_bo_other_team", name="South"), "100.00")
    for foreign in (mine, theirs):
        response = ana.post(f"/cards/{org.pk}/payments/new/", _payment(alloc_invoice=[str(foreign.pk)], alloc_amount=["100"]))
        assert response.status_code == 422
        assert "belongs to another customer" in response.content.decode() or "No such invoice" in response.content.decode()
    assert not Payment.objects.exists()
    assert Invoice.objects.filter(is_open=True).count() == 2


def test_a_malformed_amount_is_refused(make_org: Any, ana: Client) -> None:
    org = make_org()
    for amount in ("12,50", "abc", "-5", "0", "1e400"):
        response = ana.post(f"/cards/{org.pk}/payments/new/", _payment(amount=amount))
        assert response.status_code == 422, amount
    assert not Payment.objects.exists()


def test_a_malformed_allocation_amount_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "100.00")
    response = ana.post(f"/cards/{org.pk}/payments/new/", _payment(alloc_invoice=[str(inv.pk)], alloc_amount=["lots"]))
    assert response.status_code == 422 and "is not a number" in response.content.decode()
    assert not Payment.objects.exists()


def test_allocating_more_than_is_open_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "100.00")
    response = ana.post(f"/cards/{org.pk}/payments/new/", _payment(amount="500", alloc_invoice=[str(inv.pk)], alloc_amount=["120"]))
    assert response.status_code == 422 and "still open on invoice" in response.content.decode()
    assert not Payment.objects.exists()
    inv.refresh_from_db()
    assert inv.open_amount == Decimal("100.0000")


def test_a_received_date_that_is_not_a_date_is_refused(make_org: Any, ana: Client) -> None:
    org = make_org()
    response = ana.post(f"/cards/{org.pk}/payments/new/", _payment(received_on="yesterday"))
    assert response.status_code == 422 and "Enter a valid date" in response.content.decode()
    assert not Payment.objects.exists()


def test_an_analyst_cannot_record_payments(users: Any, make_org: Any) -> None:
    org = make_org()
    analyst = Client()
    analyst.force_login(users["analyst_al"])
    assert analyst.post(f"/cards/{org.pk}/payments/new/", _payment()).status_code == 403
    assert not Payment.objects.exists()


def test_another_teams_customer_is_not_found(make_org: Any, ana: Client) -> None:
    org = make_org(owner="rep_bo_other_team")
    assert ana.post(f"/cards/{org.pk}/payments/new/", _payment()).status_code == 404
    assert not Payment.objects.exists()
