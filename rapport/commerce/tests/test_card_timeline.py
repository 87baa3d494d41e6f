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
