"""The account panel on a card page: what the customer owes, what is late, and what to do next."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.commerce import services
from rapport.commerce.tests.factories import invoice, order

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_balance_overdue_and_formatted_amounts(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    invoice(users["rep_ana"], org, "1234.50", issued="2026-01-10", due="2026-02-10", external_id="F-100")
    order(users["rep_ana"], org, "80.00")
    page = ana.get(f"/cards/{org.pk}/").content.decode()
    assert 'id="account"' in page
    assert "€1,234.50" in page and "F-100" in page
    assert "Account statement" in page and "+ Order" in page and "+ Payment" in page
    assert "1234.50" not in page.replace("€1,234.50", "")


def test_it_shows_the_credit_status_and_limit(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    services.set_credit(user=users["manager_mei"], card=org, data={"status": "hold", "limit": "5000", "currency": "EUR",
                                                                   "reason": "Pays late"})
    page = ana.get(f"/cards/{org.pk}/").content.decode()
    assert "On hold" in page and "€5,000.00" in page and "Pays late" in page


def test_a_manager_gets_the_link_to_change_credit_and_a_rep_does_not(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    assert f"/cards/{org.pk}/credit/" not in ana.get(f"/cards/{org.pk}/").content.decode()
    assert f"/cards/{org.pk}/credit/" in _client(users["manager_mei"]).get(f"/cards/{org.pk}/").content.decode()


def test_it_is_hidden_from_an_analyst_when_the_customer_has_no_commercial_record(users: Any, make_org: Any, make_person: Any) -> None:
    org = make_org()
    person = make_person()
    analyst = _client(users["analyst_al"])
    assert 'id="account"' not in analyst.get(f"/cards/{org.pk}/").content.decode()
    assert 'id="account"' not in analyst.get(f"/cards/{person.pk}/").content.decode()
    invoice(users["rep_ana"], org, "10.00")
    page = analyst.get(f"/cards/{org.pk}/").content.decode()
    assert 'id="account"' in page and "+ Order" not in page


def test_a_writer_sees_it_on_a_person_without_any_record_to_add_the_first_order(make_person: Any, ana: Client) -> None:
    person = make_person()
    page = ana.get(f"/cards/{person.pk}/").content.decode()
    assert 'id="account"' in page and f"/cards/{person.pk}/orders/new/" in page


def test_the_panel_reads_a_fixed_number_of_queries_per_currency(users: Any, make_org: Any, django_assert_max_num_queries: Any) -> None:
    from rapport.cards.selectors import get_card
    from rapport.commerce.panels import account_panel

    org = make_org()
    for i in range(5):
        invoice(users["rep_ana"], org, "10.00", external_id=f"F-{i}")
        order(users["rep_ana"], org)
    invoice(users["rep_ana"], org, "10.00", currency="USD")
    card = get_card(users["rep_ana"], org.pk)
    with django_assert_max_num_queries(12):
        assert account_panel(users["rep_ana"], card) is not None


def test_documents_without_a_number_are_named_by_kind_not_by_row_id(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "10.00")
    o = order(users["rep_ana"], org)
    for page in (ana.get(f"/cards/{org.pk}/").content.decode(), ana.get(f"/cards/{org.pk}/statement/").content.decode(),
                 ana.get(f"/orders/{o.pk}/").content.decode(), ana.get(f"/invoices/{inv.pk}/").content.decode()):
        assert f">#{inv.pk}<" not in page and f">#{o.pk}<" not in page and f"#{o.pk}</h1>" not in page
    assert "Order of 02/01/2026" in ana.get(f"/orders/{o.pk}/").content.decode()  # the reader's date format


def test_document_dates_read_in_the_readers_format_not_the_iso_form(users: Any, make_org: Any, ana: Client) -> None:
    org = make_org()
    inv = invoice(users["rep_ana"], org, "10.00")
    o = order(users["rep_ana"], org)
    english = ana.get(f"/orders/{o.pk}/").content.decode()
    assert "<dd>02/01/2026</dd>" in english and ">2026-02-01<" not in english
    ana.cookies["django_language"] = "es"
    spanish = ana.get(f"/invoices/{inv.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<dd>2026-" not in spanish and f"<dd>{inv.issued_on:%d/%m/%Y}</dd>" in spanish
