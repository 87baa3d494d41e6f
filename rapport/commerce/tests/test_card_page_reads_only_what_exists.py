"""The account panel and the timeline of a card read only the kinds of commercial rows the
customer has: one query tells which, and a customer without any costs nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards.selectors import get_card
from rapport.commerce import selectors, services
from rapport.commerce.panels import account_panel
from rapport.commerce.selectors import CardRecord
from rapport.commerce.tests.factories import invoice, order

pytestmark = pytest.mark.django_db


def test_a_customer_without_commercial_record_gets_an_empty_panel_from_one_query(
    users: dict[str, Any], make_person: Any, django_assert_num_queries: Any,
) -> None:
    ana = users["rep_ana"]
    card = get_card(ana, make_person().pk)
    with django_assert_num_queries(1):
        panel = account_panel(ana, card)
    assert panel == {
        "balances": [], "credit": None, "credit_limit": "", "credit_warn": False, "orders": [], "invoices": [],
        "can_write": True, "can_set_credit": False,
    }


def test_an_analyst_gets_no_panel_for_it_from_one_query(
    users: dict[str, Any], make_org: Any, django_assert_num_queries: Any,
) -> None:
    al = users["analyst_al"]
    card = get_card(al, make_org().pk)
    with django_assert_num_queries(1):
        assert account_panel(al, card) is None


def test_its_timeline_entries_take_one_query(users: dict[str, Any], make_org: Any, django_assert_num_queries: Any) -> None:
    ana = users["rep_ana"]
    card = get_card(ana, make_org().pk)
    with django_assert_num_queries(1):
        assert selectors.timeline_entries(ana, card, 25, None) == []


def test_the_record_names_each_kind_of_row_the_customer_has(users: dict[str, Any], make_org: Any) -> None:
    ana, mei = users["rep_ana"], users["manager_mei"]
    org = make_org()
    assert selectors.card_record(org) == CardRecord(orders=False, invoices=False, payments=False, credit=False)
    invoice(ana, org, "10.00")
    assert selectors.card_record(org) == CardRecord(orders=False, invoices=True, payments=False, credit=False)
    order(ana, org)
    services.record_payment(user=ana, card=org, data={"currency": "EUR", "amount": "5", "received_on": "2026-03-20"})
    services.set_credit(user=mei, card=org, data={"status": "hold", "limit": "500", "currency": "EUR", "reason": "Pays late"})
    assert selectors.card_record(org) == CardRecord(orders=True, invoices=True, payments=True, credit=True)
    assert selectors.card_record(make_org(name="Otra S.L.")) == CardRecord(orders=False, invoices=False, payments=False, credit=False)


def test_a_customer_with_only_invoices_gets_them_without_reading_orders_payments_or_credit(
    users: dict[str, Any], make_org: Any, django_assert_num_queries: Any,
) -> None:
    ana = users["rep_ana"]
    org = make_org()
    invoice(ana, org, "1234.50", issued="2026-01-10", due="2026-02-10", external_id="F-100")
    card = get_card(ana, org.pk)
    # The record, the currencies, the statement's invoices and payments, the rep's teams (read
    # once per request) and the open invoices.
    with django_assert_num_queries(6):
        panel = account_panel(ana, card)
    assert panel is not None
    assert panel["balances"] == [{"currency": "EUR", "balance": "€1,234.50", "overdue": "€1,234.50", "has_overdue": True,
                                  "is_credit": False}]
    assert [(row["invoice"].external_id, row["open"]) for row in panel["invoices"]] == [("F-100", "€1,234.50")]
    assert panel["orders"] == [] and panel["credit"] is None
    with django_assert_num_queries(2):
        entries = selectors.timeline_entries(ana, card, 25, None)
    assert [(e.type, e.title, e.detail) for e in entries] == [("invoice", "F-100 · €1,234.50", "due 2026-02-10")]


def test_a_customer_with_only_a_credit_profile_shows_it(
    users: dict[str, Any], make_org: Any, django_assert_num_queries: Any,
) -> None:
    ana = users["rep_ana"]
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "limit": "500", "currency": "EUR",
                                                                   "reason": "Pays late"})
    card = get_card(ana, org.pk)
    with django_assert_num_queries(2):
        panel = account_panel(ana, card)
    assert panel is not None and panel["credit"].status == "hold" and panel["credit_limit"] == "€500.00"
    assert panel["credit_warn"] and panel["balances"] == [] and panel["orders"] == [] and panel["invoices"] == []


def test_the_card_page_of_a_customer_without_record_still_offers_the_first_order(make_person: Any, ana: Any) -> None:
    person = make_person()
    page = ana.get(f"/cards/{person.pk}/").content.decode()
    assert "No invoices or payments yet." in page and f"/cards/{person.pk}/orders/new/" in page
    assert "Open invoices" not in page and "Last orders" not in page
