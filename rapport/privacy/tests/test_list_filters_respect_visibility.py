"""A list filtered by a related card's id never tells what that card's own page hides."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.privacy.tests.factories import api_client


@pytest.fixture
def hidden_employer(users: dict[str, Any], make_org: Any, make_person: Any) -> dict[str, Any]:
    """rep_ana's contact Lucía works at an organisation of the other team, which rep_ana cannot see;
    an admin logged a call with both."""
    from rapport.activities.services import log_activity
    from rapport.cards.services import add_employment

    hidden = make_org(owner="rep_bo_other_team", name="Competidor Oculto S.L.")
    lucia = make_person(given_name="Lucía", family_name="Pardo")
    add_employment(user=users["admin"], person=lucia, data={"organization": hidden.id})
    log_activity(user=users["admin"], data={"kind": "call", "summary": "Pricing", "cards": [lucia.id, hidden.id]})
    return {"hidden": hidden, "lucia": lucia}


def test_people_of_an_organisation_the_rep_cannot_see_are_not_listed(users: dict[str, Any], hidden_employer: dict[str, Any]) -> None:
    api = api_client(users["rep_ana"])
    hidden = hidden_employer["hidden"]
    assert api.get(f"/api/v1/organizations/{hidden.id}").status_code == 404
    answer = api.get(f"/api/v1/people?organization={hidden.id}")
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"organization": ["Unknown organisation."]}
    # The same answer as for an organisation that does not exist: nothing to tell them apart.
    assert api.get("/api/v1/people?organization=987654").json() == answer.json()


def test_an_export_filtered_by_a_hidden_organisation_is_refused(users: dict[str, Any], hidden_employer: dict[str, Any]) -> None:
    answer = api_client(users["rep_ana"]).get(f"/api/v1/exports/people?organization={hidden_employer['hidden'].id}")
    assert answer.status_code == 422
    assert b"Luc" not in answer.content


def test_activities_filtered_by_a_hidden_card_are_refused(users: dict[str, Any], hidden_employer: dict[str, Any]) -> None:
    api = api_client(users["rep_ana"])
    answer = api.get(f"/api/v1/activities?card={hidden_employer['hidden'].id}")
    assert answer.status_code == 422 and answer.json()["errors"] == {"card": ["Unknown card."]}
    # The rep's own contact still lists the call.
    own = api.get(f"/api/v1/activities?card={hidden_employer['lucia'].id}")
    assert own.status_code == 200 and own.json()["count"] == 1


def test_whoever_sees_the_organisation_still_gets_its_people(users: dict[str, Any], hidden_employer: dict[str, Any]) -> None:
    answer = api_client(users["admin"]).get(f"/api/v1/people?organization={hidden_employer['hidden'].id}")
    assert answer.status_code == 200
    assert [item["id"] for item in answer.json()["items"]] == [hidden_employer["lucia"].id]


@pytest.mark.parametrize("value", ["abc", "-1", "0", str(2**63), "1.5"])
def test_a_related_id_that_is_not_an_id_is_refused_with_422(users: dict[str, Any], value: str) -> None:
    api = api_client(users["rep_ana"])
    assert api.get(f"/api/v1/people?organization={value}").status_code == 422
    assert api.get(f"/api/v1/activities?card={value}").status_code == 422
