"""A rep never sees people or edges of cards they cannot see, even through the map of an
organisation they can see."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.cards.services import add_employment, create_person
from rapport.relationships import services
from rapport.relationships.tests.factories import org_with_people


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


@pytest.fixture
def shared_org(users: dict[str, Any]) -> dict[str, Any]:
    """An organisation of team North with one visible member and one secret member (a card
    owned by the South rep), tied together and to an outside friend from South."""
    org, (visible,) = org_with_people(users, names=("Vera",))
    admin = users["admin"]
    secret = create_person(user=users["rep_bo_other_team"], data={"given_name": "Sergio", "family_name": "Secreto"})
    friend = create_person(user=users["rep_bo_other_team"], data={"given_name": "Fabio", "family_name": "Fuera"})
    add_employment(user=admin, person=secret, data={"organization": org.pk, "level": "decision"})
    services.add_member(user=admin, organization_id=org.pk, data={"person": visible.pk, "influence": 40, "attitude": "supporter", "coach": True, "level": "management"})
    hidden = services.add_member(user=admin, organization_id=org.pk, data={"person": secret.pk, "influence": 60, "attitude": "opponent", "level": "decision", "roles": ["decision_maker"]})
    services.add_relationship(user=admin, data={"from_person": visible.pk, "to_person": secret.pk, "kind": "reports_to"})
    rel = services.add_relationship(user=admin, data={"from_person": visible.pk, "to_person": friend.pk, "kind": "friend"})
    return {"org": org, "visible": visible, "secret": secret, "friend": friend, "hidden_member": hidden, "friend_edge": rel}


def test_a_rep_sees_only_the_people_and_edges_of_cards_they_can_see(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    body = client_for(users["rep_ana"]).get(f"/api/v1/organizations/{shared_org['org'].pk}/decision-unit").json()
    assert [n["person"] for n in body["nodes"]] == [shared_org["visible"].pk]
    assert body["edges"] == []
    text = str(body)
    assert "Secreto" not in text and "Fuera" not in text
    # Totals and warnings are computed over what the rep can see: nothing about the 60% opponent.
    assert body["influence_total"] == 40
    assert {w["code"] for w in body["warnings"]} == {"influence_total", "no_decision_level"}


def test_an_admin_sees_the_whole_map(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    body = client_for(users["admin"]).get(f"/api/v1/organizations/{shared_org['org'].pk}/decision-unit").json()
    assert {n["person"] for n in body["nodes"]} == {shared_org[k].pk for k in ("visible", "secret", "friend")}
    assert len(body["edges"]) == 2


def test_an_organization_out_of_reach_answers_404_like_a_missing_one(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    bo = client_for(users["rep_bo_other_team"])
    assert bo.get(f"/api/v1/organizations/{shared_org['org'].pk}/decision-unit").status_code == 404
    assert bo.get("/api/v1/organizations/987654/decision-unit").status_code == 404


def test_hidden_members_and_edges_cannot_be_changed_by_guessing_ids(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    ana = client_for(users["rep_ana"])
    member = shared_org["hidden_member"]
    assert ana.patch(f"/api/v1/decision-unit/members/{member.pk}", {"attitude": "supporter"}, content_type="application/json").status_code == 404
    assert ana.delete(f"/api/v1/decision-unit/members/{member.pk}").status_code == 404
    assert ana.delete(f"/api/v1/decision-unit/relationships/{shared_org['friend_edge'].pk}").status_code == 404
    member.refresh_from_db()
    assert member.attitude == "opponent"


def test_a_rep_cannot_link_or_add_a_person_they_cannot_see(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    ana = client_for(users["rep_ana"])
    r = ana.post(f"/api/v1/people/{shared_org['visible'].pk}/relationships", {"to_person": shared_org["secret"].pk, "kind": "rival"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"] == {"to_person": ["Unknown person."]}
    r = ana.post(f"/api/v1/organizations/{shared_org['org'].pk}/decision-unit/members", {"person": shared_org["friend"].pk}, content_type="application/json")
    assert r.status_code == 422 and "person" in r.json()["errors"]


def test_the_rep_of_the_other_team_sees_no_edges_into_cards_of_north(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    bo = client_for(users["rep_bo_other_team"])
    r = bo.get(f"/api/v1/people/{shared_org['visible'].pk}/relationship")
    assert r.status_code == 404


def test_a_persons_relationship_list_leaves_out_people_out_of_reach(users: dict[str, Any], shared_org: dict[str, Any]) -> None:
    url = f"/api/v1/people/{shared_org['visible'].pk}/relationships"
    assert client_for(users["rep_ana"]).get(url).json() == {"items": [], "count": 0}
    assert client_for(users["admin"]).get(url).json()["count"] == 2
