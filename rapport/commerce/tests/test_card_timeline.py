"""Orders, invoices and payments appear on the card's timeline, newest first, with links."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards import selectors as cards
from rapport.commerce import services
from rapport.commerce.tests.factories import invoice, order

pytestmark = pytest.mark.django_db


def test_the_timeline_shows_the_commercial_record_with_links_and_formatted_amounts(users: Any, make_org: Any, ana: Any) -> None:
    org = make_org()
    o = order(users["rep_ana"], org, "49.00", on="2026-03-01", external_id="SO-5")
    inv = invoice(users["rep_ana"], org, "49.00", issued="2026-03-02", due="2026-04-01", external_id="F-5")
    services.record_payment(user=users["rep_ana"], card=org, data={"currency": "EUR", "amount": "49", "received_on": "2026-03-20",
                                                                   "allocations": [{"invoice": inv.pk, "amount": "49"}]})
    entries = [e for e in cards.timeline_of(users["rep_ana"], org) if e.type in ("order", "invoice", "payment")]
    assert [(e.type, e.title) for e in entries] == [("payment", "€49.00"), ("invoice", "F-5 · €49.00"), ("order", "SO-5 · €49.00")]
    page = ana.get(f"/cards/{org.pk}/").content.decode()
    assert f'href="/orders/{o.pk}/"' in page and "SO-5 · €49.00" in page


def test_dated_records_show_their_date_without_a_time_of_day(users: Any, make_org: Any, ana: Any) -> None:
    org = make_org()
    order(users["rep_ana"], org, "49.00", on="2026-03-01", external_id="SO-6")
    page = ana.get(f"/cards/{org.pk}/").content.decode()
    assert '<time datetime="2026-03-01">' in page and "midnight" not in page


def test_each_entry_carries_its_date_kind_title_detail_author_and_link(users: Any, make_org: Any) -> None:
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone
    from django.utils.translation import override

    from rapport.commerce import selectors
    from rapport.commerce.models import Order

    ana = users["rep_ana"]
    org = make_org()
    o = order(ana, org, "49.00", on="2026-03-01", external_id="SO-5")
    # Imported without an author, nor a number.
    bare = Order.objects.create(card=org, status="delivered", currency="USD", ordered_on=dt.date(2026, 2, 1), total=Decimal("7.5"))
    inv = invoice(ana, org, "49.00", issued="2026-03-02", due="2026-04-01", external_id="F-5")
    note = invoice(ana, org, "9.00", issued="2026-03-03", due="2026-03-03", kind="credit_note")
    pay = services.record_payment(user=ana, card=org, data={"currency": "EUR", "amount": "49", "received_on": "2026-03-20",
                                                            "kind": "advance", "method": "transfer"})

    def day(text: str) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(text), dt.time.min))

    entries = [
        (e.at, e.type, e.kind, e.title, e.detail, e.by, e.ref_id, e.label, e.url, e.dated)
        for e in selectors.timeline_entries(ana, org, 25, None)
    ]
    assert entries == [
        (day("2026-03-01"), "order", "confirmed", "SO-5 · €49.00", "Confirmed", "rep_ana", o.pk, "Order", f"/orders/{o.pk}/", True),
        (day("2026-02-01"), "order", "delivered", "Order · $7.50", "Delivered", "", bare.pk, "Order", f"/orders/{bare.pk}/", True),
        (day("2026-03-03"), "invoice", "credit_note", "Credit note · €9.00", "", "rep_ana", note.pk, "Credit note",
         f"/invoices/{note.pk}/", True),
        (day("2026-03-02"), "invoice", "invoice", "F-5 · €49.00", "due 2026-04-01", "rep_ana", inv.pk, "Invoice",
         f"/invoices/{inv.pk}/", True),
        (day("2026-03-20"), "payment", "advance", "€49.00", "transfer", "rep_ana", pay.pk, "Advance", "", True),
    ]
    with override("es"):
        spanish = selectors.timeline_entries(ana, org, 25, day("2026-03-03"))
    assert [(e.type, e.ref_id, e.label, e.detail) for e in spanish] == [
        ("order", o.pk, "Pedido", "Confirmado"),
        ("order", bare.pk, "Pedido", "Entregado"),
        ("invoice", inv.pk, "Factura", "vence el 2026-04-01"),
    ]
