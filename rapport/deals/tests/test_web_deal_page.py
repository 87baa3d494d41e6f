"""The deal page: the step path, the checklist, guidance, people, warnings and history."""

from typing import Any

import pytest


@pytest.fixture
def unit(users: Any, org: Any, make_person: Any) -> dict[str, Any]:
    """A decision unit at the organisation: a decision maker we trust and an evaluator."""
    from rapport.relationships import services

    boss = make_person(given_name="Lucía", family_name="Pérez")
    buyer = make_person(given_name="Tomás", family_name="Ruiz")
    ana = users["rep_ana"]
    services.add_member(user=ana, organization_id=org.pk, data={"person": boss.pk, "roles": ["decision_maker"], "influence": 60, "attitude": "supporter"})
    services.add_member(user=ana, organization_id=org.pk, data={"person": buyer.pk, "roles": ["evaluator"], "influence": 40})
    return {"boss": boss, "buyer": buyer}


def test_the_deal_page_shows_the_path_with_the_current_step_and_its_guidance(ana: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.get(f"/deals/{deal.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="step"' in html
    assert "Develop a coach" in html  # the first of step 1's four actions
    assert "The four opportunity questions are answered yes" in html and "Not met" in html
    assert "Is there an opportunity?" in html and "€120,000.00" in html
    assert "10%" in html and "step default" in html
    assert "four_questions" not in html.replace('value="four_questions"', "")


def test_step_five_shows_the_buying_signals_and_up_sell_prompts(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="win_commitment", override_reason="Tender")
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Buying signals to listen for" in html and "Detailed questions about the price" in html
    assert "Which related products would make the solution complete" in html


def test_who_matters_now_is_highlighted_from_the_deals_own_people(ana: Any, users: Any, make_deal: Any, unit: Any) -> None:
    from rapport.deals import services
    from rapport.relationships.models import Member

    deal = make_deal(buying_stage="evaluation")
    buyer = Member.objects.get(person=unit["buyer"])
    services.add_contact(user=users["rep_ana"], deal=deal, data={"member": buyer.pk, "roles": ["evaluator"]})
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Who matters now" in html and "is-now" in html and "Matters now" in html
    assert "Tomás Ruiz" in html


def test_the_warnings_of_the_deal_are_shown(ana: Any, make_deal: Any) -> None:
    deal = make_deal(buying_stage="internal_decision", expected_close="2020-01-31")
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Nobody in this deal&#x27;s decision unit is the decision maker" in html
    assert "The expected close date has passed" in html


def test_the_history_shows_who_moved_the_deal_why_and_the_override(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="build_trust", override_reason="Repeat buyer")
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Analyse the customer → Build trust" in html and "Repeat buyer" in html and "Override" in html
    assert "The four opportunity questions are answered yes" in html  # the missing signal by its label


def test_the_proposals_link_is_left_out_while_that_page_does_not_exist(ana: Any, make_deal: Any) -> None:
    from django.urls import NoReverseMatch, reverse

    deal = make_deal()
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    try:
        url = reverse("deals-proposals", args=[deal.pk])
    except NoReverseMatch:
        assert "Proposals</a>" not in html
    else:
        assert url in html


def test_a_rep_of_another_team_gets_404_for_the_deal_and_its_forms(users: Any, make_deal: Any) -> None:
    from django.test import Client

    deal = make_deal()
    client = Client()
    client.force_login(users["rep_bo_other_team"])
    assert client.get(f"/deals/{deal.pk}/").status_code == 404
    assert client.post(f"/deals/{deal.pk}/needs/", {"kind": "goal", "text": "x"}).status_code == 404
    assert client.post(f"/deals/{deal.pk}/move/", {"to": "build_trust", "override_reason": "x", "confirm": "1"}).status_code == 404
    assert f"deal-card-{deal.pk}" not in client.get("/deals/?owner=all").content.decode()


def test_a_missing_deal_answers_404(ana: Any, users: Any) -> None:
    assert ana.get("/deals/999999/").status_code == 404


def test_the_deal_page_takes_a_pinned_number_of_queries(ana: Any, users: Any, make_deal: Any, unit: Any,
                                                        django_assert_max_num_queries: Any) -> None:
    from rapport.deals import services
    from rapport.relationships.models import Member

    deal = make_deal(buying_stage="evaluation")
    ana_user = users["rep_ana"]
    for member in Member.objects.all():
        services.add_contact(user=ana_user, deal=deal, data={"member": member.pk, "roles": member.roles})
    for i in range(3):
        services.add_need(user=ana_user, deal=deal, data={"kind": "goal", "text": f"Goal {i}"})
        services.add_criterion(user=ana_user, deal=deal, data={"name": f"C{i}", "weight": "20"})
        competitor = services.add_competitor(user=ana_user, deal=deal, data={"name": f"Rival {i}"})
        services.add_point(user=ana_user, competitor=competitor, data={"kind": "strength", "text": "Faster service"})
        services.add_negotiation_entry(user=ana_user, deal=deal, data={"kind": "concession", "text": "Discount", "value": str(100 - i)})
    with django_assert_max_num_queries(32):
        response = ana.get(f"/deals/{deal.pk}/")
    assert response.status_code == 200


def test_the_negotiation_log_lists_its_entries_with_values(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.add_negotiation_entry(user=users["rep_ana"], deal=deal, data={"kind": "concession", "text": "Free delivery", "value": "1500"})
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Free delivery" in html and "€1,500.00" in html and "Nothing logged yet." not in html


def test_an_analyst_reads_the_deal_page_without_its_forms(users: Any, make_deal: Any) -> None:
    from django.test import Client

    deal = make_deal()
    client = Client()
    client.force_login(users["analyst_al"])
    html = client.get(f"/deals/{deal.pk}/").content.decode()
    assert "Forklift fleet renewal" in html
    assert f'action="/deals/{deal.pk}/needs/"' not in html and "Edit the deal" not in html and "Close the deal" not in html


def test_a_lost_deal_shows_why_and_offers_no_move(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.close_deal(user=users["rep_ana"], deal=deal, outcome="lost", reason="no_decision", note="They froze the budget")
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "Lost because" in html and "No decision: the customer did nothing" in html and "They froze the budget" in html
    assert f'action="/deals/{deal.pk}/move/"' not in html
