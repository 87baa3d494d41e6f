"""Erasing a person who bought keeps the accounting record true and removes what named them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.commerce import collection, services
from rapport.commerce.models import CollectionTask, Invoice, Order
from rapport.commerce.tests.factories import invoice, order

pytestmark = pytest.mark.django_db


def test_erasure_keeps_amounts_and_numbers_and_empties_notes_and_letters(users: Any, make_person: Any) -> None:
    from rapport.privacy.services import erase_person

    person = make_person(given_name="Lucía", family_name="Pérez")
    order(users["rep_ana"], person, "80.00", external_id="SO-9", note="Deliver to Lucía's garage, Calle Mayor 3")
    due = (dt.date.today() - dt.timedelta(days=5)).isoformat()
    inv = invoice(users["rep_ana"], person, "80.00", issued="2026-01-01", due=due, external_id="F-9", note="Lucía asked for paper")
    services.set_non_payment(user=users["rep_ana"], invoice=inv, cause="unwilling", note="Lucía says she is broke")
    collection.generate_tasks()
    assert "Lucía" in CollectionTask.objects.get().letter
    erase_person(user=users["admin"], card_id=person.pk)
    kept_order, kept_invoice = Order.objects.get(), Invoice.objects.get()
    assert (kept_order.external_id, kept_order.total, kept_order.note) == ("SO-9", Decimal("80.0000"), "")
    assert (kept_invoice.external_id, kept_invoice.amount, kept_invoice.note, kept_invoice.non_payment_note) == ("F-9", Decimal("80.0000"), "", "")
    assert kept_invoice.non_payment == "unwilling"
    assert CollectionTask.objects.get().letter == ""


def test_a_merge_moves_orders_and_invoices_to_the_survivor_with_its_owner_and_team(users: Any, make_org: Any) -> None:
    from rapport.dedup.services import merge_cards

    survivor = make_org(name="Ferretería López", owner="rep_bo_other_team")
    loser = make_org(name="Ferreteria Lopez")
    order(users["rep_ana"], loser, "10.00")
    inv = invoice(users["rep_ana"], loser, "10.00")
    services.set_credit(user=users["admin"], card=survivor, data={"limit": "100", "currency": "EUR"})
    services.set_credit(user=users["admin"], card=loser, data={"limit": "900", "currency": "EUR"})
    merge_cards(user=users["admin"], survivor=survivor, loser=loser)
    inv.refresh_from_db()
    assert Order.objects.get().card_id == survivor.pk and inv.card_id == survivor.pk
    assert (inv.owner_id, inv.team_id) == (survivor.owner_id, survivor.team_id)
    assert services.exposure(survivor, "EUR") == Decimal("20")  # the open invoice and the order not yet invoiced
