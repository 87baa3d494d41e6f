"""Scheduling: every delivered order gets one satisfaction check, due some days after delivery."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.aftersales.models import SatisfactionCheck
from rapport.aftersales.services import schedule_satisfaction_checks
from rapport.aftersales.tests.factories import DELIVERED, order
from rapport.audit.models import AuditEntry
from rapport.commerce.models import OrderStatus


def test_a_delivered_order_gets_a_check_due_14_days_after_delivery(make_org: Any) -> None:
    card = make_org()
    placed = order(card)
    assert schedule_satisfaction_checks(today=DELIVERED) == 1
    check = SatisfactionCheck.objects.get(order=placed)
    assert check.card_id == card.pk and check.due_on == DELIVERED + dt.timedelta(days=14) and check.score is None


def test_the_delay_follows_the_setting(make_org: Any, settings: Any) -> None:
    settings.RAPPORT_SATISFACTION_AFTER_DAYS = 3
    placed = order(make_org())
    schedule_satisfaction_checks(today=DELIVERED)
    assert SatisfactionCheck.objects.get(order=placed).due_on == DELIVERED + dt.timedelta(days=3)


def test_scheduling_twice_creates_nothing_twice(make_org: Any) -> None:
    card = make_org()
    order(card)
    order(card, delivered_on=DELIVERED - dt.timedelta(days=1))
    assert schedule_satisfaction_checks(today=DELIVERED) == 2
    assert schedule_satisfaction_checks(today=DELIVERED) == 0
    assert SatisfactionCheck.objects.count() == 2


def test_orders_not_delivered_or_delivered_later_or_of_archived_customers_get_none(make_org: Any) -> None:
    from django.utils import timezone

    from rapport.cards.models import Card

    card = make_org()
    order(card, status=OrderStatus.CONFIRMED, delivered_on=None)
    order(card, status=OrderStatus.CANCELLED, delivered_on=None)
    order(card, delivered_on=DELIVERED + dt.timedelta(days=1))
    archived = make_org(name="Cerrada S.L.")
    order(archived)
    Card.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    assert schedule_satisfaction_checks(today=DELIVERED) == 0


def test_each_scheduled_check_is_in_the_audit_log(make_org: Any) -> None:
    order(make_org())
    schedule_satisfaction_checks(today=DELIVERED)
    check = SatisfactionCheck.objects.get()
    entry = AuditEntry.objects.get(record_type="aftersales.satisfactioncheck", action="create")
    assert entry.record_id == str(check.pk) and entry.detail["order"] == check.order_id


def test_an_order_marked_delivered_gets_its_check_at_once(make_org: Any, users: Any) -> None:
    from rapport.commerce.services import change_order, create_order

    card = make_org()
    placed = create_order(user=users["rep_ana"], card=card, data={
        "currency": "EUR", "ordered_on": "2026-11-02", "lines": [{"description": "Pallet racks", "quantity": 2, "unit_price": "400"}],
    })
    assert not SatisfactionCheck.objects.filter(order=placed).exists()
    change_order(user=users["rep_ana"], order=placed, data={"status": "delivered", "delivered_on": "2026-11-20"})
    check = SatisfactionCheck.objects.get(order=placed)
    assert check.due_on == dt.date(2026, 11, 20) + dt.timedelta(days=14)
    assert schedule_satisfaction_checks(today=dt.date(2026, 12, 31)) == 0  # the nightly run finds nothing left


def test_an_order_entered_as_delivered_gets_its_check_at_once(make_org: Any, users: Any) -> None:
    from rapport.commerce.services import create_order

    placed = create_order(user=users["rep_ana"], card=make_org(), data={
        "currency": "EUR", "ordered_on": "2026-11-02", "status": "delivered", "delivered_on": "2026-11-03",
        "lines": [{"description": "Pallet racks", "quantity": 2, "unit_price": "400"}],
    })
    assert SatisfactionCheck.objects.get(order=placed).due_on == dt.date(2026, 11, 17)
