"""POST /api/v1/search: the searched text in a JSON body, only visible cards; GET is deprecated."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.accounts.services import create_token
from rapport.core.api import api


def _client(user: Any, scope: str = "write") -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, scope=scope)}")


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/search", body, content_type="application/json")


def test_a_rep_searches_by_post_and_sees_only_cards_in_reach(users: dict[str, Any], make_org: Any) -> None:
    mine = make_org(name="Ferretería López")
    make_org(owner="rep_bo_other_team", name="Ferretería Secreta")
    response = _post(_client(users["rep_ana"]), {"q": "ferreteria"})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [mine.id]
    assert "Secreta" not in response.content.decode()


def test_kind_and_limit_narrow_a_post_search(users: dict[str, Any], make_org: Any, make_person: Any) -> None:
    for i in range(3):
        make_org(name=f"Acme {i}")
    make_person(given_name="Acme", family_name="Person")
    client = _client(users["rep_ana"])
    assert _post(client, {"q": "acme", "kind": "person"}).json()["count"] == 1
    assert _post(client, {"q": "acme", "kind": "organization", "limit": 2}).json()["count"] == 2


def test_a_read_only_token_may_search_by_post(users: dict[str, Any], make_org: Any) -> None:
    make_org(name="Ferretería López")
    client = _client(users["rep_ana"], scope="read")
    assert _post(client, {"q": "ferreteria"}).json()["count"] == 1
    # ...and still may not write.
    assert client.post("/api/v1/organizations", {"name": "X"}, content_type="application/json").status_code == 403


def test_an_over_long_query_is_refused_by_get_and_post(users: dict[str, Any], make_org: Any) -> None:
    make_org(name="Acme")
    client = _client(users["rep_ana"])
    long = "acme" + "x" * 300
    for response in (_post(client, {"q": long}), client.get("/api/v1/search", {"q": long})):
        assert response.status_code == 422
        assert "200" in response.content.decode()  # the limit is named in the error


def test_bad_search_bodies_are_refused(users: dict[str, Any]) -> None:
    client = _client(users["rep_ana"])
    for body in ({}, {"q": ""}, {"q": "acme", "kind": "planet"}, {"q": "acme", "limit": 0}, {"q": "acme", "owner": 1}):
        assert _post(client, body).status_code == 422, body


def test_the_query_string_search_still_answers_but_says_it_is_deprecated(users: dict[str, Any], make_org: Any) -> None:
    make_org(name="Ferretería López")
    response = _client(users["rep_ana"]).get("/api/v1/search", {"q": "ferreteria"})
    assert response.status_code == 200 and response.json()["count"] == 1
    assert response["Deprecation"] == "true"
    operations = api.get_openapi_schema()["paths"]["/api/v1/search"]
    assert operations["get"]["deprecated"] is True
    assert not operations["post"].get("deprecated")
    assert "application/json" in operations["post"]["requestBody"]["content"]
    assert all(p["name"] != "q" for p in operations["post"].get("parameters", []))


def test_the_web_session_needs_the_csrf_token_to_search(users: dict[str, Any], make_org: Any) -> None:
    make_org(name="Ferretería López")
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["rep_ana"])
    assert _post(client, {"q": "ferreteria"}).status_code in (401, 403)
