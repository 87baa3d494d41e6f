"""Relationship stages: logged activities count as evidence, and each change is recorded with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.accounts.services import create_token
from rapport.activities.services import log_activity
from rapport.relationships import selectors, services
from rapport.relationships.models import ContactProfile, StageMove
from rapport.relationships.tests.factories import org_with_people


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def test_tagged_and_plain_activities_count_as_evidence_of_their_stage(users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    ana = users["rep_ana"]
    log_activity(user=ana, data={"kind": "call", "summary": "First call", "cards": [vera.pk]})
    log_activity(user=ana, data={"kind": "note", "summary": "Internal note", "cards": [vera.pk]})  # no stage
    services.log_relationship_activity(user=ana, person_id=vera.pk, data={"typical": "family_event", "summary": "Daughter's wedding"})
    state = selectors.contact_state(ana, vera.pk)
    assert state.evidence_by_stage == {"acquainted": 1, "engaged": 0, "trusted": 1, "ally": 0}
    assert {e.typical for e in state.evidence} == {"phone_call", "family_event"}


def test_a_stage_change_is_recorded_with_the_evidence_for_the_new_stage(users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    ana = users["rep_ana"]
    services.set_stage(user=ana, person_id=vera.pk, stage="acquainted")
    seminar = services.log_relationship_activity(user=ana, person_id=vera.pk, data={"typical": "seminar"})
    services.log_relationship_activity(user=ana, person_id=vera.pk, data={"typical": "meal"})
    move = services.set_stage(user=ana, person_id=vera.pk, stage="engaged", note="Came to the seminar and to lunch")
    assert (move.from_stage, move.to_stage, move.changed_by) == ("acquainted", "engaged", ana)
    assert sorted(e["typical"] for e in move.evidence) == ["meal", "seminar"]
    assert seminar.pk in [e["activity"] for e in move.evidence]
    assert list(StageMove.objects.filter(person=vera).values_list("to_stage", flat=True)) == ["engaged", "acquainted"]


def test_the_next_step_follows_stage_style_and_what_is_logged(users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    ana = users["rep_ana"]
    assert "Nothing is logged" in selectors.contact_state(ana, vera.pk).next_step
    old = (timezone.now() - dt.timedelta(days=90)).isoformat()
    services.log_relationship_activity(user=ana, person_id=vera.pk, data={"typical": "office_visit", "occurred_at": old})
    services.set_stage(user=ana, person_id=vera.pk, stage="acquainted")
    step = selectors.contact_state(ana, vera.pk).next_step
    assert "over two months" in step and "seminar" in step and "Record the communication style" in step
    services.log_relationship_activity(user=ana, person_id=vera.pk, data={"typical": "meal"})
    services.set_style(user=ana, person_id=vera.pk, style="analytical")
    step = selectors.contact_state(ana, vera.pk).next_step
    assert "already logged" in step and "Be punctual and formal" in step and "two months" not in step


def test_the_api_moves_the_stage_and_refuses_bad_input_without_saving(users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    api = client_for(users["rep_ana"])
    url = f"/api/v1/people/{vera.pk}/relationship"
    bad = api.patch(url, {"stage": "best_friends"}, content_type="application/json")
    assert bad.status_code == 422 and "stage" in bad.json()["errors"]
    both = api.patch(url, {"stage": "engaged", "style": "loud"}, content_type="application/json")
    assert both.status_code == 422 and "style" in both.json()["errors"]
    assert not StageMove.objects.exists() and not ContactProfile.objects.filter(stage="engaged").exists()
    ok = api.patch(url, {"stage": "engaged", "style": "amiable"}, content_type="application/json")
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["stage"] == "engaged" and body["style"] == "amiable" and body["coaching"]["question_words"] == "who, we"
    assert api.patch(url, {"stage": "engaged"}, content_type="application/json").status_code == 422  # already there


def test_coaching_follows_the_language_and_admin_edits(users: dict[str, Any]) -> None:
    from rapport.relationships.models import StyleCoaching

    _org, (vera, *_rest) = org_with_people(users)
    services.set_style(user=users["rep_ana"], person_id=vera.pk, style="driver")
    api = client_for(users["rep_ana"])
    assert api.get(f"/api/v1/people/{vera.pk}/relationship", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["coaching"]["question_words"] == "什么"
    StyleCoaching.objects.filter(style="driver", language="en").update(question_words="what, when")
    assert api.get(f"/api/v1/people/{vera.pk}/relationship", HTTP_ACCEPT_LANGUAGE="en").json()["coaching"]["question_words"] == "what, when"


@pytest.mark.parametrize(
    "answers, style",
    [
        ({"pace": "tells", "risk": "tells", "topic": "task", "manner": "task"}, "driver"),
        ({"pace": "tells", "risk": "asks", "topic": "people", "manner": "people"}, "expressive"),
        ({"pace": "asks", "risk": "asks", "topic": "people", "manner": "task"}, "amiable"),
        ({"pace": "asks", "risk": "asks", "topic": "task", "manner": "task"}, "analytical"),
    ],
)
def test_the_questionnaire_suggests_a_style(users: dict[str, Any], answers: dict[str, str], style: str) -> None:
    assert services.suggest_style(answers) == style


def test_the_questionnaire_names_each_unanswered_or_unknown_question(users: dict[str, Any]) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    r = client_for(users["rep_ana"]).post(
        f"/api/v1/people/{vera.pk}/relationship/questionnaire",
        {"answers": {"pace": "tells", "risk": "perhaps", "mood": "x"}, "save": True},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"risk", "topic", "manner", "mood"}
    assert not ContactProfile.objects.exists()
