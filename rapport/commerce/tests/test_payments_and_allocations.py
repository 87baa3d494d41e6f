"""Payments, advances and deposits set against invoices; credit notes; nothing is ever over-paid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from rapport.commerce import services
from rapport.commerce.models import Allocation, Invoice, Payment
from rapport.commerce.tests.factories import api, invoice, order, post
from rapport.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def test_a_payment_allocated_in_full_closes_the_invoice(users: Any, make_org: Any) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "120.00")
    payment = services.record_payment(user=users["rep_ana"], card=org, data={
        "currency": "EUR", "amount": "150", "received_on": "2026-03-02", "allocations": [{"invoice": inv.pk, "amount": "120"}],
    })
    inv.refresh_from_db()
    assert (inv.open_amount, inv.is_open) == (Decimal("0.0000"), False)
    assert payment.unallocated == Decimal("30.00")


def test_an_allocation_larger_than_what_is_open_is_refused_and_nothing_is_recorded(users: Any, make_org: Any) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "50.00")
    with pytest.raises(ValidationError) as caught:
        services.record_payment(user=users["rep_ana"], card=org, data={
            "currency": "EUR", "amount": "80", "allocations": [{"invoice": inv.pk, "amount": "60"}],
        })
    assert "still open" in caught.value.errors["allocations[0].amount"][0]
    assert not Payment.objects.exists() and not Allocation.objects.exists()
    inv.refresh_from_db()
    assert inv.open_amount == Decimal("50.0000")


def test_allocations_adding_up_to_more_than_the_payment_are_refused(users: Any, make_org: Any) -> None:
    org = make_org()
    a, b = invoice(users["rep_ana"], org, "50.00"), invoice(users["rep_ana"], org, "50.00")
    with pytest.raises(ValidationError):
        services.record_payment(user=users["rep_ana"], card=org, data={
            "currency": "EUR", "amount": "60", "allocations": [{"invoice": a.pk, "amount": "50"}, {"invoice": b.pk, "amount": "20"}],
        })
    assert not Payment.objects.exists()


def test_a_payment_cannot_be_set_against_another_customers_or_another_currencys_invoice(users: Any, make_org: Any) -> None:
    org, other = make_org(), make_org(name="Otra S.L.")
    foreign = invoice(users["rep_ana"], other, "10.00")
    in_usd = invoice(users["rep_ana"], org, "10.00", currency="USD")
    for inv, field in ((foreign, "allocations[0].invoice"), (in_usd, "allocations[0].amount")):
        with pytest.raises(ValidationError) as caught:
            services.record_payment(user=users["rep_ana"], card=org, data={
                "currency": "EUR", "amount": "10", "allocations": [{"invoice": inv.pk, "amount": "10"}],
            })
        assert field in caught.value.errors
    assert not Payment.objects.exists()


def test_an_advance_is_allocated_later_but_never_beyond_what_is_left_of_it(users: Any, make_org: Any) -> None:
    org = make_org()
    advance = services.record_payment(user=users["rep_ana"], card=org, data={"currency": "EUR", "amount": "100", "kind": "advance"})
    inv = invoice(users["rep_ana"], org, "70.00")
    services.allocate_payment(user=users["rep_ana"], payment=advance, invoice=inv, amount="70")
    second = invoice(users["rep_ana"], org, "70.00")
    with pytest.raises(ValidationError) as caught:
        services.allocate_payment(user=users["rep_ana"], payment=advance, invoice=second, amount="40")
    assert "not yet allocated" in caught.value.errors["amount"][0]
    advance.refresh_from_db()
    assert advance.unallocated == Decimal("30.0000")


def test_a_credit_note_reduces_an_invoice_and_is_used_up(users: Any, make_org: Any) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "100.00")
    note = invoice(users["rep_ana"], org, "30.00", kind="credit_note")
    services.apply_credit_note(user=users["rep_ana"], credit_note=note, invoice=inv, amount="30")
    inv.refresh_from_db()
    note.refresh_from_db()
    assert inv.open_amount == Decimal("70.0000") and note.open_amount == Decimal("0") and not note.is_open
    with pytest.raises(ValidationError):
        services.apply_credit_note(user=users["rep_ana"], credit_note=note, invoice=inv, amount="1")


def test_an_invoice_for_an_order_takes_its_total_and_refuses_another_customers_order(users: Any, make_org: Any) -> None:
    org, other = make_org(), make_org(name="Otra S.L.")
    o = order(users["rep_ana"], org, "80.00")
    inv = services.create_invoice(user=users["rep_ana"], card=org, order=o, data={"issued_on": "2026-02-02"})
    assert (inv.amount, inv.currency, inv.due_on.isoformat()) == (Decimal("80.00"), "EUR", "2026-02-02")
    with pytest.raises(ValidationError):
        services.create_invoice(user=users["rep_ana"], card=other, order=o, data={})
    with pytest.raises(ValidationError):
        invoice(users["rep_ana"], org, "10.00", issued="2026-03-01", due="2026-02-01")


def test_the_payments_api_refuses_an_invisible_invoice_like_an_unknown_one(users: Any, make_org: Any) -> None:
    mine = make_org()
    theirs = make_org(owner="rep_bo_other_team", name="Sur")
    foreign = invoice(users["rep_bo_other_team"], theirs, "10.00")
    response = post(api(users["rep_ana"]), "/api/v1/payments", {
        "customer": mine.pk, "currency": "EUR", "amount": "10", "allocations": [{"invoice": foreign.pk, "amount": "10"}],
    })
    assert response.status_code == 422 and response.json()["errors"] == {"allocations[0].invoice": ["No such invoice."]}
    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=foreign.pk).open_amount == Decimal("10.0000")


def test_the_payments_api_records_and_lists_a_payment(users: Any, make_org: Any) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "10.00")
    client = api(users["rep_ana"])
    created = post(client, "/api/v1/payments", {"customer": org.pk, "currency": "eur", "amount": 12.5, "method": "bank transfer",
                                                 "allocations": [{"invoice": inv.pk, "amount": "10"}]})
    assert created.status_code == 201, created.content
    assert created.json()["unallocated"] == "2.50"
    assert client.get("/api/v1/payments", {"unallocated": True}).json()["count"] == 1
    allocations = client.get(f"/api/v1/invoices/{inv.pk}/allocations").json()
    assert allocations["items"][0]["amount"] == "10.00"
