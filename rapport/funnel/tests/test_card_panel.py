"""The funnel panel on the card page: stage moves, qualification and history from the browser."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.cards.models import Card


def test_the_panel_offers_only_legal_moves_and_shows_the_history(users: Any, ana: Client, make_org: Any) -> None:
    org = make_org(lifecycle_stage="lost")
    html = ana.get(f"/cards/{org.id}/").content.decode()
    assert 'id="funnel"' in html
    assert '<option value="prospect">' in html and '<option value="regular">' not in html
    assert "Stage history" in html


def test_a_stage_move_from_the_card_page_is_recorded(users: Any, ana: Client, make_org: Any) -> None:
    org = make_org()
    response = ana.post(f"/cards/{org.id}/stage/", {"to": "prospect", "reason": "Called back"}, follow=True)
    assert response.status_code == 200
    assert Card.objects.get(pk=org.id).lifecycle_stage == "prospect"
    html = response.content.decode()
    assert "Stage changed." in html and "Advance one step" in html


def test_an_illegal_move_from_the_card_page_explains_the_rule_and_changes_nothing(users: Any, ana: Client, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    html = ana.post(f"/cards/{org.id}/stage/", {"to": "target"}, follow=True).content.decode()
    assert "Not a target yet" in html and "Purchase intent is not clear yet." in html
    assert "target_requires_qualification" not in html and "(rule" not in html
    assert Card.objects.get(pk=org.id).lifecycle_stage == "prospect"


def test_qualifying_from_the_card_page_shows_the_recommended_treatment(users: Any, ana: Client, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    html = ana.post(
        f"/cards/{org.id}/qualification/", {"intent": "clear", "power": "strong", "timeframe": "now"}, follow=True
    ).content.decode()
    assert "Invest time now" in html and "To become a target" not in html


def test_the_panel_forms_answer_404_for_another_teams_card(users: Any, ana: Client, make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team")
    assert ana.post(f"/cards/{org.id}/stage/", {"to": "prospect"}).status_code == 404
    assert ana.post(f"/cards/{org.id}/qualification/", {"intent": "clear"}).status_code == 404
    assert ana.post(f"/cards/{org.id}/prospecting/", {"found_by": "agent"}).status_code == 404
    assert Card.objects.get(pk=org.id).lifecycle_stage == "suspect"


def test_an_analyst_sees_the_panel_without_forms(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    client = Client()
    client.force_login(users["analyst_al"])
    html = client.get(f"/cards/{org.id}/").content.decode()
    assert 'id="funnel"' in html and 'action="/cards/%d/stage/"' % org.id not in html


def test_a_card_without_qualification_or_referrals_reads_the_panel_in_two_queries(
    users: Any, make_org: Any, django_assert_num_queries: Any
) -> None:
    from rapport.funnel.views import panel_context

    org = make_org()
    panel_context(users["rep_ana"], org)  # the catalogue's prospecting methods, cached once read
    with django_assert_num_queries(2):  # the probe and the stage history
        data = panel_context(users["rep_ana"], org)
    assert (data["qualification"], data["referrals"], data["qualifiable"]) == (None, [], False)
    assert [(h["from_stage"], h["to_label"], h["by"]) for h in data["history"]] == [("", "Suspect", "rep_ana")]


def test_the_panel_shows_a_prospects_qualification_its_visible_referrals_and_who_moved_it(
    users: Any, ana: Client, make_org: Any
) -> None:
    from rapport.funnel import services

    org = make_org(lifecycle_stage="prospect")
    services.set_qualification(user=users["rep_ana"], card=org, data={"intent": "clear", "power": "weak"})
    brought = make_org(name="Ferretería Central")
    services.set_prospecting(user=users["rep_ana"], card=brought, data={"referred_by": org.pk})
    hidden = make_org(owner="rep_bo_other_team", name="Southern Supplies")
    Card.objects.filter(pk=hidden.pk).update(referred_by=org)
    html = ana.get(f"/cards/{org.pk}/sections/funnel/", HTTP_HX_REQUEST="true").content.decode()
    assert "Keep in touch" in html and '<option value="clear" selected>' in html
    assert f'<a href="/cards/{brought.pk}/">Ferretería Central</a>' in html and "Southern Supplies" not in html
    assert "<span class=\"muted\">· rep_ana</span>" in html
    assert '<form method="post" action="/cards/%d/qualification/"' % org.pk in html


def test_the_panel_draws_the_found_by_choice_exactly_as_the_prospecting_form_would(users: Any, ana: Client, make_org: Any) -> None:
    from rapport.catalog import selectors as catalog
    from rapport.funnel import selectors
    from rapport.funnel.forms import ProspectingForm

    unknown = make_org(name="Found somehow")
    agent = catalog.sources()["agent"]
    found = make_org(name="Found by an agent")
    Card.objects.filter(pk=found.pk).update(found_by_id=agent.id)
    for card, key in ((unknown, ""), (found, "agent")):
        form = ProspectingForm(methods=selectors.methods(), initial={"found_by": key})
        html = ana.get(f"/cards/{card.pk}/sections/funnel/", HTTP_HX_REQUEST="true").content.decode()
        assert f'<label for="id_found_by">Found by</label>{form["found_by"]}</div>' in html
    assert '<option value="agent" selected>' in html
