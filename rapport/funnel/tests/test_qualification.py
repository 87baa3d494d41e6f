"""Qualification of prospects and targets: the seeds' three situations and what the card recommends."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.funnel.models import Qualification
from rapport.funnel.tests.factories import api


def put(client: Any, card: Any, body: dict[str, Any], **headers: Any) -> Any:
    return client.put(f"/api/v1/organizations/{card.id}/qualification", body, content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("answers", "treatment"),
    [
        ({"intent": "clear", "power": "strong", "timeframe": "later", "check_back_on": "2027-01-15"}, "park"),
        ({"intent": "clear", "power": "weak", "timeframe": "now"}, "keep_in_touch"),
        ({"intent": "clear", "power": "strong", "timeframe": "now"}, "invest"),
        ({"intent": "unclear"}, "qualify"),
        ({"intent": "none"}, "none"),
    ],
)
def test_each_situation_maps_to_its_recommended_treatment(users: Any, make_org: Any, answers: dict[str, Any], treatment: str) -> None:
    org = make_org(lifecycle_stage="prospect")
    response = put(api(users["rep_ana"]), org, answers)
    assert response.status_code == 200, response.content
    assert response.json()["treatment"]["key"] == treatment


def test_a_parked_prospect_shows_the_date_to_check_back(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    body = put(api(users["rep_ana"]), org, {"intent": "clear", "power": "strong", "timeframe": "later", "check_back_on": "2027-01-15"}).json()
    assert "2027-01-15" in body["treatment"]["detail"]
    assert body["target_missing"] == ["timeframe"]


def test_the_card_page_says_what_a_prospect_lacks_to_become_a_target(users: Any, ana: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    put(api(users["rep_ana"]), org, {"intent": "clear", "power": "weak"})
    html = ana.get(f"/cards/{org.id}/").content.decode()
    assert "To become a target" in html
    assert "Purchasing power is not known to be strong." in html
    assert "No near-term timeframe" in html
    assert "Purchase intent is not clear yet." not in html
    assert "Keep in touch" in html


def test_weakening_a_targets_qualification_contradicts_its_stage_and_is_refused(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    client = api(users["rep_ana"])
    put(client, org, {"intent": "clear", "power": "strong", "timeframe": "quarter"})
    assert client.post(f"/api/v1/organizations/{org.id}/stage", {"to": "target"}, content_type="application/json").status_code == 200
    refused = put(client, org, {"power": "weak"})
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors["rule"] == ["target_requires_qualification"] and "Contradicts the stage" in errors["power"][0]
    assert Qualification.objects.get(card=org).power == "strong"


def test_qualification_is_refused_on_a_customer(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="customer")
    response = put(api(users["rep_ana"]), org, {"intent": "clear"})
    assert response.status_code == 422 and "stage" in response.json()["errors"]
    assert not Qualification.objects.filter(card=org).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"intent": "maybe"}, "intent"), ({"power": "huge"}, "power"), ({"timeframe": "soon"}, "timeframe"),
     ({"budget": "lots"}, "budget"), ({"authority": "boss"}, "authority"), ({"check_back_on": "not a date"}, "check_back_on")],
)
def test_a_bad_value_names_its_field_and_saves_nothing(users: Any, make_org: Any, body: dict[str, Any], field: str) -> None:
    org = make_org(lifecycle_stage="prospect")
    response = put(api(users["rep_ana"]), org, {"intent": "clear", **body})
    assert response.status_code == 422
    body = response.json()
    named = set(body.get("errors", {})) | {str(d["loc"][-1]) for d in body["detail"]}
    assert field in named
    assert not Qualification.objects.filter(card=org).exists()


def test_a_stale_qualification_version_is_refused(users: Any, make_org: Any) -> None:
    org = make_org(lifecycle_stage="prospect")
    client = api(users["rep_ana"])
    assert put(client, org, {"intent": "unclear"}, HTTP_IF_MATCH='"0"').json()["version"] == 1
    assert put(client, org, {"intent": "clear"}, HTTP_IF_MATCH='"0"').status_code == 412
    assert Qualification.objects.get(card=org).intent == "unclear"


def test_another_teams_prospect_cannot_be_qualified_or_read(users: Any, make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team", lifecycle_stage="prospect")
    client = api(users["rep_ana"])
    assert put(client, org, {"intent": "clear"}).status_code == 404
    assert client.get(f"/api/v1/organizations/{org.id}/qualification").status_code == 404
