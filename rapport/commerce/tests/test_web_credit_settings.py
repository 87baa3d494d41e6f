"""A manager sets a customer's credit limit and status on the web; others may not."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rapport.commerce.models import CreditProfile

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_sets_a_limit_and_puts_a_customer_on_watch(users: Any, make_org: Any) -> None:
    org = make_org()
    mei = _client(users["manager_mei"])
    assert mei.get(f"/cards/{org.pk}/credit/").status_code == 200
    response = mei.post(f"/cards/{org.pk}/credit/", {"status": "watch", "limit": "2500", "currency": "EUR", "reason": "Slow payer"})
    assert response.status_code == 302
    profile = CreditProfile.objects.get(card=org)
    assert profile.status == "watch" and profile.limit == Decimal("2500.0000")


def test_on_hold_without_a_reason_is_refused(users: Any, make_org: Any) -> None:
    org = make_org()
    response = _client(users["manager_mei"]).post(f"/cards/{org.pk}/credit/", {"status": "hold", "limit": "", "currency": "EUR"})
    assert response.status_code == 422 and "Say why" in response.content.decode()
    assert not CreditProfile.objects.exists()


def test_a_malformed_limit_is_refused(users: Any, make_org: Any) -> None:
    org = make_org()
    response = _client(users["manager_mei"]).post(f"/cards/{org.pk}/credit/", {"status": "ok", "limit": "2.500,00", "currency": "EUR"})
    assert response.status_code == 422
    assert not CreditProfile.objects.exists()


def test_a_rep_and_an_analyst_may_not_set_credit(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    assert ana.get(f"/cards/{org.pk}/credit/").status_code == 403
    assert ana.post(f"/cards/{org.pk}/credit/", {"status": "ok", "limit": "1"}).status_code == 403
    assert _client(users["analyst_al"]).post(f"/cards/{org.pk}/credit/", {"status": "ok", "limit": "1"}).status_code == 403
    assert not CreditProfile.objects.exists()


def test_another_teams_manager_does_not_find_the_customer(users: Any, make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team")
    assert _client(users["manager_mei"]).get(f"/cards/{org.pk}/credit/").status_code == 404
