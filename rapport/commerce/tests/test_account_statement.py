"""The account statement: opening balance, running balance, overdue and aging, in one currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.commerce import selectors, services
from rapport.commerce.tests.factories import api, invoice

pytestmark = pytest.mark.django_db


def _account(users: Any, org: Any) -> None:
    ana = users["rep_ana"]
    first = invoice(ana, org, "100.00", issued="2026-01-10", due="2026-02-10", external_id="F-1")
    invoice(ana, org, "250.00", issued="2026-03-01", due="2026-03-31", external_id="F-2")
    invoice(ana, org, "40.00", issued="2026-03-05", due="2026-03-05", kind="credit_note", external_id="AB-1")
    services.record_payment(user=ana, card=org, data={"currency": "EUR", "amount": "100", "received_on": "2026-02-15",
                                                     "allocations": [{"invoice": first.pk, "amount": "100"}]})
    services.record_payment(user=ana, card=org, data={"currency": "EUR", "amount": "60", "received_on": "2026-03-20", "kind": "advance"})
    invoice(ana, org, "999.00", currency="USD")


def test_the_statement_runs_the_balance_through_invoices_credit_notes_and_payments(users: Any, make_org: Any) -> None:
    org = make_org()
    _account(users, org)
    st = selectors.account_statement(org, currency="EUR", as_of=dt.date(2026, 5, 15))
    assert [(ln.kind, ln.number if ln.kind != "payment" else "", ln.balance) for ln in st.lines] == [
        ("invoice", "F-1", Decimal("100")), ("payment", "", Decimal("0")), ("invoice", "F-2", Decimal("250")),
        ("credit_note", "AB-1", Decimal("210")), ("advance", f"#{st.lines[4].record_id}", Decimal("150")),
    ]
    assert st.balance == Decimal("150.00") and st.currencies == ["EUR", "USD"]
    assert st.overdue == Decimal("250.00") and st.aging["31_60"] == Decimal("250.00")
    assert st.advances == Decimal("60.00")


def test_a_period_starts_from_the_opening_balance_of_what_came_before(users: Any, make_org: Any) -> None:
    org = make_org()
    _account(users, org)
    st = selectors.account_statement(org, currency="EUR", date_from=dt.date(2026, 3, 1), as_of=dt.date(2026, 5, 15))
    assert st.opening_balance == Decimal("0.00")
    assert [ln.number for ln in st.lines][:2] == ["F-2", "AB-1"]
    assert st.balance == Decimal("150.00")


def test_the_account_api_answers_json_and_refuses_a_period_that_ends_before_it_starts(users: Any, make_org: Any) -> None:
    org = make_org()
    _account(users, org)
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/organizations/{org.pk}/account", {"currency": "EUR"}).json()
    assert body["balance"] == "150.00" and body["lines"][0]["debit"] == "100.00"
    assert client.get(f"/api/v1/organizations/{org.pk}/account", {"date_from": "2026-05-01", "date_to": "2026-04-01"}).status_code == 422
    assert client.get(f"/api/v1/people/{org.pk}/account").status_code == 404
    assert api(users["rep_bo_other_team"]).get(f"/api/v1/organizations/{org.pk}/account").status_code == 404


def test_a_statement_of_2000_invoices_takes_a_bounded_number_of_queries(users: Any, make_org: Any, django_assert_max_num_queries: Any) -> None:
    from rapport.commerce.models import Invoice

    org = make_org()
    Invoice.objects.bulk_create([
        Invoice(card=org, currency="EUR", issued_on=dt.date(2026, 1, 1) + dt.timedelta(days=i % 150), due_on=dt.date(2026, 12, 31),
                amount=Decimal(10), open_amount=Decimal(10), external_id=f"B-{i}")
        for i in range(2000)
    ])
    with django_assert_max_num_queries(8):
        st = selectors.account_statement(org, currency="EUR", as_of=dt.date(2026, 6, 1))
    assert len(st.lines) == 2000 and st.balance == Decimal("20000")
