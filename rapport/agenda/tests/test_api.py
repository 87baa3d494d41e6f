"""/api/v1/agenda: tasks with optimistic concurrency, Today and the team's overdue work, and
bad input refused by name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/agenda/tasks"


def api(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def post(client: Client, url: str, body: Any, **headers: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def patch(client: Client, url: str, body: Any, **headers: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def named(body: dict[str, Any]) -> set[str]:
    return set(body.get("errors", {})) | {str(d["loc"][-1]) for d in body.get("detail", []) if isinstance(d, dict)}


def test_a_rep_adds_a_task_and_reads_it_back_with_its_etag(users: Any, person: Any) -> None:
    client = api(users["rep_ana"])
    response = post(client, URL, {"title": "Call about the quote", "card": person.pk, "due_on": "2027-03-15", "due_time": "10:00"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"] == '"1"' and body["customer"] == person.pk and body["due_time"] == "10:00:00"
    assert client.get(f"{URL}/{body['id']}").json()["title"] == "Call about the quote"


def test_a_change_needs_if_match_and_a_stale_one_is_refused(users: Any) -> None:
    client = api(users["rep_ana"])
    task_id = post(client, URL, {"title": "Quote"}).json()["id"]
    assert patch(client, f"{URL}/{task_id}", {"due_on": "2027-04-01"}).status_code == 428
    ok = patch(client, f"{URL}/{task_id}", {"due_on": "2027-04-01"}, HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok.json()["due_on"] == "2027-04-01" and ok["ETag"] == '"2"'
    assert patch(client, f"{URL}/{task_id}", {"title": "Again"}, HTTP_IF_MATCH='"1"').status_code == 412
    assert patch(client, f"{URL}/{task_id}", {"title": "Again"}, HTTP_IF_MATCH='"abc"').status_code == 422


def test_done_snooze_and_delete(users: Any) -> None:
    client = api(users["rep_ana"])
    task_id = post(client, URL, {"title": "Quote", "recurrence": "weekly", "due_on": "2027-03-15"}).json()["id"]
    assert post(client, f"{URL}/{task_id}/snooze", {"days": 2}).json()["snoozed"] == 1
    assert post(client, f"{URL}/{task_id}/done", {}).json()["done"] is True
    following = client.get(URL).json()["items"]
    assert [t["due_on"] for t in following] == ["2027-03-24"]
    assert client.delete(f"{URL}/{following[0]['id']}").status_code == 204
    assert client.get(URL).json()["count"] == 0


@pytest.mark.parametrize("body, fields", [
    ({"title": 42}, {"title"}),
    ({"title": "x" * 301}, {"title"}),
    ({"title": "Ok", "due_on": "2027-02-30"}, {"due_on"}),
    ({"title": "Ok", "card": "abc"}, {"card"}),
    ({"title": "Ok", "card": 2**63}, {"card"}),
    ({"title": "Ok", "recurrence": "hourly"}, {"recurrence"}),
    ({"title": "Ok", "colour": "red"}, {"__all__"}),
])
def test_bad_input_is_refused_by_name(users: Any, body: dict[str, Any], fields: set[str]) -> None:
    response = post(api(users["rep_ana"]), URL, body)
    assert response.status_code == 422, response.json()
    assert fields <= named(response.json())


def test_a_task_of_another_team_answers_like_a_missing_one(users: Any) -> None:
    theirs = post(api(users["rep_bo_other_team"]), URL, {"title": "Theirs"}).json()["id"]
    client = api(users["rep_ana"])
    assert client.get(f"{URL}/{theirs}").status_code == 404
    assert client.get(f"{URL}/999999").status_code == 404
    assert post(client, f"{URL}/{theirs}/done", {}).status_code == 404
    assert client.get(URL, {"owner": users["rep_bo_other_team"].pk}).json()["count"] == 0


def test_today_answers_overdue_today_and_upcoming(users: Any) -> None:
    from django.utils import timezone

    client = api(users["rep_ana"])
    post(client, URL, {"title": "Now"})
    body = client.get("/api/v1/agenda/today").json()
    assert body["today"] == timezone.localdate().isoformat()
    assert [i["title"] for i in body["due_today"]] == ["Now"]
    assert client.get("/api/v1/agenda/today", {"days": 99}).status_code == 422


def test_only_managers_read_the_teams_overdue_work(users: Any) -> None:
    post(api(users["rep_ana"]), URL, {"title": "Late", "due_on": "2020-01-01"})
    rows = api(users["manager_mei"]).get("/api/v1/agenda/team-overdue").json()
    assert [(r["username"], r["count"]) for r in rows] == [("rep_ana", 1)]
    assert api(users["rep_ana"]).get("/api/v1/agenda/team-overdue").status_code == 404


def test_settings_refuse_an_unknown_time_zone(users: Any) -> None:
    client = api(users["rep_ana"])
    assert patch(client, "/api/v1/agenda/settings", {"time_zone": "Mars/Olympus"}).status_code == 422
    assert patch(client, "/api/v1/agenda/settings", {"time_zone": "Asia/Shanghai"}).json()["time_zone"] == "Asia/Shanghai"
