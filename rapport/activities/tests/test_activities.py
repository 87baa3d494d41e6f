"""Logging activities and the card timeline."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.activities.models import Activity
from rapport.activities.services import log_activity
from rapport.cards import selectors, services
from rapport.core.errors import ValidationError


def test_the_timeline_merges_activities_facts_and_stage_changes_newest_first(users: dict[str, Any], make_org: Any) -> None:
    ana = users["rep_ana"]
    org = make_org()
    log_activity(user=ana, data={"kind": "visit", "summary": "Visited the warehouse", "cards": [org.id], "occurred_at": "2026-01-10T10:00:00+00:00"})
    services.add_fact(user=ana, card=org, item_key="business_scope", value="Hardware wholesale", source_key="rep_observation")
    services.update_card(user=ana, card=org, data={"lifecycle_stage": "prospect"})
    entries = selectors.timeline_of(ana, org)
    assert [e.type for e in entries][:3] == ["stage", "fact", "stage"] or [e.type for e in entries][0] in ("stage", "fact")
    assert {e.type for e in entries} == {"activity", "fact", "stage"}
    assert entries == sorted(entries, key=lambda e: (e.at, e.ref_id), reverse=True)


def test_an_activity_with_a_card_of_another_team_is_refused_and_not_saved(users: dict[str, Any], make_org: Any) -> None:
    mine = make_org()
    theirs = make_org(owner="rep_bo_other_team")
    with pytest.raises(ValidationError) as exc:
        log_activity(user=users["rep_ana"], data={"kind": "call", "summary": "Call", "cards": [mine.id, theirs.id]})
    assert "cards" in exc.value.errors
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "telepathy", "summary": "x"}, "kind"),
        ({"kind": "call", "summary": ""}, "summary"),
        ({"kind": "call", "summary": "x" * 301}, "summary"),
        ({"kind": "call", "summary": "x", "occurred_at": "31/02/2026"}, "occurred_at"),
        ({"kind": "call", "summary": "x", "cards": []}, "cards"),
        ({"kind": "call", "summary": "x", "cards": ["abc"]}, "cards"),
    ],
)
def test_bad_activities_name_the_field(users: dict[str, Any], make_org: Any, data: dict[str, Any], field: str) -> None:
    org = make_org()
    data = {"cards": [org.id], **data}
    with pytest.raises(ValidationError) as exc:
        log_activity(user=users["rep_ana"], data=data)
    assert field in exc.value.errors
    assert Activity.objects.count() == 0


def test_the_activities_endpoint_hides_participants_out_of_reach(users: dict[str, Any], make_org: Any) -> None:
    mine = make_org()
    shared_with_bo = make_org(owner="rep_bo_other_team", name="Bo's")
    services.share_card(user=users["rep_bo_other_team"], card=shared_with_bo, with_user=users["rep_ana"])
    log_activity(user=users["rep_ana"], data={"kind": "meeting", "summary": "Joint meeting", "cards": [mine.id, shared_with_bo.id]})
    ben = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ben'])}")
    body = ben.get("/api/v1/activities").json()
    assert body["count"] == 1
    assert [c["id"] for c in body["items"][0]["cards"]] == [mine.id]
    bo = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_bo_other_team'])}")
    assert {c["id"] for c in bo.get("/api/v1/activities").json()["items"][0]["cards"]} == {shared_with_bo.id}


def test_logging_an_activity_through_the_api_answers_201(users: dict[str, Any], make_person: Any) -> None:
    person = make_person()
    ana = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    response = ana.post("/api/v1/activities", {"kind": "call", "summary": "Asked about the new catalogue", "cards": [person.id]}, content_type="application/json")
    assert response.status_code == 201, response.content
    timeline = ana.get(f"/api/v1/people/{person.id}/timeline").json()
    assert any(e["type"] == "activity" and e["detail"] == "Asked about the new catalogue" for e in timeline["items"])


def _logged_through_the_api(client: Client, body: dict[str, Any]) -> tuple[Any, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/v1/activities", body, content_type="application/json")
    return response, len(ctx.captured_queries)


def test_a_logged_activity_answers_what_reading_it_back_answers(users: dict[str, Any], make_org: Any, make_person: Any) -> None:
    ana = users["rep_ana"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=ana)}")
    people = [make_person(given_name=f"P{i}", family_name="Ruiz") for i in range(3)]
    org = make_org(name="Ferretería López")
    body = {"kind": "visit", "summary": "Visited", "details": "Two floors", "occurred_at": "2026-01-10T10:00:00.123456+02:00",
            "cards": [people[2].id, org.id, people[0].id, people[2].id]}
    response, _ = _logged_through_the_api(client, body)
    assert response.status_code == 201, response.content
    logged = response.json()
    listed = client.get("/api/v1/activities?limit=1").json()["items"][0]
    assert logged == listed
    assert logged["occurred_at"] == "2026-01-10T08:00:00.123Z"
    assert [c["id"] for c in logged["cards"]] == sorted({people[2].id, org.id, people[0].id})


def test_logging_an_activity_through_the_api_runs_the_same_queries_for_one_card_and_for_ten(
    users: dict[str, Any], make_person: Any
) -> None:
    # No read of the new activity back through the visibility filter: the answer is made of
    # what was written (before: two more queries, the activity and its participants).
    ana = users["rep_ana"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=ana)}")
    people = [make_person(given_name=f"P{i}", family_name="Ruiz", owner="rep_ben") for i in range(10)]
    _logged_through_the_api(client, {"kind": "call", "summary": "Warm", "cards": [people[0].id]})
    one, queries_for_one = _logged_through_the_api(client, {"kind": "call", "summary": "One", "cards": [people[0].id]})
    ten, queries_for_ten = _logged_through_the_api(client, {"kind": "call", "summary": "Ten", "cards": [p.id for p in people]})
    assert (one.status_code, ten.status_code) == (201, 201)
    assert len(ten.json()["cards"]) == 10
    assert queries_for_one == queries_for_ten
    # The cards by id, then in one transaction (its two statements counted) the activity, its
    # participants and the audit entry; the token's user with their teams is cached.
    assert queries_for_one == 6  # was 10, then 8 with the rep's teams read apart, 7 with the user read
