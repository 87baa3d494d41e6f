"""Every form of the deal page: the happy path, and bad input answered with a clear error and
nothing changed."""

from decimal import Decimal
from typing import Any

import pytest

from rapport.deals.models import (
    Competitor,
    CompetitivePoint,
    Criterion,
    Deal,
    DealContact,
    NegotiationEntry,
    NegotiationPlan,
    Need,
    OpportunityQuestion,
    SignalCheck,
)

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deal(make_deal: Any) -> Deal:
    return make_deal()


@pytest.fixture
def member(users: Any, org: Any, make_person: Any) -> Any:
    from rapport.relationships import services

    person = make_person(given_name="Lucía", family_name="Pérez")
    return services.add_member(user=users["rep_ana"], organization_id=org.pk, data={"person": person.pk, "roles": ["decision_maker"]})


def test_answering_a_question_saves_it_and_the_body_comes_back(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/questions/", {"key": "opportunity", "answer": "yes", "justification": "Tender published"}, **HX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="deal-body"')
    q = OpportunityQuestion.objects.get(deal=deal, key="opportunity")
    assert q.answer == "yes" and q.justification == "Tender published"


def test_a_yes_without_a_justification_is_refused_next_to_the_question(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/questions/", {"key": "win", "answer": "yes", "justification": ""}, **HX)
    assert response.status_code == 422
    assert "Say in a sentence why." in response.content.decode()
    assert not OpportunityQuestion.objects.filter(deal=deal).exists()


def test_ticking_a_manual_signal_records_it(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    services.move_step(user=users["rep_ana"], deal=deal, to="discover_needs", override_reason="Known")
    response = ana.post(f"/deals/{deal.pk}/signals/", {"signal": "written_request", "checked": "1"}, **HX)
    assert response.status_code == 200
    assert SignalCheck.objects.filter(deal=deal, signal__key="written_request").exists()
    assert 'aria-pressed="true"' in response.content.decode()


def test_an_automatic_signal_cannot_be_ticked(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/signals/", {"signal": "four_questions", "checked": "1"}, **HX)
    assert response.status_code == 422
    assert "read from the deal itself" in response.content.decode()
    assert not SignalCheck.objects.filter(deal=deal).exists()


def test_setting_the_buying_stage_saves_it(ana: Any, deal: Deal) -> None:
    assert ana.post(f"/deals/{deal.pk}/buying-stage/", {"buying_stage": "evaluation"}, **HX).status_code == 200
    assert Deal.objects.get(pk=deal.pk).buying_stage == "evaluation"


def test_an_unknown_buying_stage_is_refused(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/buying-stage/", {"buying_stage": "dreaming"}, **HX)
    assert response.status_code == 422 and "Expected one of" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).buying_stage == ""


def test_adding_a_person_from_the_decision_unit_with_roles(ana: Any, deal: Deal, member: Any) -> None:
    response = ana.post(f"/deals/{deal.pk}/people/", {"member": member.pk, "roles": ["decision_maker", "evaluator"], "is_key": "1"}, **HX)
    assert response.status_code == 200
    contact = DealContact.objects.get(deal=deal)
    assert contact.roles == ["decision_maker", "evaluator"] and contact.is_key


def test_a_person_outside_the_decision_unit_is_refused(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/people/", {"member": "987654", "roles": ["user"]}, **HX)
    assert response.status_code == 422 and "not in the decision unit" in response.content.decode()
    assert not DealContact.objects.filter(deal=deal).exists()


def test_changing_and_removing_a_persons_roles(ana: Any, users: Any, deal: Deal, member: Any) -> None:
    from rapport.deals import services

    contact = services.add_contact(user=users["rep_ana"], deal=deal, data={"member": member.pk, "roles": ["user"]})
    assert ana.post(f"/deals/{deal.pk}/people/{contact.pk}/", {"roles": ["initiator"], "note": "Saw the problem"}, **HX).status_code == 200
    contact.refresh_from_db()
    assert contact.roles == ["initiator"] and contact.note == "Saw the problem" and not contact.is_key
    response = ana.post(f"/deals/{deal.pk}/people/{contact.pk}/", {"roles": ["pilot"]}, **HX)
    assert response.status_code == 422 and "Unknown role" in response.content.decode()
    assert ana.post(f"/deals/{deal.pk}/people/{contact.pk}/", {"remove": "1"}, **HX).status_code == 200
    assert not DealContact.objects.filter(pk=contact.pk).exists()


def test_adding_and_removing_a_need(ana: Any, deal: Deal) -> None:
    assert ana.post(f"/deals/{deal.pk}/needs/", {"kind": "problem", "text": "Forklifts break down weekly"}, **HX).status_code == 200
    need = Need.objects.get(deal=deal)
    assert need.kind == "problem"
    assert ana.post(f"/deals/{deal.pk}/needs/{need.pk}/remove/", **HX).status_code == 200
    assert not Need.objects.filter(deal=deal).exists()


def test_an_empty_need_is_refused(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/needs/", {"kind": "goal", "text": "  "}, **HX)
    assert response.status_code == 422
    assert not Need.objects.filter(deal=deal).exists()


def test_adding_a_criterion_with_its_weight(ana: Any, deal: Deal) -> None:
    assert ana.post(f"/deals/{deal.pk}/criteria/", {"name": "Response time", "target": "≤ 48 h", "weight": "40"}, **HX).status_code == 200
    assert Criterion.objects.get(deal=deal).weight == 40


def test_criteria_weights_past_100_are_refused(ana: Any, deal: Deal) -> None:
    ana.post(f"/deals/{deal.pk}/criteria/", {"name": "Price", "weight": "70"}, **HX)
    response = ana.post(f"/deals/{deal.pk}/criteria/", {"name": "Service", "weight": "40"}, **HX)
    assert response.status_code == 422 and "must not pass 100%" in response.content.decode()
    assert Criterion.objects.filter(deal=deal).count() == 1


def test_adding_a_competitor_and_a_point_against_it(ana: Any, users: Any, deal: Deal, member: Any) -> None:
    from rapport.deals import services

    need = services.add_need(user=users["rep_ana"], deal=deal, data={"kind": "goal", "text": "Less downtime"})
    contact = services.add_contact(user=users["rep_ana"], deal=deal, data={"member": member.pk})
    assert ana.post(f"/deals/{deal.pk}/competitors/", {"name": "Toyota MH", "note": "Incumbent"}, **HX).status_code == 200
    competitor = Competitor.objects.get(deal=deal)
    response = ana.post(f"/deals/{deal.pk}/competitors/{competitor.pk}/points/",
                        {"kind": "strength", "text": "4 h service", "need": need.pk, "contact": contact.pk, "action": "Show the SLA"}, **HX)
    assert response.status_code == 200
    point = CompetitivePoint.objects.get(competitor=competitor)
    assert point.need == need and point.contact == contact
    assert "Lucía Pérez" in response.content.decode()


def test_a_duplicate_competitor_and_a_point_without_text_are_refused(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    competitor = services.add_competitor(user=users["rep_ana"], deal=deal, data={"name": "Linde"})
    response = ana.post(f"/deals/{deal.pk}/competitors/", {"name": "linde"}, **HX)
    assert response.status_code == 422 and "on the deal already" in response.content.decode()
    response = ana.post(f"/deals/{deal.pk}/competitors/{competitor.pk}/points/", {"kind": "strength", "text": ""}, **HX)
    assert response.status_code == 422
    assert Competitor.objects.filter(deal=deal).count() == 1 and not CompetitivePoint.objects.exists()


def test_a_point_of_another_deals_competitor_answers_404(ana: Any, users: Any, make_deal: Any, deal: Deal) -> None:
    from rapport.deals import services

    other = make_deal(name="Other")
    competitor = services.add_competitor(user=users["rep_ana"], deal=other, data={"name": "Linde"})
    response = ana.post(f"/deals/{deal.pk}/competitors/{competitor.pk}/points/", {"kind": "strength", "text": "x"}, **HX)
    assert response.status_code == 404


def test_saving_the_negotiation_plan_with_ranked_interests(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/negotiation/plan/", {"roles": "Ana leads", "bottom_line": "100000", "target": "118000",
                                                               "interests": ["price", "delivery", "", ""]}, **HX)
    assert response.status_code == 200
    plan = NegotiationPlan.objects.get(deal=deal)
    assert plan.interests == ["price", "delivery"] and plan.bottom_line == Decimal("100000")
    assert "Price and related fees" in response.content.decode()


def test_a_target_below_the_bottom_line_is_refused(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/negotiation/plan/", {"bottom_line": "100000", "target": "90000"}, **HX)
    assert response.status_code == 422 and "below the bottom line" in response.content.decode()
    assert not NegotiationPlan.objects.filter(deal=deal).exists()


def test_a_growing_concession_is_logged_with_the_warning(ana: Any, deal: Deal) -> None:
    ana.post(f"/deals/{deal.pk}/negotiation/entries/", {"kind": "concession", "side": "ours", "text": "Free delivery", "value": "1000"}, **HX)
    response = ana.post(f"/deals/{deal.pk}/negotiation/entries/", {"kind": "concession", "side": "ours", "text": "Discount", "value": "3000"}, **HX)
    assert response.status_code == 200
    assert "concessions should shrink" in response.content.decode()
    assert NegotiationEntry.objects.filter(deal=deal).count() == 2


def test_a_concession_without_value_is_refused(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/negotiation/entries/", {"kind": "concession", "side": "ours", "text": "Something"}, **HX)
    assert response.status_code == 422 and "Give the concession" in response.content.decode()
    assert not NegotiationEntry.objects.exists()


def test_confirming_an_agreed_term(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    entry, _w = services.add_negotiation_entry(user=users["rep_ana"], deal=deal, data={"kind": "agreed", "text": "Delivery in May"})
    assert ana.post(f"/deals/{deal.pk}/negotiation/entries/{entry.pk}/confirm/", **HX).status_code == 200
    entry.refresh_from_db()
    assert entry.confirmed_at is not None


def test_confirming_a_position_is_refused(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    entry, _w = services.add_negotiation_entry(user=users["rep_ana"], deal=deal, data={"kind": "position", "text": "They want 10%"})
    response = ana.post(f"/deals/{deal.pk}/negotiation/entries/{entry.pk}/confirm/", **HX)
    assert response.status_code == 422 and "Only agreed terms" in response.content.decode()


def test_closing_as_lost_with_a_reason(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/close/", {"outcome": "lost", "reason": "price", "note": "10% cheaper", "version": deal.version}, **HX)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.close_reason == "price"
    assert "Lost because" in response.content.decode()


def test_closing_without_a_reason_is_refused(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/close/", {"outcome": "lost", "reason": "", "version": deal.version}, **HX)
    assert response.status_code == 422 and "Choose a reason from the list" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "open"


def test_closing_as_won_without_signals_needs_an_override(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/close/", {"outcome": "won", "reason": "value", "version": deal.version}, **HX)
    assert response.status_code == 422 and "Missing exit signal" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "open"
    response = ana.post(f"/deals/{deal.pk}/close/", {"outcome": "won", "reason": "value", "override_reason": "Signed", "version": deal.version}, **HX)
    assert response.status_code == 200
    assert Deal.objects.get(pk=deal.pk).status == "won"


def test_finishing_follow_up_before_payment_needs_an_override(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    services.close_deal(user=users["rep_ana"], deal=deal, outcome="won", reason="value", override_reason="Signed")
    response = ana.post(f"/deals/{deal.pk}/follow-up/finish/", {}, **HX)
    assert response.status_code == 422
    assert Deal.objects.get(pk=deal.pk).followed_up_at is None
    assert ana.post(f"/deals/{deal.pk}/follow-up/finish/", {"override_reason": "Paid in cash"}, **HX).status_code == 200
    assert Deal.objects.get(pk=deal.pk).followed_up_at is not None


def test_a_won_deal_without_products_cannot_become_an_order(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    services.close_deal(user=users["rep_ana"], deal=deal, outcome="won", reason="value", override_reason="Signed")
    response = ana.post(f"/deals/{deal.pk}/order/", **HX)
    assert response.status_code == 422 and "Name the deal&#x27;s products first" in response.content.decode()


def test_a_won_deal_with_products_becomes_a_draft_order(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.commerce import services as commerce
    from rapport.deals import services

    commerce.create_product(user=users["admin"], data={"sku": "FLT-1", "name": "Forklift 1.5 t"})
    deal = make_deal(products=[{"product": "FLT-1", "quantity": "2", "unit_price": "30000"}])
    services.close_deal(user=users["rep_ana"], deal=deal, outcome="won", reason="value", override_reason="Signed")
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Create order" in html
    response = ana.post(f"/deals/{deal.pk}/order/", **HX)
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/orders/")
    assert Deal.objects.get(pk=deal.pk).order_id is not None


def test_editing_the_deal_saves_its_fields_and_products(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.commerce import services as commerce

    commerce.create_product(user=users["admin"], data={"sku": "BAT-48", "name": "Battery 48 V"})
    data = {"version": deal.version, "name": "Fleet renewal 2027", "amount": "150000", "currency": "EUR", "expected_close": "2027-05-31",
            "probability": "35", "owner": users["rep_ana"].pk, "team": "", "description": "Twelve trucks",
            "product": ["BAT-48", ""], "quantity": ["4", ""], "unit_price": ["", ""]}
    response = ana.post(f"/deals/{deal.pk}/edit/", data, **HX)
    assert response.status_code == 200, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert deal.name == "Fleet renewal 2027" and deal.amount == Decimal("150000") and deal.probability == 35
    assert [p.product.sku for p in deal.products.all()] == ["BAT-48"]
    assert "€150,000.00" in response.content.decode()


def test_a_bad_amount_is_refused_by_its_field_and_nothing_changes(ana: Any, users: Any, deal: Deal) -> None:
    data = {"version": deal.version, "name": "Renamed", "amount": "lots", "currency": "EUR", "owner": users["rep_ana"].pk}
    response = ana.post(f"/deals/{deal.pk}/edit/", data, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="lots"' in html and "field-error" in html
    assert Deal.objects.get(pk=deal.pk).name == "Forklift fleet renewal"


def test_an_edit_of_a_deal_changed_meanwhile_is_refused_with_a_clear_message(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    loaded = deal.version
    services.update_deal(user=users["rep_ben"], deal=deal, data={"amount": "99000"})
    data = {"version": loaded, "name": "Mine now", "amount": "1", "currency": "EUR", "owner": users["rep_ana"].pk}
    response = ana.post(f"/deals/{deal.pk}/edit/", data, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "This deal changed since you loaded it" in html and "€99,000.00" in html
    assert Deal.objects.get(pk=deal.pk).name == "Forklift fleet renewal"


def test_the_new_deal_form_opens_a_deal_for_the_card_it_came_from(ana: Any, org: Any) -> None:
    response = ana.get(f"/deals/new/?organization={org.pk}")
    assert response.status_code == 200 and org.display_name in response.content.decode()
    response = ana.post(f"/deals/new/?organization={org.pk}", {"name": "Racking", "amount": "8000", "currency": "EUR", "owner": ""})
    assert response.status_code == 302
    deal = Deal.objects.get(name="Racking")
    assert response["Location"] == f"/deals/{deal.pk}/" and deal.card_id == org.pk and deal.step == "analyse"


def test_the_new_deal_form_from_the_board_offers_my_customers(ana: Any, org: Any) -> None:
    response = ana.get("/deals/new/")
    assert f'value="organization:{org.pk}"' in response.content.decode()
    response = ana.post("/deals/new/", {"customer": f"organization:{org.pk}", "name": "Racking", "currency": "EUR"})
    assert response.status_code == 302 and Deal.objects.filter(name="Racking", card=org).exists()


def test_a_new_deal_without_a_name_or_customer_is_refused(ana: Any, org: Any) -> None:
    response = ana.post("/deals/new/", {"customer": "", "name": "", "currency": "EUR"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Give the customer" in html
    response = ana.post(f"/deals/new/?organization={org.pk}", {"name": "", "currency": "EUR"})
    assert response.status_code == 422 and "field-error" in response.content.decode()
    assert not Deal.objects.exists()


def test_without_javascript_a_form_redirects_back_with_a_message(ana: Any, deal: Deal) -> None:
    response = ana.post(f"/deals/{deal.pk}/needs/", {"kind": "goal", "text": "Grow 10%"})
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal.pk}/"
    response = ana.post(f"/deals/{deal.pk}/needs/", {"kind": "wish", "text": "x"})
    assert response.status_code == 422 and "Expected one of" in response.content.decode()


def test_removing_a_criterion_a_point_and_a_competitor(ana: Any, users: Any, deal: Deal) -> None:
    from rapport.deals import services

    user = users["rep_ana"]
    criterion = services.add_criterion(user=user, deal=deal, data={"name": "Price", "weight": "50"})
    competitor = services.add_competitor(user=user, deal=deal, data={"name": "Linde"})
    point = services.add_point(user=user, competitor=competitor, data={"kind": "weakness", "text": "Dearer"})
    assert ana.post(f"/deals/{deal.pk}/criteria/{criterion.pk}/remove/", **HX).status_code == 200
    assert ana.post(f"/deals/{deal.pk}/points/{point.pk}/remove/", **HX).status_code == 200
    assert ana.post(f"/deals/{deal.pk}/competitors/{competitor.pk}/remove/", **HX).status_code == 200
    assert not Criterion.objects.exists() and not CompetitivePoint.objects.exists() and not Competitor.objects.exists()


def test_a_row_of_another_deal_cannot_be_removed_through_this_one(ana: Any, users: Any, make_deal: Any, deal: Deal) -> None:
    from rapport.deals import services

    other = make_deal(name="Other")
    need = services.add_need(user=users["rep_ana"], deal=other, data={"kind": "goal", "text": "Grow"})
    assert ana.post(f"/deals/{deal.pk}/needs/{need.pk}/remove/", **HX).status_code == 404
    assert Need.objects.filter(pk=need.pk).exists()
