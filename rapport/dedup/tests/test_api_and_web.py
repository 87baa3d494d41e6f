"""Duplicates through the API and the web pages: the queue, merge and undo, the creation-time warning."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.cards.models import Card
from rapport.dedup import services
from rapport.dedup.models import Candidate, CandidateStatus, Merge


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


@pytest.fixture
def queued(users: dict[str, Any], make_person: Any) -> Candidate:
    make_person(given_name="Andrés", family_name="Molina", emails=["andres@molina.es"])
    make_person(given_name="Andres", family_name="Molina", emails=["ANDRES@molina.es"], phones=["+34655443322"])
    services.scan(user=users["rep_ana"], kind="person")
    return Candidate.objects.get()


def test_the_api_lists_merges_and_undoes_a_pair(users: dict[str, Any], queued: Candidate) -> None:
    api = client_for(users["rep_ana"])
    listing = api.get("/api/v1/dedup/candidates?kind=person").json()
    assert listing["count"] == 1 and "same_email" in listing["items"][0]["reasons"]
    merged = api.post(f"/api/v1/dedup/candidates/{queued.pk}/merge", {"survivor": queued.right_id}, content_type="application/json")
    assert merged.status_code == 201, merged.content
    body = merged.json()
    assert body["survivor"] == queued.right_id and body["moved"]["cards.stagechange.card"] == 1
    assert Card.objects.get(pk=queued.left_id).archived_at is not None
    undone = api.post(f"/api/v1/dedup/merges/{body['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert Card.objects.get(pk=queued.left_id).archived_at is None
    assert api.post(f"/api/v1/dedup/merges/{body['id']}/undo").status_code == 412


def test_pairs_and_merges_of_another_team_answer_404(users: dict[str, Any], queued: Candidate) -> None:
    other = client_for(users["rep_bo_other_team"])
    assert other.get(f"/api/v1/dedup/candidates/{queued.pk}").status_code == 404
    assert other.post(f"/api/v1/dedup/candidates/{queued.pk}/merge", {}, content_type="application/json").status_code == 404
    assert other.post(f"/api/v1/dedup/candidates/{queued.pk}/not-duplicate").status_code == 404
    assert other.get("/api/v1/dedup/candidates").json()["count"] == 0
    merge = services.merge_candidate(user=users["rep_ana"], candidate=queued)
    assert other.post(f"/api/v1/dedup/merges/{merge.pk}/undo").status_code == 404
    assert other.get("/api/v1/dedup/candidates/99999999999999999999").status_code in (404, 422)


def test_the_api_refuses_bad_merge_input_naming_the_field(users: dict[str, Any], make_person: Any, make_org: Any, queued: Candidate) -> None:
    api = client_for(users["rep_ana"])
    person, org = make_person(), make_org()
    response = api.post("/api/v1/dedup/merges", {"survivor": person.pk, "loser": org.pk}, content_type="application/json")
    assert response.status_code == 422 and "loser" in response.json()["errors"]
    response = api.post("/api/v1/dedup/merges", {"survivor": "x", "loser": org.pk}, content_type="application/json")
    assert response.status_code == 422
    response = api.post(f"/api/v1/dedup/candidates/{queued.pk}/merge", {"survivor": person.pk}, content_type="application/json")
    assert response.status_code == 422 and "survivor" in response.json()["errors"]
    assert Merge.objects.count() == 0
    assert api.get("/api/v1/dedup/candidates?status=maybe").status_code == 422


def test_an_analyst_cannot_merge_through_the_api(users: dict[str, Any], queued: Candidate) -> None:
    response = client_for(users["analyst_al"]).post(f"/api/v1/dedup/candidates/{queued.pk}/merge", {}, content_type="application/json")
    assert response.status_code == 403


def test_the_check_endpoint_finds_existing_cards_for_the_importer(users: dict[str, Any], queued: Candidate) -> None:
    api = client_for(users["rep_ana"])
    found = api.post("/api/v1/dedup/check", {"kind": "person", "given_name": "Andrés", "family_name": "Molína", "phones": ["655 44 33 22"]}, content_type="application/json")
    assert found.status_code == 200 and [m["id"] for m in found.json()["items"]] == [queued.right_id]
    bad = api.post("/api/v1/dedup/check", {"kind": "person", "threshold": 3}, content_type="application/json")
    assert bad.status_code == 422


def test_creating_a_card_through_the_api_warns_about_a_likely_duplicate(users: dict[str, Any], make_person: Any) -> None:
    existing = make_person(given_name="Lucía", family_name="Romero", phones=["+34600111222"])
    response = client_for(users["rep_ana"]).post(
        "/api/v1/people", {"given_name": "Lucia", "family_name": "Romero", "phones": ["600 111 222"]}, content_type="application/json"
    )
    assert response.status_code == 201
    warning = response.json()["possible_duplicates"]
    assert [w["id"] for w in warning] == [existing.pk] and warning[0]["candidate_id"]
    assert Candidate.objects.filter(status=CandidateStatus.PENDING).count() == 1


def test_the_web_create_form_says_this_looks_like_an_existing_card(ana: Client, make_person: Any) -> None:
    existing = make_person(given_name="Lucía", family_name="Romero", emails=["lucia@romero.es"])
    response = ana.post(
        "/people/new/",
        {"given_name": "Lucia", "family_name": "Romero", "emails": "lucia@romero.es", "lifecycle_stage": "suspect",
         "addr-TOTAL_FORMS": "0", "addr-INITIAL_FORMS": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert Card.objects.filter(family_name="Romero").count() == 2  # a warning, not a block
    assert "This looks like" in response.content.decode() and existing.display_name in response.content.decode()


def test_the_web_queue_shows_pairs_side_by_side_and_merges_then_undoes(ana: Client, queued: Candidate) -> None:
    page = ana.get("/duplicates/?kind=person")
    assert page.status_code == 200 and "Molina" in page.content.decode()
    review = ana.get(f"/duplicates/{queued.pk}/")
    assert review.status_code == 200 and "andres@molina.es" in review.content.decode()
    merged = ana.post(f"/duplicates/{queued.pk}/merge/", {"survivor": queued.left_id})
    assert merged.status_code == 302
    merge = Merge.objects.get()
    card_page = ana.get(f"/cards/{queued.left_id}/").content.decode()
    assert f"/duplicates/merges/{merge.pk}/undo/" in card_page
    assert ana.post(f"/duplicates/merges/{merge.pk}/undo/").status_code == 302
    assert Merge.objects.get().undone_at is not None


def test_the_web_review_of_another_teams_pair_is_404(users: dict[str, Any], queued: Candidate) -> None:
    client = Client()
    client.force_login(users["rep_bo_other_team"])
    assert client.get(f"/duplicates/{queued.pk}/").status_code == 404
    assert client.post(f"/duplicates/{queued.pk}/merge/", {"survivor": queued.left_id}).status_code == 404
    assert Merge.objects.count() == 0


def test_not_a_duplicate_in_the_web_queue_takes_the_pair_out(ana: Client, queued: Candidate) -> None:
    assert ana.post(f"/duplicates/{queued.pk}/not-duplicate/").status_code == 302
    assert Candidate.objects.get().status == CandidateStatus.NOT_DUPLICATE
    assert "Molina" not in ana.get("/duplicates/?kind=person").content.decode()


def test_a_pair_already_decided_answers_412_and_merges_nothing(users: dict[str, Any], queued: Candidate) -> None:
    api = client_for(users["rep_ana"])
    assert api.post(f"/api/v1/dedup/candidates/{queued.pk}/not-duplicate").status_code == 200
    assert api.post(f"/api/v1/dedup/candidates/{queued.pk}/not-duplicate").status_code == 412
    assert api.post(f"/api/v1/dedup/candidates/{queued.pk}/merge", {}, content_type="application/json").status_code == 412
    assert Merge.objects.count() == 0 and not Card.objects.filter(archived_at__isnull=False).exists()


def test_oversized_or_malformed_look_ups_are_refused_naming_the_field(users: dict[str, Any]) -> None:
    api = client_for(users["rep_ana"])
    too_long = api.post("/api/v1/dedup/check", {"kind": "person", "family_name": "x" * 151}, content_type="application/json")
    assert too_long.status_code == 422 and "family_name" in str(too_long.json())
    many = api.post("/api/v1/dedup/check", {"kind": "person", "phones": ["600000000"] * 21}, content_type="application/json")
    assert many.status_code == 422 and "phones" in str(many.json())
    wrong = api.post("/api/v1/dedup/check", {"kind": "person", "emails": [7]}, content_type="application/json")
    assert wrong.status_code == 422
    assert api.post("/api/v1/dedup/scan", {"kind": "robots"}, content_type="application/json").status_code == 422


def test_the_queue_costs_the_same_queries_for_one_pair_or_many(users: dict[str, Any], make_person: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(12):
        make_person(given_name="Pablo", family_name=f"Serrano{chr(97 + i)}", emails=[f"pablo{i}@serrano.es"])
        make_person(given_name="Pablo", family_name=f"Serrano{chr(97 + i)}", emails=[f"PABLO{i}@serrano.es"])
    services.scan(user=users["rep_ana"], kind="person")
    assert Candidate.objects.count() == 12
    api = client_for(users["rep_ana"])
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/dedup/candidates").json()["items"]) == 12
    web = Client()
    web.force_login(users["rep_ana"])
    with django_assert_max_num_queries(12):
        assert web.get("/duplicates/").status_code == 200
