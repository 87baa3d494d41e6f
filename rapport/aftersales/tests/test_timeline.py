"""Complaints and answered satisfaction checks appear on the card's timeline."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.aftersales import services
from rapport.cards import selectors as cards

pytestmark = pytest.mark.django_db


def test_an_opened_complaint_is_on_the_cards_timeline(users: Any, make_org: Any) -> None:
    org = make_org()
    services.open_case(user=users["rep_ana"], card=org, data={"kind": "complaint", "subject": "Broken pallets on delivery"})
    entries = [e for e in cards.timeline_of(users["rep_ana"], org) if e.type == "case"]
    assert [(e.title, e.label, e.detail) for e in entries] == [("Broken pallets on delivery", "Complaint", "Open")]
