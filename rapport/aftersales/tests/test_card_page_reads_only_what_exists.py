"""The after-sales panel and timeline of a card read only the kinds of rows the customer has:
one query tells which, and a customer without any costs nothing more (the case form still
lists who may be assigned)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.aftersales import selectors, services
from rapport.aftersales.selectors import CardRecord
from rapport.aftersales.tests.factories import check_for, order, satisfied
from rapport.aftersales.views import panel_context
from rapport.cards.selectors import get_card

pytestmark = pytest.mark.django_db

NOTHING = CardRecord(checks=False, done_checks=False, open_cases=False, resolved_cases=False, referral_requests=False,
                     orders=False)


def test_a_customer_without_after_sales_gets_an_empty_panel_from_two_queries(
    users: dict[str, Any], make_org: Any, django_assert_num_queries: Any,
) -> None:
    ana = users["rep_ana"]
    card = get_card(ana, make_org().pk)
    # The record, and the people a new case may be assigned to.
    with django_assert_num_queries(2):
        panel = panel_context(ana, card)
    assert panel["checks"] == [] and panel["open_cases"] == [] and panel["resolved_cases"] == [] and panel["requests"] == []
    assert panel["satisfied_check"] is None and not panel["may_ask"] and panel["can_write"]
    assert panel["case_form"].fields["order"].widget.choices == [("", "—")]
    assert [name for _pk, name in panel["case_form"].fields["assigned_to"].widget.choices[1:]] == ["manager_mei", "rep_ana", "rep_ben"]


def test_an_analyst_reads_it_in_one_query(users: dict[str, Any], make_org: Any, django_assert_num_queries: Any) -> None:
    al = users["analyst_al"]
    card = get_card(al, make_org().pk)
    with django_assert_num_queries(1):
        panel = panel_context(al, card)
    assert panel["case_form"] is None and panel["checks"] == [] and panel["open_cases"] == []


def test_its_timeline_entries_take_one_query(users: dict[str, Any], make_org: Any, django_assert_num_queries: Any) -> None:
    ana = users["rep_ana"]
    card = get_card(ana, make_org().pk)
    with django_assert_num_queries(1):
        assert selectors.timeline_entries(ana, card, 25, None) == []


def test_the_record_names_each_kind_of_row_the_customer_has(users: dict[str, Any], make_org: Any) -> None:
    ana = users["rep_ana"]
    card = make_org()
    assert selectors.card_record(card) == NOTHING
    order(card)
    assert selectors.card_record(card) == CardRecord(**{**NOTHING.__dict__, "orders": True})
    case = services.open_case(user=ana, card=card, data={"subject": "Pantalla rota"})
    assert selectors.card_record(card) == CardRecord(**{**NOTHING.__dict__, "orders": True, "open_cases": True})
    services.resolve_case(user=ana, case=case, resolution="Cambiada")
    assert selectors.card_record(card) == CardRecord(**{**NOTHING.__dict__, "orders": True, "resolved_cases": True})
    check_for(card)
    assert selectors.card_record(card).checks and not selectors.card_record(card).done_checks
    referrer = make_org(name="Referente S.L.")
    satisfied(referrer, ana)
    services.ask_for_referrals(user=ana, card=referrer, data={})
    assert selectors.card_record(referrer) == CardRecord(checks=True, done_checks=True, open_cases=False, resolved_cases=False,
                                                         referral_requests=True, orders=True)
    assert selectors.card_record(make_org(name="Otra S.L.")) == NOTHING


def test_a_customer_with_only_a_resolved_case_gets_it_without_reading_the_rest(
    users: dict[str, Any], make_org: Any, django_assert_num_queries: Any,
) -> None:
    ana = users["rep_ana"]
    card = make_org()
    case = services.open_case(user=ana, card=card, data={"kind": "complaint", "subject": "Pantalla rota"})
    services.resolve_case(user=ana, case=case, resolution="Cambiada")
    card = get_card(ana, card.pk)
    # The record, the resolved cases, and the people a new case may be assigned to.
    with django_assert_num_queries(3):
        panel = panel_context(ana, card)
    assert [c.subject for c in panel["resolved_cases"]] == ["Pantalla rota"] and panel["open_cases"] == []
    with django_assert_num_queries(2):
        entries = selectors.timeline_entries(ana, card, 25, None)
    assert [(e.type, e.title, e.label, e.detail) for e in entries] == [("case", "Pantalla rota", "Complaint", "Cambiada")]


def test_a_case_form_lists_the_customers_orders_once_it_has_some(users: dict[str, Any], make_org: Any) -> None:
    ana = users["rep_ana"]
    card = make_org()
    placed = order(card, number="SO-7")
    panel = panel_context(ana, get_card(ana, card.pk))
    assert panel["case_form"].fields["order"].widget.choices == [("", "—"), (str(placed.pk), "SO-7 of 2026-02-20")]


def test_the_card_page_of_a_customer_without_after_sales_says_so(users: dict[str, Any], make_org: Any) -> None:
    card = make_org()
    client = Client()
    client.force_login(users["rep_ana"])
    page = client.get(f"/cards/{card.pk}/").content.decode()
    assert "No deliveries to follow up yet." in page and "No open cases." in page
    assert f"/cards/{card.pk}/aftersales/cases/" in page and "Recently resolved" not in page
