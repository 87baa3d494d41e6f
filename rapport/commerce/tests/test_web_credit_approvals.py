"""The list of orders waiting for a credit decision, decided from the list by a manager."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.commerce import services
from rapport.commerce.models import Approval
from rapport.commerce.tests.factories import order

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_sees_pending_orders_and_refuses_one_with_a_reason(users: Any, make_org: Any) -> None:
    org = make_org(name="Ferretería Sur")
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "reason": "Unpaid since May"})
    o = order(users["rep_ana"], org, "2500.00")
    mei = _client(users["manager_mei"])
    page = mei.get("/credit-approvals/").content.decode()
    assert "Ferretería Sur" in page and "€2,500.00" in page and "on hold" in page
    response = mei.post(f"/orders/{o.pk}/decision/", {"decision": "refuse", "note": "Pay first", "back": "approvals"})
    assert response.status_code == 302 and response["Location"] == "/credit-approvals/"
    o.refresh_from_db()
    assert o.approval == Approval.REFUSED and o.approval_note == "Pay first"


def test_a_refusal_without_a_reason_from_the_list_comes_back_with_the_error(users: Any, make_org: Any) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "reason": "Unpaid"})
    o = order(users["rep_ana"], org)
    mei = _client(users["manager_mei"])
    response = mei.post(f"/orders/{o.pk}/decision/", {"decision": "refuse", "back": "approvals"}, follow=True)
    assert "Say why the order is refused." in response.content.decode()
    o.refresh_from_db()
    assert o.approval == Approval.PENDING


def test_a_rep_sees_the_list_without_decision_buttons(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "reason": "Unpaid"})
    order(users["rep_ana"], org)
    page = ana.get("/credit-approvals/").content.decode()
    assert "A manager of this customer" in page and 'value="approve"' not in page


def test_another_teams_pending_orders_are_not_listed(users: Any, make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team", name="South Co")
    services.set_credit(user=users["admin"], card=org, data={"status": "hold", "reason": "Unpaid"})
    order(users["rep_bo_other_team"], org)
    assert "South Co" not in _client(users["manager_mei"]).get("/credit-approvals/").content.decode()


def test_the_manager_sees_what_the_customer_owes_and_what_is_late(users: Any, make_org: Any,
                                                                  django_assert_max_num_queries: Any) -> None:
    from rapport.commerce.tests.factories import invoice

    for i in range(3):
        org = make_org(name=f"Customer {i}")
        services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "limit": "900", "currency": "EUR",
                                                                       "reason": "Unpaid since May"})
        invoice(users["rep_ana"], org, "700.00", issued="2026-01-01", due="2026-02-01")
        invoice(users["rep_ana"], org, "50.00", issued="2026-01-01", due="2099-01-01")
        order(users["rep_ana"], org)
    mei = _client(users["manager_mei"])
    with django_assert_max_num_queries(8):
        page = mei.get("/credit-approvals/").content.decode()
    assert page.count("€750.00") == 3 and page.count("€700.00") == 3 and page.count("€900.00") == 3
