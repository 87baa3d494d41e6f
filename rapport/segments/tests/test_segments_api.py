"""Saved segments through the API: building, sharing, members, live counts and refusals that never leak."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.cards.models import Card
from rapport.catalog.models import InformationItem
from rapport.segments.models import Segment


def api(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/segments", body, content_type="application/json")


@pytest.fixture
def cards(users: Any, make_org: Any, make_person: Any) -> dict[str, Any]:
    return {
        "alfa": make_org(name="Alfa", tier="A", lifecycle_stage="customer", industry="Retail"),
        "beta": make_org(name="Beta", tier="B", lifecycle_stage="customer", industry="Retail"),
        "gama": make_org(name="Gama", tier="A", lifecycle_stage="prospect", industry="Retail"),
        "ben": make_org(owner="rep_ben", name="Ben's", tier="A", lifecycle_stage="customer", industry="Retail"),
        "other": make_org(owner="rep_bo_other_team", name="Other team", tier="A", lifecycle_stage="customer", industry="Retail"),
        "maria": make_person(tier="A", lifecycle_stage="customer"),
    }


def test_a_segment_of_five_conditions_counts_and_pages_only_visible_members(users: Any, cards: Any) -> None:
    client = api(users["rep_ana"])
    body = {
        "name": "Retail A customers",
        "kind": "organization",
        "conditions": [
            {"field": "stage", "value": ["customer", "regular"]},
            {"field": "tier", "value": ["A"]},
            {"field": "industry", "value": ["Retail"]},
            {"field": "team", "value": [users["rep_ana"].teams.get().id]},
            {"field": "referred", "value": False},
        ],
    }
    created = post(client, body)
    assert created.status_code == 201, created.content
    segment_id = created.json()["id"]
    detail = client.get(f"/api/v1/segments/{segment_id}").json()
    assert detail["count"] == 2 and detail["count_exact"] is True  # Alfa and Ben's; never the other team's
    members = client.get(f"/api/v1/segments/{segment_id}/members?limit=1").json()
    assert members["count"] == 2 and [m["name"] for m in members["items"]] == ["Alfa"]
    assert [m["name"] for m in client.get(f"/api/v1/segments/{segment_id}/members?offset=1").json()["items"]] == ["Ben's"]


def test_a_private_segment_is_404_for_everyone_else_and_a_shared_one_is_usable_by_the_team(users: Any, cards: Any) -> None:
    ana = api(users["rep_ana"])
    private = post(ana, {"name": "Mine", "conditions": [{"field": "tier", "value": ["A"]}]}).json()["id"]
    team_id = users["rep_ana"].teams.get().id
    shared = post(ana, {"name": "Team's", "team": team_id, "conditions": [{"field": "tier", "value": ["A"]}]}).json()["id"]
    ben, bo = api(users["rep_ben"]), api(users["rep_bo_other_team"])
    assert ben.get(f"/api/v1/segments/{private}").status_code == 404
    assert ben.get(f"/api/v1/segments/{shared}/members").status_code == 200
    assert bo.get(f"/api/v1/segments/{shared}").status_code == 404
    assert [s["id"] for s in ben.get("/api/v1/segments").json()["items"]] == [shared]
    assert ben.patch(f"/api/v1/segments/{shared}", {"name": "Taken"}, content_type="application/json").status_code == 403
    assert api(users["manager_mei"]).get(f"/api/v1/segments/{shared}").status_code == 200


def test_the_same_segment_shows_each_user_only_the_cards_they_may_see(users: Any, cards: Any) -> None:
    team_id = users["rep_ana"].teams.get().id
    seg = post(api(users["manager_mei"]), {"name": "A", "team": team_id, "conditions": [{"field": "tier", "value": ["A"]}]})
    segment_id = seg.json()["id"]
    names = lambda u: sorted(m["name"] for m in api(users[u]).get(f"/api/v1/segments/{segment_id}/members").json()["items"])  # noqa: E731
    assert "Other team" not in names("rep_ana") and "Other team" not in names("manager_mei")


def test_sharing_with_a_team_the_user_is_not_in_is_refused(users: Any, cards: Any) -> None:
    from rapport.accounts.models import Team

    south = Team.objects.get(name="South")
    response = post(api(users["rep_ana"]), {"name": "x", "team": south.id, "conditions": []})
    assert response.status_code == 422 and "team" in response.json()["errors"]
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "stage", "value": ["nope"]}, "conditions[0].value"),
        ({"field": "stage", "value": "customer"}, "conditions[0].value"),
        ({"field": "colour", "value": ["red"]}, "conditions[0].field"),
        ({"field": "owner", "value": ["1"]}, "conditions[0].value"),
        ({"field": "created", "value": {"from": "2026-05-01", "to": "2026-01-01"}}, "conditions[0].value.to"),
        ({"field": "country", "value": ["Spain"]}, "conditions[0].value"),
        ({"field": "priority", "value": "yes"}, "conditions[0].value"),
        ({"field": "item", "value": {"key": "no_such_item"}}, "conditions[0].value"),
        ({"field": "method", "value": ["internet"]}, "conditions[0].value"),
        ({"field": "owner", "value": [99_999]}, "conditions[0].value"),
        ({"field": "team", "value": [99_999]}, "conditions[0].value"),
    ],
)
def test_a_bad_condition_is_refused_naming_it_and_nothing_is_saved(users: Any, condition: dict[str, Any], field: str) -> None:
    response = post(api(users["rep_ana"]), {"name": "Bad", "conditions": [condition]})
    assert response.status_code == 422
    assert field in response.json()["errors"], response.json()
    assert not Segment.objects.exists()


def test_people_and_teams_of_another_team_are_refused_like_unknown_ones(users: Any) -> None:
    from rapport.accounts.models import Team

    client = api(users["rep_ana"])
    south = Team.objects.get(name="South").id
    foreign = post(client, {"name": "x", "conditions": [{"field": "team", "value": [south]}]})
    assert foreign.status_code == 422 and "Unknown team" in foreign.json()["errors"]["conditions[0].value"][0]
    other = post(client, {"name": "x", "conditions": [{"field": "owner", "value": [users["rep_bo_other_team"].id]}]})
    assert other.status_code == 422
    assert post(client, {"name": "x", "conditions": [{"field": "owner", "value": [users["rep_ben"].id]}]}).status_code == 201


def test_an_item_above_the_users_clearance_is_refused_like_an_unknown_one(users: Any) -> None:
    special = InformationItem.objects.filter(sensitivity="special", active=True).first()
    assert special is not None
    hidden = post(api(users["rep_ana"]), {"name": "S", "conditions": [{"field": "item", "value": {"key": special.key}}]})
    unknown = post(api(users["rep_ana"]), {"name": "S", "conditions": [{"field": "item", "value": {"key": "zz_unknown"}}]})
    assert hidden.status_code == unknown.status_code == 422
    assert hidden.json()["errors"]["conditions[0].value"][0].replace(special.key, "K") == unknown.json()["errors"]["conditions[0].value"][0].replace("zz_unknown", "K")
    confidential = InformationItem.objects.filter(sensitivity="confidential", active=True).first()
    assert confidential is not None
    assert post(api(users["analyst_al"]), {"name": "C", "conditions": [{"field": "item", "value": {"key": confidential.key}}]}).status_code == 422


def test_a_shared_segment_on_an_item_the_user_may_not_use_is_refused_not_widened(users: Any, cards: Any) -> None:
    special = InformationItem.objects.filter(sensitivity="special", active=True).first()
    assert special is not None
    users["manager_mei"].__class__.objects.filter(pk=users["manager_mei"].pk).update(can_see_special=True)
    mei = users["manager_mei"].__class__.objects.get(pk=users["manager_mei"].pk)
    team_id = users["rep_ana"].teams.get().id
    created = post(api(mei), {"name": "Health", "team": team_id, "conditions": [{"field": "item", "value": {"key": special.key}}]})
    assert created.status_code == 201, created.content
    segment_id = created.json()["id"]
    ana = api(users["rep_ana"])
    assert ana.get(f"/api/v1/segments/{segment_id}/members").status_code == 422
    assert ana.get(f"/api/v1/segments/{segment_id}").status_code == 422
    listed = ana.get("/api/v1/segments?counts=true").json()["items"]
    assert [(s["id"], s["count"]) for s in listed] == [(segment_id, None)]


def test_a_segment_on_an_item_deleted_since_is_refused(users: Any, cards: Any) -> None:
    from rapport.catalog import selectors as catalog

    item = InformationItem.objects.filter(sensitivity="internal", active=True, applies_to__in=["any", "organization"]).first()
    assert item is not None
    client = api(users["rep_ana"])
    segment_id = post(client, {"name": "I", "conditions": [{"field": "item", "value": {"key": item.key}}]}).json()["id"]
    assert client.get(f"/api/v1/segments/{segment_id}/members").status_code == 200
    InformationItem.objects.filter(pk=item.pk).update(active=False)
    catalog.clear_cache()
    response = client.get(f"/api/v1/segments/{segment_id}/members")
    assert response.status_code == 422 and "Unknown catalog item" in str(response.json()["errors"])


def test_a_stale_version_is_refused_and_the_owner_can_delete(users: Any) -> None:
    client = api(users["rep_ana"])
    segment_id = post(client, {"name": "V", "conditions": []}).json()["id"]
    assert client.patch(f"/api/v1/segments/{segment_id}", {"name": "W"}, content_type="application/json", HTTP_IF_MATCH='"1"').status_code == 200
    assert client.patch(f"/api/v1/segments/{segment_id}", {"name": "X"}, content_type="application/json", HTTP_IF_MATCH='"1"').status_code == 412
    assert Segment.objects.get(pk=segment_id).name == "W"
    assert client.delete(f"/api/v1/segments/{segment_id}").status_code == 204
    assert client.get(f"/api/v1/segments/{segment_id}").status_code == 404


def test_the_funnel_report_filters_by_segment(users: Any, cards: Any) -> None:
    client = api(users["rep_ana"])
    segment_id = post(client, {"name": "Prospects", "conditions": [{"field": "stage", "value": ["prospect"]}]}).json()["id"]
    report = client.get(f"/api/v1/reports/funnel?segment={segment_id}").json()
    assert report["total"] == 1 and report["counts"]["prospect"] == 1
    other = post(api(users["rep_bo_other_team"]), {"name": "Theirs", "conditions": []}).json()["id"]
    assert client.get(f"/api/v1/reports/funnel?segment={other}").status_code == 422
    assert Card.objects.count() == 6
