"""A person erased as a deal's customer, and the exit checklists administrators edit."""

import json
from typing import Any

from django.test import Client

from rapport.deals import services
from rapport.deals.models import Deal, Need, StepMove, StepSignal


def test_erasing_a_person_keeps_the_deals_numbers_and_drops_every_text(users: Any, make_person: Any, make_deal: Any) -> None:
    from rapport.privacy.services import erase_person

    person = make_person(given_name="Elena", family_name="Ionescu")
    deal = make_deal(card=person, name="Kitchen for Elena Ionescu", description="Wants it before her wedding")
    services.add_need(user=users["rep_ana"], deal=deal, data={"kind": "goal", "text": "Move in by June"})
    services.move_step(user=users["rep_ana"], deal=deal, to="build_trust", override_reason="Elena is in a hurry")
    erase_person(user=users["admin"], card_id=person.pk)
    deal.refresh_from_db()
    assert (deal.name, deal.description, deal.amount, deal.step) == ("—", "", 120000, "build_trust")
    assert not Need.objects.filter(deal=deal).exists()
    assert not StepMove.objects.filter(deal=deal).exclude(override_reason="").exists()


def test_an_admin_rewords_an_exit_signal_and_deals_show_the_new_words(users: Any, make_deal: Any) -> None:
    admin = Client()
    admin.force_login(users["admin"])
    signal = StepSignal.objects.get(step="discover_needs", key="written_request")
    page = admin.get(f"/admin/deals/stepsignal/{signal.pk}/change/")
    assert page.status_code == 200
    labels = {"en": "The customer has sent a written request for quotation", "es": "El cliente ha pedido una oferta por escrito"}
    response = admin.post(f"/admin/deals/stepsignal/{signal.pk}/change/", {
        "labels": json.dumps(labels), "position": 0, "active": "on",
    })
    assert response.status_code == 302, response.content[:500]
    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="discover_needs", override_reason="Known customer")
    deal = Deal.objects.get(pk=deal.pk)
    assert [i.label for i in services.exit_checklist(deal)] == [labels["en"]]


def test_a_rep_may_not_open_the_checklist_admin(users: Any) -> None:
    rep = Client()
    rep.force_login(users["rep_ana"])
    assert rep.get("/admin/deals/stepsignal/").status_code in (302, 403)
