"""Who is calling: a number in any format finds the card, exactly first, then by its national
number; an unknown number and a number out of reach answer the same; bad input is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.services import create_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/screen-pop"


def api(user: Any, scope: str = "write") -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, scope=scope)}")


def pop(client: Client, body: dict[str, Any]) -> Any:
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("typed", [
    "+34612345678", "+34 612 34 56 78", "0034 612 345 678", "612 345 678", "(612) 34-56-78", "tel:+34-612-34-56-78",
])
def test_a_number_typed_in_any_format_finds_the_card(users: Any, maria: Any, typed: str) -> None:
    response = pop(api(users["rep_ana"]), {"phone": typed})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["matches"] == 1 and body["number"] == "+34612345678"
    assert body["customer"]["id"] == maria.pk and body["customer"]["name"] == "María García"


def test_a_number_without_its_country_code_read_in_another_country_is_found_by_its_national_number(users: Any, maria: Any) -> None:
    body = pop(api(users["rep_ana"]), {"phone": "612345678", "region": "CN"}).json()
    assert body["number"] == "+86612345678"  # as read in China: no exact match...
    assert body["matches"] == 1 and body["customer"]["id"] == maria.pk  # ...but the national number is María's


def test_the_users_time_zone_gives_the_country_of_numbers_without_a_code(users: Any, make_person: Any) -> None:
    from rapport.agenda.services import update_settings

    ion = make_person(given_name="Ion", family_name="Popescu", phones=["+40 721 234 567"])
    update_settings(user=users["rep_ana"], data={"time_zone": "Europe/Bucharest"})
    body = pop(api(users["rep_ana"]), {"phone": "0721 234 567"}).json()
    assert body["region"] == "RO" and body["number"] == "+40721234567" and body["customer"]["id"] == ion.pk


def test_an_unknown_number_answers_no_match_with_the_number_as_read(users: Any, maria: Any) -> None:
    response = pop(api(users["rep_ana"]), {"phone": "+34 611 00 00 00"})
    assert response.status_code == 200
    assert response.json() == {"by": "phone", "number": "+34611000000", "region": "ES", "matches": 0, "candidates": [], "customer": None}


def test_a_number_on_a_card_out_of_reach_answers_exactly_like_an_unknown_number(users: Any, hidden: Any) -> None:
    client = api(users["rep_ana"])
    pop(client, {"phone": "+34 600 00 00 01"})  # warm-up: the first request loads translations and caches
    answers = {}
    for label, number in (("out of reach", "+34 699 11 22 33"), ("unknown", "+34 699 11 22 34")):
        with CaptureQueriesContext(connection) as queries:
            response = pop(client, {"phone": number})
        body = response.json()
        body.pop("number")
        answers[label] = (response.status_code, body, len(queries))
    assert answers["out of reach"] == answers["unknown"]
    assert answers["unknown"][1]["matches"] == 0
    # The owner's team sees it: the number is there, only out of rep_ana's reach.
    assert pop(api(users["rep_bo_other_team"]), {"phone": "+34 699 11 22 33"}).json()["customer"]["id"] == hidden.pk


def test_a_number_shared_by_several_cards_lists_them_as_candidates(users: Any, maria: Any, make_person: Any, hidden: Any) -> None:
    husband = make_person(given_name="Pedro", family_name="Ruiz", phones=["+34 612 34 56 78"])
    body = pop(api(users["rep_ana"]), {"phone": "612345678"}).json()
    assert body["matches"] == 2 and body["customer"] is None
    assert {c["id"] for c in body["candidates"]} == {maria.pk, husband.pk}
    chosen = pop(api(users["rep_ana"]), {"card": husband.pk}).json()
    assert chosen["by"] == "card" and chosen["customer"]["name"] == "Pedro Ruiz"


def test_a_card_out_of_reach_cannot_be_chosen_as_a_candidate(users: Any, hidden: Any) -> None:
    response = pop(api(users["rep_ana"]), {"card": hidden.pk})
    assert response.status_code == 404


def test_archived_cards_do_not_pop(users: Any, maria: Any) -> None:
    from rapport.cards.services import archive_card

    archive_card(user=users["rep_ana"], card=maria, archived=True)
    assert pop(api(users["rep_ana"]), {"phone": "+34612345678"}).json()["matches"] == 0


def test_a_name_finds_the_card_too(users: Any, maria: Any, hidden: Any) -> None:
    body = pop(api(users["rep_ana"]), {"name": "maria garcia"}).json()
    assert body["by"] == "name" and body["number"] is None and body["customer"]["id"] == maria.pk
    assert pop(api(users["rep_ana"]), {"name": "Chen Wei"}).json()["matches"] == 0


def test_a_read_only_token_may_pop_because_the_post_changes_nothing(users: Any, maria: Any) -> None:
    response = pop(api(users["rep_ana"], scope="read"), {"phone": "+34612345678"})
    assert response.status_code == 200 and response.json()["matches"] == 1


@pytest.mark.parametrize("body, field", [
    ({"phone": "not a number"}, "phone"),
    ({"phone": ""}, "phone"),
    ({"phone": "1234"}, "phone"),
    ({"phone": "+34 " + "6" * 70}, "phone"),
    ({"phone": "+34612345678", "name": "María"}, "phone"),
    ({}, "phone"),
    ({"name": "   "}, "name"),
    ({"phone": 612345678}, "phone"),
    ({"phone": "+34612345678", "region": "Spain"}, "region"),
    ({"card": "x"}, "card"),
    ({"phone": "+34612345678", "colour": "red"}, "colour"),
])
def test_malformed_input_is_refused_by_field_name(users: Any, maria: Any, body: dict[str, Any], field: str) -> None:
    response = pop(api(users["rep_ana"]), body)
    assert response.status_code == 422, response.json()
    payload = response.json()
    named = set(payload.get("errors", {})) | {str(d["loc"][-1]) for d in payload.get("detail", []) if isinstance(d, dict)}
    assert field in named
