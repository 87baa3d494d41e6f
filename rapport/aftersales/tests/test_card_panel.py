"""The after-sales panel on a card page and its htmx forms: open and resolve cases, record a
check, ask for referrals and record the answer."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.aftersales import services
from rapport.aftersales.models import ReferralRequest, SatisfactionCheck, ServiceCase
from rapport.aftersales.tests.factories import check_for, satisfied

HTMX = {"HX-Request": "true"}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_card_page_shows_deliveries_due_checks_open_cases_and_the_forms(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    check_for(card)
    services.open_case(user=users["rep_ana"], card=card, data={"subject": "Falta el manual", "due_on": "2026-01-10"})
    page = _client(users["rep_ana"]).get(f"/cards/{card.pk}/").content.decode()
    assert 'id="aftersales"' in page and "Falta el manual" in page and "Overdue" in page and "Check due" in page
    assert f'/aftersales/checks/{SatisfactionCheck.objects.get().pk}/result/' in page
    assert f"/cards/{card.pk}/aftersales/cases/" in page


def test_opening_a_case_with_htmx_answers_the_panel_and_422_with_the_errors_in_place(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    client = _client(users["rep_ana"])
    bad = client.post(f"/cards/{card.pk}/aftersales/cases/", {"subject": "", "kind": "complaint"}, headers=HTMX)
    assert bad.status_code == 422 and "This field is required." in bad.content.decode()
    assert not ServiceCase.objects.exists()
    good = client.post(f"/cards/{card.pk}/aftersales/cases/", {"subject": "Pantalla rota", "kind": "service"}, headers=HTMX)
    assert good.status_code == 200 and "Pantalla rota" in good.content.decode() and "Case opened." in good.content.decode()
    assert ServiceCase.objects.get().assigned_to == users["rep_ana"]


def test_resolving_with_a_stale_version_says_someone_changed_the_case(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    case = services.open_case(user=users["rep_ana"], card=card, data={"subject": "Pantalla rota"})
    services.update_case(user=users["rep_ben"], case=case, data={"due_on": "2026-12-24"}, expected_version=1)
    client = _client(users["rep_ana"])
    stale = client.post(f"/aftersales/cases/{case.pk}/resolve/", {"resolution": "Cambiada", "version": "1"}, headers=HTMX)
    assert stale.status_code == 422 and "changed since you loaded it" in stale.content.decode()
    done = client.post(f"/aftersales/cases/{case.pk}/resolve/", {"resolution": "Cambiada", "version": "2"})
    assert done.status_code == 302 and done["Location"].endswith(f"/cards/{card.pk}/#aftersales")
    assert ServiceCase.objects.get().resolution == "Cambiada"


def test_recording_a_check_then_asking_and_answering_on_the_card(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    friend = make_org(name="Amigos S.L.")
    check = check_for(card)
    client = _client(users["rep_ana"])
    bad = client.post(f"/aftersales/checks/{check.pk}/result/", {"score": "9", "comment": "?"}, headers=HTMX)
    assert bad.status_code == 422 and "from 1 to 5" in bad.content.decode()
    recorded = client.post(f"/aftersales/checks/{check.pk}/result/", {"score": "5", "comment": "Encantados"}, headers=HTMX)
    assert recorded.status_code == 200 and "Ask for referrals" in recorded.content.decode()
    asked = client.post(f"/cards/{card.pk}/aftersales/referrals/", {"benefit": "Una caja de regalo", "note": ""}, headers=HTMX)
    assert asked.status_code == 200 and "Una caja de regalo" in asked.content.decode()
    request = ReferralRequest.objects.get()
    answered = client.post(f"/aftersales/referrals/{request.pk}/outcome/",
                           {"outcome": "given", "referred": f"{friend.pk}", "benefit": "Una caja de regalo"}, headers=HTMX)
    assert answered.status_code == 200 and "Amigos S.L." in answered.content.decode()
    friend.refresh_from_db()
    assert friend.referred_by_id == card.pk


def test_without_htmx_errors_come_back_as_messages_on_the_card_page(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    client = _client(users["rep_ana"])
    response = client.post(f"/cards/{card.pk}/aftersales/referrals/", {"benefit": ""}, follow=True)
    assert "referrals are asked of satisfied customers" in response.content.decode()
    assert not ReferralRequest.objects.exists()


def test_a_satisfied_customer_is_offered_the_referral_request(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    satisfied(card, users["rep_ana"], score=4)
    page = _client(users["rep_ana"]).get(f"/cards/{card.pk}/").content.decode()
    assert "scored 4 of 5" in page and f"/cards/{card.pk}/aftersales/referrals/" in page


def test_a_case_someone_resolved_meanwhile_is_reported_on_top_of_the_panel(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    case = services.open_case(user=users["rep_ana"], card=card, data={"subject": "Pantalla rota"})
    services.resolve_case(user=users["rep_ben"], case=case, resolution="Cambiada por Ben")
    late = _client(users["rep_ana"]).post(f"/aftersales/cases/{case.pk}/resolve/", {"resolution": "Yo también", "version": "2"},
                                          headers=HTMX)
    assert late.status_code == 422 and "resolved already" in late.content.decode()
    assert ServiceCase.objects.get().resolution == "Cambiada por Ben"
