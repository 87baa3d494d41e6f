"""Orders are the funnel's evidence: first order → customer, repeated orders → regular, revenue → ABC tiers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.cards.models import Card, StageChange
from rapport.commerce import services
from rapport.commerce.evidence import evidence
from rapport.commerce.models import ExchangeRate
from rapport.commerce.tests.factories import order
from rapport.funnel import rules

pytestmark = pytest.mark.django_db


def test_the_commerce_app_is_the_registered_order_evidence() -> None:
    assert rules.order_evidence() is evidence


def test_a_first_order_makes_a_prospect_a_customer_with_the_rule_recorded(users: Any, make_org: Any) -> None:
    org = make_org()
    Card.objects.filter(pk=org.pk).update(lifecycle_stage="prospect")
    order(users["rep_ana"], org, "10.00", on=dt.date.today().isoformat())
    org.refresh_from_db()
    assert org.lifecycle_stage == "customer"
    change = StageChange.objects.filter(card=org).order_by("-id").first()
    assert change is not None and change.rule == "first_order" and change.to_stage == "customer"


def test_drafts_cancelled_and_held_orders_are_no_evidence(users: Any, make_org: Any) -> None:
    org = make_org()
    order(users["rep_ana"], org, "10.00", status="draft")
    cancelled = order(users["rep_ana"], org, "10.00")
    services.change_order(user=users["rep_ana"], order=cancelled, data={"status": "cancelled"})
    assert evidence.order_dates([org.pk]) == {}
    assert evidence.revenue([org.pk]) == {}


def test_repeated_orders_make_a_regular_customer(users: Any, make_org: Any) -> None:
    org = make_org()
    today = dt.date.today()
    for days in (200, 120, 40):
        order(users["rep_ana"], org, "10.00", on=(today - dt.timedelta(days=days)).isoformat())
    org.refresh_from_db()
    assert org.lifecycle_stage == "regular"


def test_revenue_converts_other_currencies_with_the_rate_valid_on_the_order_date(users: Any, make_org: Any) -> None:
    org = make_org()
    order(users["rep_ana"], org, "100.00", on="2026-01-10")
    order(users["rep_ana"], org, "500.00", on="2026-01-10", currency="RON")
    order(users["rep_ana"], org, "1000.00", on="2026-01-10", currency="CNY")  # no rate: counts nothing
    ExchangeRate.objects.create(currency="RON", valid_from=dt.date(2025, 1, 1), rate=Decimal("0.2"))
    ExchangeRate.objects.create(currency="RON", valid_from=dt.date(2026, 6, 1), rate=Decimal("0.1"))
    assert evidence.revenue([org.pk]) == {org.pk: pytest.approx(200.0)}


def test_segments_refresh_gives_abc_tiers_by_order_revenue(users: Any, make_org: Any) -> None:
    from rapport.segments.services import refresh

    big, mid, small = make_org(name="Grande"), make_org(name="Mediano"), make_org(name="Pequeño")
    for card, amount in ((big, "8000"), (mid, "1500"), (small, "500")):
        order(users["rep_ana"], card, amount, on="2026-01-10")
    refresh(today=dt.date(2026, 2, 1))
    tiers = dict(Card.objects.filter(pk__in=[big.pk, mid.pk, small.pk]).values_list("display_name", "tier"))
    assert tiers == {"Grande": "A", "Mediano": "B", "Pequeño": "C"}
