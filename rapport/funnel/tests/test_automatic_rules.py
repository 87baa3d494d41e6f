"""Stages that move by themselves from order evidence, with the rule and evidence on the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.cards import selectors as cards
from rapport.cards.models import StageChange
from rapport.funnel import rules, services
from rapport.funnel.tests.factories import FakeOrders, api, orders

TODAY = dt.date(2026, 6, 1)


def days_ago(*days: int) -> list[dt.date]:
    return [TODAY - dt.timedelta(days=d) for d in days]


def test_without_an_orders_app_nothing_moves(users: Any, make_org: Any) -> None:
    make_org(lifecycle_stage="customer")
    assert rules.order_evidence() is None
    assert services.apply_order_evidence(today=TODAY) == []


def test_a_first_order_makes_a_target_a_customer_and_the_timeline_names_the_rule(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    with orders(FakeOrders({org.id: days_ago(3)})):
        moves = services.apply_order_evidence(today=TODAY)
    assert [(m.from_stage, m.to_stage, m.rule) for m in moves] == [("prospect", "customer", "first_order")]
    assert moves[0].changed_by is None and moves[0].evidence["orders"] == 1
    entry = cards.timeline_of(users["rep_ana"], org)[0]
    assert entry.type == "stage" and entry.rule == "First order"
    history = api(users["rep_ana"]).get(f"/api/v1/organizations/{org.id}/stage-history").json()["items"][0]
    assert history["rule"] == "first_order" and history["changed_by"] is None and history["evidence"]["last_order"] == "2026-05-29"


def test_three_orders_within_twelve_months_make_a_regular_customer(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="customer")
    with orders(FakeOrders({org.id: days_ago(100, 60, 20)})):
        moves = services.apply_order_evidence(today=TODAY)
    assert [(m.to_stage, m.rule) for m in moves] == [("regular", "regular_orders")]
    assert moves[0].evidence["orders_in_window"] == 3


def test_two_orders_are_not_enough_for_regular(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="customer")
    with orders(FakeOrders({org.id: days_ago(60, 20)})):
        assert services.apply_order_evidence(today=TODAY) == []


def test_a_regular_silent_for_longer_than_twice_its_usual_interval_goes_dormant(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="customer")
    StageChange.objects.all().delete()
    org.lifecycle_stage = "regular"
    org.save()
    # Ordered every 30 days, last one 90 days ago: the allowed gap is max(60, 2 × 30) = 60 days.
    with orders(FakeOrders({org.id: days_ago(180, 150, 120, 90)})):
        moves = services.apply_order_evidence(today=TODAY)
    assert [(m.from_stage, m.to_stage, m.rule) for m in moves] == [("regular", "dormant", "no_recent_order")]
    assert moves[0].evidence["usual_interval_days"] == 30 and moves[0].evidence["silent_days"] == 90


def test_a_dormant_customer_who_orders_again_is_a_customer_again(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="customer")
    org.lifecycle_stage = "dormant"
    org.save()
    with orders(FakeOrders({org.id: days_ago(400, 5)})):
        moves = services.apply_order_evidence(today=TODAY)
    assert [(m.to_stage, m.rule) for m in moves] == [("customer", "order_after_pause")]


def test_running_the_rules_twice_moves_nothing_the_second_time(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="suspect")
    with orders(FakeOrders({org.id: days_ago(10)})):
        assert len(services.apply_order_evidence(today=TODAY)) == 1
        assert services.apply_order_evidence(today=TODAY) == []


def test_future_dated_orders_are_not_evidence(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    with orders(FakeOrders({org.id: [TODAY + dt.timedelta(days=3)]})):
        assert services.apply_order_evidence(today=TODAY) == []
