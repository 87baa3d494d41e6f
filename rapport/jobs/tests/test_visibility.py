"""Who sees which job, on the pages and in the API: a rep their own; a manager theirs and their
teams' people's; an administrator every job, the schedule's included. Any other job answers
like a missing one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.jobs import selectors


@pytest.fixture
def jobs(queued: Any) -> dict[str, Any]:
    return {
        "ana": queued("rep_ana"), "ben": queued("rep_ben"), "bo": queued("rep_bo_other_team"),
        "mei": queued("manager_mei"), "schedule": queued(None, kind="agenda_remind", params={}),
    }


def _ids(user: Any) -> set[int]:
    return set(selectors.visible_jobs(user).values_list("pk", flat=True))


def test_a_rep_sees_only_the_jobs_they_asked_for(users: Any, jobs: dict[str, Any]) -> None:
    assert _ids(users["rep_ana"]) == {jobs["ana"].pk}
    assert _ids(users["analyst_al"]) == set()


def test_a_manager_sees_their_teams_jobs_and_not_another_teams(users: Any, jobs: dict[str, Any]) -> None:
    assert _ids(users["manager_mei"]) == {jobs["ana"].pk, jobs["ben"].pk, jobs["mei"].pk}


def test_an_administrator_sees_every_job_the_schedules_too(users: Any, jobs: dict[str, Any]) -> None:
    assert _ids(users["admin"]) == {j.pk for j in jobs.values()}


def test_the_job_page_answers_404_for_a_job_of_someone_else(users: Any, jobs: dict[str, Any], ana: Client) -> None:
    assert ana.get(f"/jobs/{jobs['ana'].pk}/").status_code == 200
    assert ana.get(f"/jobs/{jobs['ben'].pk}/").status_code == 404
    assert ana.get(f"/jobs/{jobs['schedule'].pk}/").status_code == 404
    assert ana.get("/jobs/999999/").status_code == 404
    listing = ana.get("/jobs/").content.decode()
    assert f"/jobs/{jobs['ana'].pk}/" in listing and f"/jobs/{jobs['ben'].pk}/" not in listing


def test_signed_out_visitors_are_sent_to_sign_in(jobs: dict[str, Any]) -> None:
    response = Client().get(f"/jobs/{jobs['ana'].pk}/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_api_gives_a_job_to_those_who_may_see_it_and_404_to_others(users: Any, jobs: dict[str, Any], api: Any) -> None:
    mine = api(users["rep_ana"]).get(f"/api/v1/jobs/{jobs['ana'].pk}")
    assert mine.status_code == 200
    body = mine.json()
    assert body["kind"] == "dedup_scan" and body["status"] == "queued" and body["user"] == "rep_ana"
    assert api(users["rep_ana"]).get(f"/api/v1/jobs/{jobs['bo'].pk}").status_code == 404
    assert api(users["manager_mei"]).get(f"/api/v1/jobs/{jobs['ben'].pk}").status_code == 200
    assert api(users["manager_mei"]).get(f"/api/v1/jobs/{jobs['bo'].pk}").status_code == 404
    assert api(users["admin"]).get(f"/api/v1/jobs/{jobs['schedule'].pk}").status_code == 200
    assert Client().get(f"/api/v1/jobs/{jobs['ana'].pk}").status_code == 401


def test_the_api_lists_only_visible_jobs(users: Any, jobs: dict[str, Any], api: Any) -> None:
    listed = api(users["manager_mei"]).get("/api/v1/jobs").json()
    assert listed["count"] == 3 and {j["user"] for j in listed["items"]} == {"rep_ana", "rep_ben", "manager_mei"}
    assert api(users["rep_ana"]).get("/api/v1/jobs?kind=agenda_remind").json()["count"] == 0
    assert api(users["rep_ana"]).get("/api/v1/jobs?kind=robots").status_code == 422
