"""The card endpoints: the contract other tools rely on, validation and visibility."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.cards.models import Card, Fact


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


@pytest.fixture
def ana(users: dict[str, Any]) -> Client:
    return client_for(users["rep_ana"])


def test_it_creates_an_organization_and_answers_201_with_its_id(ana: Client) -> None:
    response = ana.post(
        "/api/v1/organizations",
        {"name": "Ferretería López", "website": "ferreteria-lopez.mx", "phones": ["+52 55 1234 5678"], "emails": ["Ventas@Ferreteria-Lopez.MX"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] > 0
    assert body["name"] == "Ferretería López"
    assert body["phones"][0]["e164"] == "+525512345678"
    assert body["emails"][0]["address"] == "Ventas@ferreteria-lopez.mx"
    assert body["website"] == "https://ferreteria-lopez.mx"
    assert response["Cache-Control"] == "no-store"


def test_it_creates_a_person_employed_at_an_organization(ana: Client, make_org: Any) -> None:
    org = make_org()
    response = ana.post(
        "/api/v1/people",
        {"given_name": "Ion", "family_name": "Popescu", "phones": ["0721 234 567"], "organization": org.id, "region": "RO"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    person_id = response.json()["id"]
    employments = ana.get(f"/api/v1/people/{person_id}/employments").json()
    assert employments["items"][0]["organization"]["id"] == org.id
    assert response.json()["phones"][0]["e164"] == "+40721234567"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"name": "Acme", "phones": ["not a phone"]}, "phones[0]"),
        ({"name": "Acme", "phones": ["+34 1"]}, "phones[0]"),
        ({"name": "Acme", "emails": ["nobody@"]}, "emails[0]"),
        ({"name": "Acme", "website": "javascript:alert(1)"}, "website"),
        ({"name": "Acme", "tier": "Z"}, "tier"),
        ({"name": "Acme", "team": 999999}, "team"),
    ],
)
def test_it_refuses_bad_organization_input_naming_the_field_and_saves_nothing(ana: Client, payload: dict[str, Any], field: str) -> None:
    response = ana.post("/api/v1/organizations", payload, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Card.objects.count() == 0


def test_it_refuses_a_name_of_the_wrong_type(ana: Client) -> None:
    response = ana.post("/api/v1/organizations", {"name": 12345}, content_type="application/json")
    assert response.status_code == 422
    assert Card.objects.count() == 0


def test_it_refuses_a_person_without_any_name(ana: Client) -> None:
    response = ana.post("/api/v1/people", {"given_name": "", "family_name": ""}, content_type="application/json")
    assert response.status_code == 422
    assert "given_name" in response.json()["errors"]


def test_a_card_of_another_team_answers_404_like_a_missing_one(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team")
    ana = client_for(users["rep_ana"])
    hidden = ana.get(f"/api/v1/organizations/{org.id}")
    missing = ana.get("/api/v1/organizations/987654321")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert ana.post(f"/api/v1/organizations/{org.id}/facts", {"item": "business_scope", "value": "x", "source": "api"}, content_type="application/json").status_code == 404
    assert ana.get(f"/api/v1/organizations/{org.id}/timeline").status_code == 404


def test_a_person_cannot_be_attached_to_an_organization_of_another_team(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(owner="rep_bo_other_team")
    response = client_for(users["rep_ana"]).post(
        "/api/v1/people", {"given_name": "Ana", "family_name": "Ruiz", "organization": org.id}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "organization" in response.json()["errors"]
    assert Card.objects.filter(kind="person").count() == 0


def test_it_records_a_fact_with_provenance_and_shows_it_in_the_profile(ana: Client, make_org: Any) -> None:
    org = make_org()
    response = ana.post(
        f"/api/v1/organizations/{org.id}/facts",
        {"item": "business_scope", "value": "Wholesale of building materials", "source": "customer_stated", "confidence": 80, "observed_at": "2026-01-15"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    fact = response.json()
    assert {"item", "value", "source", "recorded_by", "observed_at", "recorded_at", "confidence", "verified"} <= set(fact)
    assert fact["recorded_by"] == "rep_ana" and fact["confidence"] == 80 and fact["verified"] is False
    card = ana.get(f"/api/v1/organizations/{org.id}").json()
    assert card["profile"]["business_scope"]["value"] == "Wholesale of building materials"
    assert card["profile"]["business_scope"]["source"] == "customer_stated"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"item": "no_such_item", "value": "x", "source": "api"}, "item"),
        ({"item": "business_scope", "value": "x", "source": "no_such_source"}, "source"),
        ({"item": "business_scope", "value": "x" * 20_000, "source": "api"}, "value"),
        ({"item": "business_scope", "value": "x", "source": "api", "observed_at": "yesterday"}, "observed_at"),
        ({"item": "business_scope", "value": "x", "source": "api", "confidence": 101}, "confidence"),
    ],
)
def test_it_refuses_bad_facts_and_keeps_the_profile_unchanged(ana: Client, make_org: Any, payload: dict[str, Any], field: str) -> None:
    org = make_org()
    response = ana.post(f"/api/v1/organizations/{org.id}/facts", payload, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Fact.objects.count() == 0
    org.refresh_from_db()
    assert org.profile == {}


def test_lists_are_paginated_with_items_and_count(ana: Client, make_org: Any) -> None:
    for i in range(7):
        make_org(name=f"Org {i}")
    body = ana.get("/api/v1/organizations?limit=3&offset=3").json()
    assert body["count"] == 7
    assert [c["name"] for c in body["items"]] == ["Org 3", "Org 4", "Org 5"]


def test_the_openapi_document_is_served(ana: Client) -> None:
    response = ana.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/organizations" in response.json()["paths"]


def test_requests_without_credentials_are_refused(db: Any) -> None:
    assert Client().get("/api/v1/organizations").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer rp_wrong").get("/api/v1/organizations").status_code == 401


def test_a_list_longer_than_the_count_limit_says_its_count_is_not_exact(ana: Client, make_org: Any, monkeypatch: Any) -> None:
    from rapport.cards import api

    monkeypatch.setattr(api, "COUNT_LIMIT", 3)
    for i in range(5):
        make_org(name=f"Org {i}")
    body = ana.get("/api/v1/organizations?limit=2").json()
    assert body["count"] == 3 and body["count_exact"] is False
    assert len(body["items"]) == 2
    assert ana.get("/api/v1/organizations?q=Org 1").json() | {"items": []} == {"items": [], "count": 1, "count_exact": True}


def test_an_e_mail_of_an_unknown_kind_is_refused(ana: Client) -> None:
    response = ana.post("/api/v1/organizations", {"name": "Acme", "emails": [{"address": "a@example.com", "kind": "x" * 40}]}, content_type="application/json")
    assert response.status_code == 422
    assert "emails[0].kind" in response.json()["errors"]


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "is not a phone number"), ("es", "no es un número de teléfono"), ("zh-hans", "不是电话号码"), ("ro", "nu este un număr de telefon")],
)
def test_a_validation_error_is_written_in_the_language_the_client_asks_for(users: Any, language: str, message: str) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}", HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/api/v1/organizations", {"name": "Idiomas SA", "phones": ["abc"]}, content_type="application/json")
    assert response.status_code == 422
    assert message in json.dumps(response.json(), ensure_ascii=False)
