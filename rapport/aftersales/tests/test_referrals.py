"""Referrals: satisfied customers are asked; the referred cards join the funnel's referral chain."""

from __future__ import annotations

from typing import Any

from rapport.aftersales.models import ReferralRequest
from rapport.aftersales.tests.factories import api, check_for, satisfied
from rapport.audit.models import AuditEntry
from rapport.cards.models import Card
from rapport.funnel import selectors as funnel


def _ask(client: Any, card: Any, **data: Any) -> Any:
    return client.post("/api/v1/aftersales/referrals", {"card": card.pk, **data}, content_type="application/json")


def _answer(client: Any, request_id: int, **data: Any) -> Any:
    return client.post(f"/api/v1/aftersales/referrals/{request_id}/outcome", data, content_type="application/json")


def test_a_satisfied_customer_gives_referrals_that_join_the_referral_chain(make_org: Any, make_person: Any, users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    customer = make_org()
    check = satisfied(customer, ana, score=5)
    friend, neighbour = make_org(name="Amigos S.L."), make_person(given_name="Luis", family_name="Vecino")
    client = api(ana)
    asked = _ask(client, customer, benefit="5 % de descuento en el próximo pedido")
    assert asked.status_code == 201, asked.content
    assert asked.json()["satisfaction_check"] == check.pk and asked.json()["outcome"] == "asked"
    answered = _answer(client, asked.json()["id"], outcome="given", referred=[friend.pk, neighbour.pk])
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert body["outcome"] == "given" and sorted(body["referred"]) == sorted([friend.pk, neighbour.pk])
    assert body["benefit"] == "5 % de descuento en el próximo pedido" and body["outcome_on"]
    friend.refresh_from_db()
    assert friend.referred_by_id == customer.pk and friend.found_by is not None and friend.found_by.key == "referral_chain"
    assert {c.pk for c in funnel.referrals_of(ana, customer)} == {friend.pk, neighbour.pk}
    audited = AuditEntry.objects.filter(record_type="cards.card", field="referred_by").values_list("record_id", flat=True)
    assert set(audited) == {str(friend.pk), str(neighbour.pk)}
    assert AuditEntry.objects.filter(record_type="aftersales.referralrequest", field="outcome", new="given").exists()


def test_only_a_customer_who_scored_4_or_5_is_asked(make_org: Any, users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    client = api(ana)
    never_checked = make_org(name="Sin revisar S.A.")
    assert "satisfaction_check" in _ask(client, never_checked).json()["errors"]
    unhappy = make_org(name="Descontentos S.A.")
    satisfied(unhappy, ana, score=3)
    refused = _ask(client, unhappy)
    assert refused.status_code == 422 and "scored 3 of 5" in refused.json()["errors"]["satisfaction_check"][0]
    pending = check_for(make_org(name="Pendiente S.A."))
    assert "satisfaction_check" in _ask(client, pending.card, satisfaction_check=pending.pk).json()["errors"]
    assert not ReferralRequest.objects.exists()


def test_a_customer_waiting_to_answer_is_not_asked_twice(make_org: Any, users: dict[str, Any]) -> None:
    customer = make_org()
    satisfied(customer, users["rep_ana"])
    client = api(users["rep_ana"])
    assert _ask(client, customer).status_code == 201
    again = _ask(client, customer)
    assert again.status_code == 422 and "outcome" in again.json()["errors"]
    assert ReferralRequest.objects.count() == 1


def test_unknown_foreign_self_or_already_referred_cards_are_refused_and_nothing_changes(make_org: Any, users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    customer = make_org()
    satisfied(customer, ana)
    client = api(ana)
    request_id = _ask(client, customer).json()["id"]
    friend = make_org(name="Amigos S.L.")
    foreign = make_org("rep_bo_other_team", name="Sur S.A.")
    taken = make_org(name="Ya referida S.A.")
    Card.objects.filter(pk=taken.pk).update(referred_by=make_org(name="Otro cliente S.A."))
    for referred in ([friend.pk, foreign.pk], [friend.pk, 999999], [customer.pk], [taken.pk], [], "abc", ["1x"]):
        response = _answer(client, request_id, outcome="given", referred=referred)
        assert response.status_code == 422 and "referred" in response.json()["errors"], referred
    friend.refresh_from_db()
    assert friend.referred_by_id is None and friend.found_by_id is None
    assert ReferralRequest.objects.get(pk=request_id).outcome == "asked"


def test_a_referral_that_would_loop_back_is_refused_by_the_funnels_rule(make_org: Any, users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    customer = make_org()
    friend = make_org(name="Amigos S.L.")
    Card.objects.filter(pk=customer.pk).update(referred_by=friend)  # the friend brought the customer to us
    customer.refresh_from_db()
    satisfied(customer, ana)
    client = api(ana)
    request_id = _ask(client, customer).json()["id"]
    looped = _answer(client, request_id, outcome="given", referred=[friend.pk])
    assert looped.status_code == 422 and "loop" in looped.json()["errors"]["referred"][0]
    assert Card.objects.get(pk=friend.pk).referred_by_id is None


def test_a_declined_request_is_answered_once_and_has_no_referred_cards(make_org: Any, users: dict[str, Any]) -> None:
    customer = make_org()
    satisfied(customer, users["rep_ana"])
    client = api(users["rep_ana"])
    request_id = _ask(client, customer).json()["id"]
    assert _answer(client, request_id, outcome="declined", referred=[customer.pk]).status_code == 422
    assert _answer(client, request_id, outcome="maybe").status_code == 422
    assert _answer(client, request_id, outcome="declined", note="Prefiere no dar nombres").status_code == 200
    twice = _answer(client, request_id, outcome="given", referred=[make_org(name="Tarde S.A.").pk])
    assert twice.status_code == 422 and "recorded already" in twice.json()["errors"]["outcome"][0]
    assert ReferralRequest.objects.get(pk=request_id).outcome == "declined"
    listed = client.get(f"/api/v1/aftersales/referrals?card={customer.pk}").json()
    assert listed["count"] == 1 and listed["items"][0]["note"] == "Prefiere no dar nombres"


def test_on_the_card_the_referred_customers_are_picked_by_name_not_typed_as_card_numbers(
    make_org: Any, make_person: Any, users: dict[str, Any], ana: Any
) -> None:
    from rapport.aftersales import services

    customer = make_org(name="Cliente Fiel S.A.")
    asked = services.ask_for_referrals(user=users["rep_ana"], card=customer,
                                       data={"satisfaction_check": satisfied(customer, users["rep_ana"], score=5).pk})
    friend, neighbour = make_org(name="Amigos S.L."), make_person(given_name="Luis", family_name="Vecino")
    hidden = make_org(owner="rep_bo_other_team", name="Ajena S.A.")
    page = ana.get(f"/cards/{customer.pk}/").content.decode()
    assert "card numbers" not in page and f'name="referred-{asked.pk}-q"' in page
    url = f"/aftersales/referrals/{asked.pk}/outcome/"
    refused = ana.post(url, {"outcome": "given", "referred": [str(friend.pk), str(hidden.pk)]}, HTTP_HX_REQUEST="true")
    html = refused.content.decode()
    assert refused.status_code == 422 and f"Unknown card {hidden.pk}." in html
    assert f'<option value="{friend.pk}" selected>Amigos S.L. · organisation</option>' in html and "Ajena" not in html
    assert ana.post(url, {"outcome": "given", "referred": [str(friend.pk), str(neighbour.pk)]}).status_code == 302
    friend.refresh_from_db()
    neighbour.refresh_from_db()
    assert friend.referred_by_id == customer.pk and neighbour.referred_by_id == customer.pk
