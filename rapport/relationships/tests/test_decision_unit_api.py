"""The decision-unit API: the graph contract, member and relationship writes, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.relationships.models import Member, Relationship
from rapport.relationships.tests.factories import org_with_people


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


@pytest.fixture
def api(users: dict[str, Any]) -> Client:
    return client_for(users["rep_ana"])


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, data, content_type="application/json")


def patch(client: Client, url: str, data: Any, **headers: str) -> Any:
    return client.patch(url, data, content_type="application/json", headers=headers)


def test_it_returns_nodes_edges_and_warnings_of_an_organization(api: Client, users: dict[str, Any]) -> None:
    org, (ana, luis, marta) = org_with_people(users)
    url = f"/api/v1/organizations/{org.pk}/decision-unit"
    r = post(api, url + "/members", {"person": ana.pk, "level": "decision", "roles": ["decision_maker", "evaluator"], "influence": 60, "attitude": "supporter", "coach": True, "cares_about": "Uptime"})
    assert r.status_code == 201, r.content
    assert r.json()["roles"] == ["decision_maker", "evaluator"]
    assert post(api, url + "/members", {"person": luis.pk, "level": "management", "function": "technical", "influence": 40, "attitude": "neutral"}).status_code == 201
    r = post(api, f"/api/v1/people/{luis.pk}/relationships", {"to_person": ana.pk, "kind": "reports_to", "strength": 3})
    assert r.status_code == 201, r.content
    assert r.json()["directed"] is True

    body = api.get(url).json()
    assert set(body) >= {"nodes", "edges", "warnings"}
    node = next(n for n in body["nodes"] if n["person"] == ana.pk)
    assert {k: node[k] for k in ("level", "roles", "influence", "attitude", "coach")} == {
        "level": "decision", "roles": ["decision_maker", "evaluator"], "influence": 60, "attitude": "supporter", "coach": True
    }
    assert body["edges"] == [{"id": r.json()["id"], "source": luis.pk, "target": ana.pk, "kind": "reports_to", "directed": True, "strength": 3, "note": ""}]
    assert body["warnings"] == []
    assert body["influence_total"] == 100


def test_a_friend_relationship_holds_both_ways_by_default(api: Client, users: dict[str, Any]) -> None:
    _org, (ana, luis, _m) = org_with_people(users)
    r = post(api, f"/api/v1/people/{ana.pk}/relationships", {"to_person": luis.pk, "kind": "friend"})
    assert r.json()["directed"] is False
    again = post(api, f"/api/v1/people/{luis.pk}/relationships", {"to_person": ana.pk, "kind": "friend"})
    assert again.status_code == 422
    assert "kind" in again.json()["errors"]


def test_a_member_takes_level_and_function_from_the_current_employment(api: Client, users: dict[str, Any]) -> None:
    from rapport.cards.services import add_employment, create_organization, create_person

    org = create_organization(user=users["rep_ana"], data={"name": "Acme"})
    person = create_person(user=users["rep_ana"], data={"given_name": "Ion"})
    add_employment(user=users["rep_ana"], person=person, data={"organization": org.pk, "level": "management", "function": "procurement_finance"})
    r = post(api, f"/api/v1/organizations/{org.pk}/decision-unit/members", {"person": person.pk})
    assert (r.json()["level"], r.json()["function"]) == ("management", "procurement_finance")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"influence": 101}, "influence"),
        ({"influence": -1}, "influence"),
        ({"influence": "lots"}, "influence"),
        ({"influence": True}, "influence"),
        ({"roles": ["boss"]}, "roles"),
        ({"roles": "decision_maker,user"}, "roles"),
        ({"attitude": "hostile"}, "attitude"),
        ({"level": "ceo"}, "level"),
        ({"function": "marketing"}, "function"),
        ({"coach": "maybe"}, "coach"),
        ({"cares_about": "x" * 1001}, "cares_about"),
        ({"color": "red"}, "color"),
    ],
)
def test_bad_member_input_is_refused_naming_the_field_and_saves_nothing(api: Client, users: dict[str, Any], payload: dict[str, Any], field: str) -> None:
    org, (ana, *_rest) = org_with_people(users)
    r = post(api, f"/api/v1/organizations/{org.pk}/decision-unit/members", {"person": ana.pk, **payload})
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"]
    assert not Member.objects.exists()


def test_an_update_with_a_stale_version_answers_412_and_changes_nothing(api: Client, users: dict[str, Any]) -> None:
    org, (ana, *_rest) = org_with_people(users)
    node = post(api, f"/api/v1/organizations/{org.pk}/decision-unit/members", {"person": ana.pk, "attitude": "neutral"}).json()
    url = f"/api/v1/decision-unit/members/{node['member']}"
    first = patch(api, url, {"attitude": "supporter"}, **{"If-Match": f'"{node["version"]}"'})
    assert first.status_code == 200, first.content
    stale = patch(api, url, {"attitude": "opponent"}, **{"If-Match": f'"{node["version"]}"'})
    assert stale.status_code == 412
    assert Member.objects.get().attitude == "supporter"


def test_a_bad_field_in_an_update_leaves_the_other_fields_unchanged(api: Client, users: dict[str, Any]) -> None:
    org, (ana, *_rest) = org_with_people(users)
    node = post(api, f"/api/v1/organizations/{org.pk}/decision-unit/members", {"person": ana.pk, "influence": 10}).json()
    r = patch(api, f"/api/v1/decision-unit/members/{node['member']}", {"attitude": "supporter", "influence": 500})
    assert r.status_code == 422
    member = Member.objects.get()
    assert (member.attitude, member.influence) == ("neutral", 10)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "enemy"}, "kind"),
        ({"kind": "friend", "strength": 4}, "strength"),
        ({"kind": "friend", "to_person": "SELF"}, "to_person"),
        ({"kind": "friend", "to_person": 99999999}, "to_person"),
        ({"kind": "friend", "color": "red"}, "color"),
        ({"kind": "friend", "note": "x" * 501}, "note"),
    ],
)
def test_bad_relationship_input_is_refused_naming_the_field(api: Client, users: dict[str, Any], payload: dict[str, Any], field: str) -> None:
    _org, (ana, luis, _m) = org_with_people(users)
    data = {"to_person": luis.pk, **payload}
    if data["to_person"] == "SELF":
        data["to_person"] = ana.pk
    source = data.pop("from_person", ana.pk)
    r = post(api, f"/api/v1/people/{source}/relationships", data)
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"]
    assert not Relationship.objects.exists()


def test_an_analyst_reads_the_unit_but_may_not_change_it(users: dict[str, Any]) -> None:
    org, (ana, *_rest) = org_with_people(users)
    al = client_for(users["analyst_al"])
    assert al.get(f"/api/v1/organizations/{org.pk}/decision-unit").status_code == 200
    assert post(al, f"/api/v1/organizations/{org.pk}/decision-unit/members", {"person": ana.pk}).status_code == 403


def test_a_member_and_a_relationship_can_be_removed(api: Client, users: dict[str, Any]) -> None:
    org, (ana, luis, _m) = org_with_people(users)
    node = post(api, f"/api/v1/organizations/{org.pk}/decision-unit/members", {"person": ana.pk}).json()
    edge = post(api, f"/api/v1/people/{ana.pk}/relationships", {"to_person": luis.pk, "kind": "rival"}).json()
    assert api.delete(f"/api/v1/decision-unit/relationships/{edge['id']}").status_code == 204
    assert api.delete(f"/api/v1/decision-unit/members/{node['member']}").status_code == 204
    assert not Member.objects.exists() and not Relationship.objects.exists()
