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
