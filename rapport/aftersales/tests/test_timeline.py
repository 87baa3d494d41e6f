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


def test_each_entry_carries_its_time_kind_title_detail_and_author(users: Any, make_org: Any) -> None:
    from django.utils.translation import override

    from rapport.aftersales import selectors
    from rapport.aftersales.models import SatisfactionCheck, ServiceCase
    from rapport.aftersales.tests.factories import check_for, satisfied

    ana = users["rep_ana"]
    org = make_org()
    done = satisfied(org, ana, score=4)
    check_for(org)  # pending: not on the timeline
    # A check answered through an import, without an author.
    unsigned = check_for(org)
    SatisfactionCheck.objects.filter(pk=unsigned.pk).update(score=2, comment="Tarde", done_at=done.done_at)
    resolved = services.open_case(user=ana, card=org, data={"kind": "service", "subject": "Instalación"})
    resolved = services.resolve_case(user=ana, case=resolved, resolution="Instalado")
    opened = services.open_case(user=ana, card=org, data={"kind": "complaint", "subject": "Pantalla rota"})
    ServiceCase.objects.filter(pk=opened.pk).update(opened_by=None)
    opened.refresh_from_db()
    resolved.refresh_from_db()
    entries = [(e.at, e.type, e.kind, e.title, e.detail, e.by, e.ref_id, e.label, e.url, e.dated)
               for e in selectors.timeline_entries(ana, org, 25, None)]
    assert entries == [
        (opened.opened_at, "case", "complaint", "Pantalla rota", "Open", "", opened.pk, "Complaint", "", False),
        (resolved.opened_at, "case", "service", "Instalación", "Instalado", "rep_ana", resolved.pk, "Service request", "", False),
        (done.done_at, "satisfaction", "check", "Satisfaction 2 of 5", "Tarde", "", unsigned.pk, "Satisfaction", "", False),
        (done.done_at, "satisfaction", "check", "Satisfaction 4 of 5", "Muy contentos", "rep_ana", done.pk, "Satisfaction", "", False),
    ]
    with override("es"):
        spanish = selectors.timeline_entries(ana, org, 1, opened.opened_at)
    assert [(e.type, e.ref_id, e.title, e.detail, e.label) for e in spanish] == [
        ("case", resolved.pk, "Instalación", "Instalado", "Solicitud de servicio"),
        ("satisfaction", unsigned.pk, "Satisfacción: 2 de 5", "Tarde", "Satisfacción"),
    ]
