"""Credit limits and holds: an order that would exceed the limit waits for a manager's decision."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.commerce import services
from rapport.commerce.evidence import evidence
from rapport.commerce.tests.factories import api, invoice, order, post
from rapport.core.errors import PermissionDenied, ValidationError

pytestmark = pytest.mark.django_db


def test_an_order_over_the_credit_limit_waits_for_approval_and_is_no_evidence_until_approved(users: Any, make_org: Any) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"limit": "1000", "currency": "EUR"})
    invoice(users["rep_ana"], org, "900.00")
    held = order(users["rep_ana"], org, "200.00")
    assert held.approval == "pending" and "credit limit" in held.approval_reason
    assert evidence.order_dates([org.pk]) == {}
    services.decide_order(user=users["manager_mei"], order=held, approve=True, note="Good payer")
    assert evidence.order_dates([org.pk]) == {org.pk: [held.ordered_on]}


def test_an_order_within_the_limit_needs_no_approval(users: Any, make_org: Any) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"limit": "1000", "currency": "EUR"})
    assert order(users["rep_ana"], org, "999.99").approval == ""


def test_any_order_for_a_customer_on_hold_needs_approval(users: Any, make_org: Any) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "reason": "Cheque bounced"})
    assert order(users["rep_ana"], org, "1.00").approval == "pending"


def test_a_hold_needs_a_reason_and_only_managers_of_the_team_set_credit(users: Any, make_org: Any) -> None:
    org = make_org()
    with pytest.raises(ValidationError):
        services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold"})
    with pytest.raises(PermissionDenied):
        services.set_credit(user=users["rep_ana"], card=org, data={"status": "watch", "reason": "late"})
    response = api(users["rep_ana"]).put(f"/api/v1/organizations/{org.pk}/credit", {"status": "ok"}, content_type="application/json")
    assert response.status_code == 403


def test_a_rep_cannot_approve_and_a_refusal_needs_a_reason(users: Any, make_org: Any) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "reason": "Dispute"})
    held = order(users["rep_ana"], org, "5.00")
    with pytest.raises(PermissionDenied):
        services.decide_order(user=users["rep_ana"], order=held, approve=True)
    with pytest.raises(ValidationError):
        services.decide_order(user=users["manager_mei"], order=held, approve=False)
    refused = post(api(users["manager_mei"]), f"/api/v1/orders/{held.pk}/approval", {"approve": False, "note": "Pay first"})
    assert refused.status_code == 200 and refused.json()["approval"] == "refused"
    again = post(api(users["manager_mei"]), f"/api/v1/orders/{held.pk}/approval", {"approve": True})
    assert again.status_code == 422


def test_the_credit_api_shows_limit_status_and_exposure(users: Any, make_org: Any) -> None:
    org = make_org()
    client = api(users["manager_mei"])
    put = client.put(f"/api/v1/organizations/{org.pk}/credit", {"limit": "500", "currency": "EUR", "status": "watch",
                                                                "reason": "New customer"}, content_type="application/json")
    assert put.status_code == 200, put.content
    invoice(users["rep_ana"], org, "120.00")
    got = api(users["rep_ana"]).get(f"/api/v1/organizations/{org.pk}/credit").json()
    assert (got["status"], got["limit"], got["set_by"]) == ("watch", "500.00", "manager_mei")
    assert got["exposure"] == "120.00"
