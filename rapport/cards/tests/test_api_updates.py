"""Changing cards through the API: versions, archiving and refused fields."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.accounts.services import create_token


def client(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def test_a_patch_with_a_stale_version_is_refused_and_changes_nothing(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(name="Old name")
    ana = client(users["rep_ana"])
    etag = ana.get(f"/api/v1/organizations/{org.id}")["ETag"]
    first = ana.patch(f"/api/v1/organizations/{org.id}", {"name": "First"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    second = ana.patch(f"/api/v1/organizations/{org.id}", {"name": "Second"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert ana.get(f"/api/v1/organizations/{org.id}").json()["name"] == "First"


def test_a_patch_replaces_phones_and_records_a_stage_change(users: dict[str, Any], make_person: Any) -> None:
    person = make_person(phones=["+34 612 345 678"])
    ana = client(users["rep_ana"])
    response = ana.patch(
        f"/api/v1/people/{person.id}", {"phones": ["+40 721 234 567"], "lifecycle_stage": "prospect"}, content_type="application/json",
        HTTP_IF_MATCH=f'"{person.version}"',
    )
    assert response.status_code == 200, response.content
    assert [p["e164"] for p in response.json()["phones"]] == ["+40721234567"]
    timeline = ana.get(f"/api/v1/people/{person.id}/timeline").json()["items"]
    assert timeline[0]["type"] == "stage" and timeline[0]["kind"] == "prospect"


def test_a_bad_patch_names_the_field_and_leaves_the_card_as_it_was(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(name="Keep", phones=["+34 912 345 678"])
    ana = client(users["rep_ana"])
    response = ana.patch(f"/api/v1/organizations/{org.id}", {"name": "New", "phones": ["nope"]}, content_type="application/json", HTTP_IF_MATCH=f'"{org.version}"')
    assert response.status_code == 422
    assert "phones[0]" in response.json()["errors"]
    card = ana.get(f"/api/v1/organizations/{org.id}").json()
    assert card["name"] == "Keep" and card["phones"][0]["e164"] == "+34912345678"


def test_a_rep_cannot_hand_a_card_to_another_user(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    response = client(users["rep_ana"]).patch(
        f"/api/v1/organizations/{org.id}", {"owner": users["rep_ben"].id}, content_type="application/json",
        HTTP_IF_MATCH=f'"{org.version}"',
    )
    assert response.status_code == 422
    assert "owner" in response.json()["errors"]


def test_a_manager_can_reassign_a_card_within_the_team(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    response = client(users["manager_mei"]).patch(
        f"/api/v1/organizations/{org.id}", {"owner": users["rep_ben"].id}, content_type="application/json",
        HTTP_IF_MATCH=f'"{org.version}"',
    )
    assert response.status_code == 200, response.content
    assert response.json()["owner"]["name"] == "rep_ben"


def test_archived_cards_leave_the_default_list_and_can_be_restored(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    ana = client(users["rep_ana"])
    assert ana.post(f"/api/v1/organizations/{org.id}/archive").json()["archived"] is True
    assert ana.get("/api/v1/organizations").json()["count"] == 0
    assert ana.get("/api/v1/organizations?archived=true").json()["count"] == 1
    assert ana.post(f"/api/v1/organizations/{org.id}/restore").json()["archived"] is False


def test_an_analyst_reads_but_cannot_write(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    analyst = client(users["analyst_al"])
    assert analyst.get(f"/api/v1/organizations/{org.id}").status_code == 200
    response = analyst.post(f"/api/v1/organizations/{org.id}/facts", {"item": "business_scope", "value": "x", "source": "api"}, content_type="application/json")
    assert response.status_code == 403


def test_a_malformed_json_body_is_a_clear_error(users: dict[str, Any]) -> None:
    response = client(users["rep_ana"]).post("/api/v1/organizations", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)


def test_an_oversized_body_is_refused(users: dict[str, Any]) -> None:
    response = client(users["rep_ana"]).post(
        "/api/v1/organizations", '{"name": "' + "x" * (6 * 1024 * 1024) + '"}', content_type="application/json"
    )
    assert response.status_code in (400, 413, 422)
    from rapport.cards.models import Card

    assert Card.objects.count() == 0


def test_facts_of_each_type_are_validated(users: dict[str, Any], make_org: Any, make_person: Any) -> None:
    from rapport.catalog import selectors as catalog

    org = make_org()
    ana = client(users["rep_ana"])
    by_type: dict[str, str] = {}
    for key, item in catalog.items().items():
        if item.applies_to == "organization" and item.sensitivity in ("public", "internal"):
            by_type.setdefault(item.type, key)
    bad = {"number": "many", "money": "lots", "date": "2026-13-45", "url": "ftp://x", "choice": "nonexistent", "multi_choice": ["nonexistent"], "email": "a@", "phone": "123"}
    for type_, value in bad.items():
        if type_ not in by_type:
            continue
        response = ana.post(f"/api/v1/organizations/{org.id}/facts", {"item": by_type[type_], "value": value, "source": "api"}, content_type="application/json")
        assert response.status_code == 422, (type_, response.content)
        assert "value" in response.json()["errors"], type_
