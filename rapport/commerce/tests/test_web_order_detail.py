"""The order page: lines and total, status and delivery dates, and the credit decision."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.commerce import services
from rapport.commerce.models import Approval, OrderStatus
from rapport.commerce.tests.factories import order

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _over_limit(users: Any, org: Any) -> Any:
    services.set_credit(user=users["manager_mei"], card=org, data={"limit": "100", "currency": "EUR"})
    return order(users["rep_ana"], org, "500.00")


def test_it_shows_the_lines_and_the_formatted_total(users: Any, make_org: Any, ana: Client, django_assert_max_num_queries: Any) -> None:
    org = make_org()
    o = order(users["rep_ana"], org, "1500.00")
    with django_assert_max_num_queries(8):
        page = ana.get(f"/orders/{o.pk}/").content.decode()
    assert "€1,500.00" in page and "Goods" in page


def test_a_rep_marks_an_order_delivered_and_accepted(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    o = order(users["rep_ana"], org)
    response = ana.post(f"/orders/{o.pk}/status/", {"status": "delivered", "delivered_on": "2026-02-05",
                                                    "accepted_on": "2026-02-06", "version": o.version})
    assert response.status_code == 302
    o.refresh_from_db()
    assert o.status == OrderStatus.DELIVERED and str(o.delivered_on) == "2026-02-05" and str(o.accepted_on) == "2026-02-06"


def test_acceptance_before_delivery_is_refused(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    o = order(users["rep_ana"], org)
    response = ana.post(f"/orders/{o.pk}/status/", {"status": "confirmed", "accepted_on": "2026-02-06", "version": o.version})
    assert response.status_code == 422
    o.refresh_from_db()
    assert o.accepted_on is None


def test_a_stale_version_is_refused_with_a_message(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    o = order(users["rep_ana"], org)
    response = ana.post(f"/orders/{o.pk}/status/", {"status": "delivered", "version": o.version + 5})
    assert response.status_code == 422 and "changed since you loaded it" in response.content.decode()


def test_an_order_over_the_limit_waits_and_the_manager_approves_it(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    o = _over_limit(users, org)
    assert o.approval == Approval.PENDING
    page = ana.get(f"/orders/{o.pk}/").content.decode()
    assert "Waiting for a manager" in page and 'value="approve"' not in page
    assert ana.post(f"/orders/{o.pk}/decision/", {"decision": "approve"}).status_code == 403
    mei = _client(users["manager_mei"])
    assert 'value="approve"' in mei.get(f"/orders/{o.pk}/").content.decode()
    assert mei.post(f"/orders/{o.pk}/decision/", {"decision": "approve"}).status_code == 302
    o.refresh_from_db()
    assert o.approval == Approval.APPROVED and o.approved_by == users["manager_mei"]


def test_refusing_needs_a_reason(users: Any, make_org: Any) -> None:
    org = make_org()
    o = _over_limit(users, org)
    mei = _client(users["manager_mei"])
    response = mei.post(f"/orders/{o.pk}/decision/", {"decision": "refuse", "note": ""})
    assert response.status_code == 422 and "Say why the order is refused." in response.content.decode()
    o.refresh_from_db()
    assert o.approval == Approval.PENDING


def test_another_teams_order_is_not_found(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org(owner="rep_bo_other_team")
    o = order(users["rep_bo_other_team"], org)
    assert ana.get(f"/orders/{o.pk}/").status_code == 404
    assert ana.post(f"/orders/{o.pk}/status/", {"status": "cancelled"}).status_code == 404
    o.refresh_from_db()
    assert o.status == OrderStatus.CONFIRMED


def test_an_analyst_reads_the_order_but_cannot_change_it(users: Any, make_org: Any) -> None:
    org = make_org()
    o = order(users["rep_ana"], org)
    analyst = _client(users["analyst_al"])
    assert analyst.get(f"/orders/{o.pk}/").status_code == 200
    assert analyst.post(f"/orders/{o.pk}/status/", {"status": "cancelled", "version": o.version}).status_code == 403
    o.refresh_from_db()
    assert o.status == OrderStatus.CONFIRMED
