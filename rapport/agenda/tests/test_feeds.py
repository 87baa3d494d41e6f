"""What the other apps lend to the agenda through their feeds: parked prospects, promises and
visits, receivables with their collection cell, deals to close and stalled ones; each only as
far as the user may see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from rapport.agenda import selectors


def _keys(user: Any) -> set[str]:
    return {i.key.split(":")[0] for i in selectors.agenda_items(user)}


def test_a_parked_prospects_check_back_date_is_on_the_agenda(users: Any, make_org: Any) -> None:
    from rapport.funnel.services import set_qualification

    from rapport.cards.models import Card

    org = make_org(name="Maybe Later S.L.")
    Card.objects.filter(pk=org.pk).update(lifecycle_stage="prospect")
    org.refresh_from_db()
    set_qualification(user=users["rep_ana"], card=org, data={"check_back_on": timezone.localdate().isoformat()})
    items = [i for i in selectors.agenda_items(users["rep_ana"]) if i.key.startswith("funnel.check_back")]
    assert items and items[0].card_id == org.pk
    assert not [i for i in selectors.agenda_items(users["rep_bo_other_team"], owner=users["rep_ana"]) if i.key.startswith("funnel")]


def test_a_promise_due_is_on_the_agenda_of_the_rep_who_follows_it(users: Any, make_org: Any) -> None:
    from rapport.visits.services import add_promise, create_visit

    org = make_org(name="Distribuidora Norte")
    visit = create_visit(user=users["rep_ana"], data={"organization": org.pk, "date": timezone.localdate().isoformat()})
    add_promise(user=users["rep_ana"], card=org, visit=visit, data={"by": "us", "text": "Send the catalogue",
                                                          "due_on": timezone.localdate().isoformat()})
    items = selectors.agenda_items(users["rep_ana"])
    assert any(i.key.startswith("visits.promise") and i.why == "Send the catalogue" for i in items)
    assert any(i.key.startswith("visits.visit") for i in items)


def test_an_overdue_receivable_comes_with_its_collection_cell(users: Any, make_org: Any) -> None:
    from rapport.commerce.services import create_invoice

    org = make_org(name="Slow Payer S.A.")
    create_invoice(user=users["rep_ana"], card=org, data={"currency": "EUR", "amount": "120.00",
                                                "issued_on": (timezone.localdate() - dt.timedelta(days=40)).isoformat(),
                                                "due_on": (timezone.localdate() - dt.timedelta(days=10)).isoformat()})
    items = [i for i in selectors.agenda_items(users["rep_ana"]) if i.key.startswith("commerce.invoice")]
    assert items and "overdue 10 days" in items[0].why and "Routine reminder" in items[0].why
    assert not [i for i in selectors.agenda_items(users["rep_bo_other_team"], owner=users["rep_ana"]) if i.key.startswith("commerce")]


def test_a_deal_to_close_and_a_stalled_deal_are_on_the_agenda(users: Any, make_org: Any) -> None:
    from rapport.deals.models import Deal
    from rapport.deals.services import create_deal

    org = make_org(name="Buyer Co")
    deal = create_deal(user=users["rep_ana"], data={"organization": org.pk, "name": "Paint line", "currency": "EUR", "amount": "5000",
                                                    "expected_close": timezone.localdate().isoformat()})
    Deal.objects.filter(pk=deal.pk).update(step_entered_at=timezone.now() - dt.timedelta(days=45), amount=Decimal("5000"))
    keys = _keys(users["rep_ana"])
    assert {"deals.close", "deals.stalled"} <= keys
