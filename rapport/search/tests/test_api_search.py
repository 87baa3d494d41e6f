"""POST /api/v1/search: the searched text in a JSON body, only visible cards; GET is deprecated."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
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


def _search_queries(client: Client, body: dict[str, Any]) -> tuple[Any, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _post(client, body)  # warm the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = _post(client, body)
    assert response.status_code == 200, response.content
    return response, len(ctx.captured_queries)


def test_a_search_answers_the_cards_as_the_card_instances_answer_them(users: dict[str, Any], make_org: Any, make_person: Any) -> None:
    from ninja.responses import NinjaJSONEncoder

    from rapport.cards.schemas import CardOut
    from rapport.search.selectors import search_cards

    ana = users["rep_ana"]
    org = make_org(name="Ferretería Ruiz", phones=["+34 912 345 678", "+34 913 000 111"], emails=["a@ruiz.es", "b@ruiz.es"])
    make_person(given_name="Ana", family_name="Ruiz", organization=org.id, phones=["+34 612 345 678"])
    make_person(given_name="Rui", family_name="Ruizes", owner="rep_ben")
    make_org(owner="rep_bo_other_team", name="Ruiz Secreto")
    answer = _post(_client(ana), {"q": "rui"}).json()
    expected = [CardOut.from_card(c) for c in search_cards(ana, "rui")]
    assert len(expected) == 3
    assert answer["items"] == json.loads(json.dumps(expected, cls=NinjaJSONEncoder))
    assert answer["count"] == 3


def test_a_prefix_search_runs_the_same_queries_for_one_card_found_and_for_twenty(users: dict[str, Any], make_person: Any) -> None:
    client = _client(users["rep_ana"])
    make_person(given_name="Zacarías", family_name="Únicoapellido", phones=["+34 612 345 678"], emails=["z@x.es"])
    for i in range(30):
        make_person(given_name=f"P{i}", family_name="Garciamarquez", owner="rep_ben", phones=["+34 612 345 678"], emails=[f"p{i}@x.es"])
    one, queries_for_one = _search_queries(client, {"q": "únicoa"})
    twenty, queries_for_twenty = _search_queries(client, {"q": "garciam", "limit": 20})
    assert (one.json()["count"], twenty.json()["count"]) == (1, 20)
    # Exact words, the newest cards of each name starting with the prefix (PostgreSQL: one
    # statement; SQLite: the names, then their cards), the cards, and their phones and e-mails
    # together; the token's user with their teams is cached (before: the user and the rep's
    # teams, and a query each for phones and e-mails, 8). When the names leave the page short,
    # the rest of the prefix's range and the typo neighbours of the word too.
    names = 1 if connection.vendor == "postgresql" else 2
    assert queries_for_twenty == 3 + names
    assert queries_for_one == 5 + names
