"""Moving cards through the lifecycle by hand: legal moves, refusals naming the rule, history."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards.models import Card, StageChange
from rapport.funnel import services
from rapport.funnel.tests.factories import api


def move(client: Any, card: Any, to: str, reason: str | None = None, **headers: Any) -> Any:
    kind = "organizations" if card.kind == "organization" else "people"
    body: dict[str, Any] = {"to": to}
    if reason is not None:
        body["reason"] = reason
    return client.post(f"/api/v1/{kind}/{card.id}/stage", body, content_type="application/json", **headers)


def test_a_suspect_moves_to_prospect_and_the_move_is_recorded_with_who_when_why_and_rule(users: Any, make_org: Any) -> None:
    org = make_org()
    response = move(api(users["rep_ana"]), org, "prospect", "Asked for a price list at the fair")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from_stage"], body["to_stage"], body["rule"], body["changed_by"]) == ("suspect", "prospect", "advance", "rep_ana")
    assert body["reason"] == "Asked for a price list at the fair"
    org.refresh_from_db()
    assert org.lifecycle_stage == "prospect" and org.version == 2
    history = api(users["rep_ana"]).get(f"/api/v1/organizations/{org.id}/stage-history").json()
    assert [(h["from_stage"], h["to_stage"]) for h in history["items"]] == [("suspect", "prospect"), ("", "suspect")]
    assert history["stage"] == "prospect" and "lost" in history["allowed_moves"] and "regular" not in history["allowed_moves"]


@pytest.mark.parametrize(
    ("start", "to", "rule"),
    [
        ("lost", "regular", "lost_requires_reopen"),
        ("lost", "customer", "lost_requires_reopen"),
        ("suspect", "target", "target_from_prospect"),
        ("prospect", "regular", "regular_requires_customer"),
        ("prospect", "dormant", "dormant_requires_customer"),
        ("customer", "prospect", "no_unbuying"),
        ("customer", "customer", "same_stage"),
    ],
)
def test_an_illegal_move_is_refused_with_422_naming_the_rule_and_changes_nothing(
    users: Any, make_org: Any, start: str, to: str, rule: str
) -> None:
    org = make_org(lifecycle_stage=start)
    before = StageChange.objects.filter(card=org).count()
    response = move(api(users["rep_ana"]), org, to, "because")
    assert response.status_code == 422
    assert response.json()["errors"]["rule"] == [rule]
    # The key is for programs; the sentence a person reads names no internal rule.
    assert rule not in response.json()["errors"]["to"][0] and "(rule" not in response.json()["errors"]["to"][0]
    org.refresh_from_db()
    assert org.lifecycle_stage == start
    assert StageChange.objects.filter(card=org).count() == before


def test_losing_a_card_needs_a_reason_and_reopening_it_needs_one_too(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    client = api(users["rep_ana"])
    refused = move(client, org, "lost")
    assert refused.status_code == 422 and "reason" in refused.json()["errors"]
    assert move(client, org, "lost", "Chose a competitor on price").status_code == 200
    assert move(client, org, "prospect").status_code == 422
    reopened = move(client, org, "prospect", "New buyer, wants to talk again")
    assert reopened.status_code == 200 and reopened.json()["rule"] == "reopen"


def test_a_target_needs_clear_intent_strong_power_and_a_near_term_timeframe(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    client = api(users["rep_ana"])
    refused = move(client, org, "target")
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors["rule"] == ["target_requires_qualification"]
    assert errors["missing"] == ["intent", "power", "timeframe"]
    services.set_qualification(user=users["rep_ana"], card=org, data={"intent": "clear", "power": "strong", "timeframe": "year"})
    assert move(client, org, "target").json()["errors"]["missing"] == ["timeframe"]
    services.set_qualification(user=users["rep_ana"], card=org, data={"timeframe": "quarter"})
    accepted = move(client, org, "target")
    assert accepted.status_code == 200
    assert accepted.json()["evidence"] == {"intent": "clear", "power": "strong", "timeframe": "quarter"}


def test_a_card_of_another_team_answers_404_like_a_missing_one(users: Any, make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team")
    client = api(users["rep_ana"])
    assert move(client, org, "prospect").status_code == 404
    assert client.get(f"/api/v1/organizations/{org.id}/stage-history").status_code == 404
    assert client.get("/api/v1/organizations/999999/stage-history").status_code == 404
    assert Card.objects.get(pk=org.id).lifecycle_stage == "suspect"


def test_the_path_kind_must_match_the_card(users: Any, make_org: Any) -> None:
    org = make_org()
    assert move(api(users["rep_ana"]), type("P", (), {"kind": "person", "id": org.id})(), "prospect").status_code == 404


def test_an_analyst_may_read_the_history_but_not_move_a_card(users: Any, make_org: Any) -> None:
    org = make_org()
    client = api(users["analyst_al"])
    assert client.get(f"/api/v1/organizations/{org.id}/stage-history").status_code == 200
    assert move(client, org, "prospect").status_code == 403


@pytest.mark.parametrize("body", [{"to": "nope"}, {"to": 3}, {}, {"to": "prospect", "reason": "x" * 501}])
def test_a_malformed_move_is_refused_with_422(users: Any, make_org: Any, body: dict[str, Any]) -> None:
    org = make_org()
    response = api(users["rep_ana"]).post(f"/api/v1/organizations/{org.id}/stage", body, content_type="application/json")
    assert response.status_code == 422
    assert Card.objects.get(pk=org.id).lifecycle_stage == "suspect"


def test_a_move_with_a_stale_version_is_refused_with_412(users: Any, make_org: Any) -> None:
    org = make_org()
    client = api(users["rep_ana"])
    assert move(client, org, "prospect", HTTP_IF_MATCH='"1"').status_code == 200
    assert move(client, org, "target", HTTP_IF_MATCH='"1"').status_code == 412


def test_editing_the_stage_on_the_card_follows_the_same_rules(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="lost")
    client = api(users["rep_ana"])
    refused = client.patch(f"/api/v1/organizations/{org.id}", {"lifecycle_stage": "regular"}, content_type="application/json",
                           HTTP_IF_MATCH=f'"{org.version}"')
    assert refused.status_code == 422
    message = refused.json()["errors"]["lifecycle_stage"][0]
    assert message.startswith("Lost → Regular customer is not possible: A lost card is first reopened")
    assert "lost_requires_reopen" not in message
    fresh = make_org(name="Fresh SA")
    assert client.patch(f"/api/v1/organizations/{fresh.id}", {"lifecycle_stage": "prospect"}, content_type="application/json",
                        HTTP_IF_MATCH=f'"{fresh.version}"').status_code == 200
    last = StageChange.objects.filter(card=fresh).order_by("-id").first()
    assert last is not None and last.rule == "advance"
