"""The relationship map page, the card panels and the call/visit preparation page."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.relationships import services
from rapport.relationships.models import Member, StageMove
from rapport.relationships.tests.factories import org_with_people


def test_the_map_page_shows_warnings_members_and_the_vendored_library(ana: Client, users: dict[str, Any]) -> None:
    org, (vera, *_rest) = org_with_people(users)
    services.add_member(user=users["rep_ana"], organization_id=org.pk, data={"person": vera.pk, "influence": 100, "attitude": "opponent"})
    r = ana.get(f"/organizations/{org.pk}/decision-unit/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "relationships/vendor/cytoscape.min.js" in html and 'id="dmu-map"' in html
    assert 'data-code="no_coach"' in html and "Ana Ruiz" in html
    assert "Opponent" in html


def test_the_map_of_an_organization_out_of_reach_is_404(users: dict[str, Any]) -> None:
    org, _people = org_with_people(users)
    bo = Client()
    bo.force_login(users["rep_bo_other_team"])
    assert bo.get(f"/organizations/{org.pk}/decision-unit/").status_code == 404


def test_the_add_member_form_adds_a_person_and_bad_input_answers_422(ana: Client, users: dict[str, Any]) -> None:
    org, (vera, *_rest) = org_with_people(users)
    url = f"/organizations/{org.pk}/decision-unit/members/"
    bad = ana.post(url, {"person": vera.pk, "influence": "150", "attitude": "neutral"})
    assert bad.status_code == 422 and not Member.objects.exists()
    ok = ana.post(url, {"person": vera.pk, "influence": "40", "attitude": "supporter", "roles": ["decision_maker", "user"], "coach": "on"})
    assert ok.status_code == 302
    member = Member.objects.get()
    assert (member.influence, member.roles, member.is_coach) == (40, ["decision_maker", "user"], True)


def test_the_organization_card_shows_the_decision_unit_panel(ana: Client, users: dict[str, Any]) -> None:
    org, _people = org_with_people(users)
    html = ana.get(f"/cards/{org.pk}/").content.decode()
    assert 'id="decision-unit"' in html and 'data-code="no_decision_level"' in html


def test_the_person_card_shows_stage_style_coaching_and_next_step(ana: Client, users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    services.set_style(user=users["rep_ana"], person_id=vera.pk, style="driver")
    services.set_stage(user=users["rep_ana"], person_id=vera.pk, stage="acquainted")
    html = ana.get(f"/cards/{vera.pk}/").content.decode()
    assert 'id="relationship"' in html and "Driver" in html and "Get to the point at once" in html
    assert "a seminar, a visit to our company or a meal" in html


def test_the_preparation_page_moves_the_stage_with_evidence_from_a_logged_activity(ana: Client, users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    assert ana.post(f"/people/{vera.pk}/prepare/activity/", {"typical": "meal", "summary": "Lunch at El Faro"}).status_code == 302
    page = ana.get(f"/people/{vera.pk}/prepare/").content.decode()
    assert 'data-stage="engaged"' in page and 'data-evidence="1"' in page
    assert ana.post(f"/people/{vera.pk}/prepare/stage/", {"stage": "engaged", "note": "Lunch went well"}).status_code == 302
    move = StageMove.objects.get()
    assert move.to_stage == "engaged" and [e["typical"] for e in move.evidence] == ["meal"]


def test_the_questionnaire_suggests_and_saves_a_style(ana: Client, users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    r = ana.post(f"/people/{vera.pk}/prepare/questionnaire/", {"pace": "asks", "risk": "asks", "topic": "task", "manner": "task"})
    assert r.status_code == 302
    assert "Analytical" in ana.get(f"/people/{vera.pk}/prepare/").content.decode()
    assert ana.post(f"/people/{vera.pk}/prepare/questionnaire/", {"pace": "maybe"}).status_code == 422


def test_a_gift_over_the_limit_from_the_form_asks_for_confirmation_then_is_audited(ana: Client, users: dict[str, Any]) -> None:
    from rapport.relationships.models import AuditEntry, Gift

    services.set_gift_policy(user=users["admin"], data={"currency": "EUR", "per_gift_limit": "40"})
    _org, (vera, *_rest) = org_with_people(users)
    url = f"/people/{vera.pk}/prepare/gifts/"
    first = ana.post(url, {"kind": "gift", "description": "Watch", "value": "90", "currency": "EUR"})
    assert first.status_code == 422 and "audit log" in first.content.decode() and not Gift.objects.exists()
    second = ana.post(url, {"kind": "gift", "description": "Watch", "value": "90", "currency": "EUR", "confirm_over_limit": "on", "justification": "Retirement"})
    assert second.status_code == 302
    assert Gift.objects.get().over_limit and AuditEntry.objects.filter(action="gift_over_limit").count() == 1


def test_the_preparation_page_has_the_persons_numbers_to_call(ana: Client, make_person: Any) -> None:
    lucia = make_person(given_name="Lucía", family_name="Vera", phones=["+34 612 345 678", "+34 912 345 678"])
    page = ana.get(f"/people/{lucia.pk}/prepare/").content.decode()
    assert 'href="tel:+34612345678"' in page and 'href="tel:+34912345678"' in page and "+34 612 34 56 78" in page


def test_the_maps_side_panel_has_each_persons_number_to_call(ana: Client, users: dict[str, Any], make_person: Any) -> None:
    import json
    import re

    from rapport.cards.services import add_employment

    org, (vera, *_rest) = org_with_people(users)
    lucia = make_person(given_name="Lucía", family_name="Vera", phones=["+34 612 345 678"])
    add_employment(user=users["rep_ana"], person=lucia, data={"organization": org.pk, "title": "Buyer"})
    for person in (vera, lucia):
        services.add_member(user=users["rep_ana"], organization_id=org.pk, data={"person": person.pk, "influence": 50})
    html = ana.get(f"/organizations/{org.pk}/decision-unit/").content.decode()
    found = re.search(r'<script id="dmu-phones" type="application/json">(.*?)</script>', html)
    assert found is not None
    phones = json.loads(found.group(1))
    assert phones == {str(lucia.pk): {"tel": "+34612345678", "shown": "+34 612 34 56 78"}}  # Vera has no number
    assert 'id="dmu-member-call"' in html
