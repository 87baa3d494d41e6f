"""Gifts and hospitality: values recorded, the admin's limits enforced with a warning and an audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.services import create_token
from rapport.activities.models import Activity
from rapport.relationships.models import AuditEntry, Gift
from rapport.relationships.tests.factories import org_with_people


def client_for(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def policy(users: dict[str, Any]) -> None:
    r = client_for(users["admin"]).put(
        "/api/v1/decision-unit/gifts/policy", {"currency": "EUR", "per_gift_limit": "50", "per_contact_year_limit": "120"}, content_type="application/json"
    )
    assert r.status_code == 200, r.content


def test_only_an_admin_sets_the_policy_and_every_change_is_audited(users: dict[str, Any], policy: None) -> None:
    r = client_for(users["manager_mei"]).put("/api/v1/decision-unit/gifts/policy", {"per_gift_limit": "5000"}, content_type="application/json")
    assert r.status_code == 403
    assert client_for(users["rep_ana"]).get("/api/v1/decision-unit/gifts/policy").json()["per_gift_limit"] == "50.00"
    entry = AuditEntry.objects.get(action="gift_policy_changed")
    assert entry.user == users["admin"] and entry.details["after"]["per_gift_limit"] == "50.00"


def test_a_gift_within_the_limit_is_recorded_with_an_activity(users: dict[str, Any], policy: None) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    r = post(client_for(users["rep_ana"]), f"/api/v1/people/{vera.pk}/gifts", {"kind": "gift", "description": "Calendar and pen", "value": "12.5"})
    assert r.status_code == 201, r.content
    assert r.json()["value"] == "12.50" and r.json()["currency"] == "EUR" and r.json()["warnings"] == []
    gift = Gift.objects.get()
    assert gift.activity is not None and gift.activity.kind == "gift"
    assert not AuditEntry.objects.filter(action="gift_over_limit").exists()


def test_a_gift_over_the_limit_is_refused_with_a_warning_naming_the_limit(users: dict[str, Any], policy: None) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    r = post(client_for(users["rep_ana"]), f"/api/v1/people/{vera.pk}/gifts", {"kind": "gift", "description": "Wine case", "value": 80})
    assert r.status_code == 422
    assert "50.00 EUR per gift" in r.json()["errors"]["value"][0]
    assert not Gift.objects.exists() and not Activity.objects.exists()


def test_a_confirmed_gift_over_the_limit_needs_a_reason_and_is_audited(users: dict[str, Any], policy: None) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    api = client_for(users["rep_ana"])
    url = f"/api/v1/people/{vera.pk}/gifts"
    no_reason = post(api, url, {"kind": "hospitality", "description": "Dinner", "value": 80, "confirm_over_limit": True})
    assert no_reason.status_code == 422 and "justification" in no_reason.json()["errors"]
    r = post(api, url, {"kind": "hospitality", "description": "Dinner", "value": 80, "confirm_over_limit": True, "justification": "Signed contract, manager approved"})
    assert r.status_code == 201 and r.json()["over_limit"] is True and r.json()["warnings"]
    entry = AuditEntry.objects.get(action="gift_over_limit")
    assert entry.gift_id == r.json()["id"] and entry.person_id == vera.pk and entry.user == users["rep_ana"]
    assert entry.details["justification"] == "Signed contract, manager approved"
    from rapport.audit.models import AuditEntry as LogEntry

    logged = LogEntry.objects.get(field="gift_over_limit")
    assert logged.record_id == str(vera.pk) and logged.actor_id == users["rep_ana"].id


def test_the_yearly_limit_per_contact_adds_up_the_gifts_of_the_year(users: dict[str, Any], policy: None) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    api = client_for(users["rep_ana"])
    url = f"/api/v1/people/{vera.pk}/gifts"
    for _ in range(2):
        assert post(api, url, {"kind": "gift", "description": "Lunch", "value": 50, "given_on": "2025-03-01"}).status_code == 201
    third = post(api, url, {"kind": "gift", "description": "Lunch", "value": 30, "given_on": "2025-06-01"})
    assert third.status_code == 422 and "yearly limit of 120.00 EUR" in third.json()["errors"]["value"][0]
    next_year = post(api, url, {"kind": "gift", "description": "Lunch", "value": 30, "given_on": "2026-01-10"})
    assert next_year.status_code == 201


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"value": "ten"}, "value"),
        ({"value": -5}, "value"),
        ({"value": "1e12"}, "value"),
        ({"value": 5, "currency": "USD"}, "currency"),
        ({"value": 5, "currency": "EURO"}, "currency"),
        ({"value": 5, "kind": "bribe"}, "kind"),
        ({"value": 5, "description": ""}, "description"),
        ({"value": 5, "given_on": "yesterday"}, "given_on"),
        ({"value": 5, "given_on": "2999-01-01"}, "given_on"),
        ({"value": 5, "confirm_over_limit": "perhaps"}, "confirm_over_limit"),
    ],
)
def test_bad_gift_input_is_refused_naming_the_field(users: dict[str, Any], policy: None, payload: dict[str, Any], field: str) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    r = post(client_for(users["rep_ana"]), f"/api/v1/people/{vera.pk}/gifts", {"kind": "gift", "description": "Pen", **payload})
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"]
    assert not Gift.objects.exists()


def test_gifts_to_a_contact_out_of_reach_answer_404(users: dict[str, Any], policy: None) -> None:
    _org, (vera, *_rest) = org_with_people(users)
    bo = client_for(users["rep_bo_other_team"])
    assert bo.get(f"/api/v1/people/{vera.pk}/gifts").status_code == 404
    assert post(bo, f"/api/v1/people/{vera.pk}/gifts", {"kind": "gift", "description": "Pen", "value": 1}).status_code == 404


def test_the_policy_saved_in_the_django_admin_goes_through_the_audited_service(users: dict[str, Any]) -> None:
    from rapport.relationships.models import GiftPolicy

    admin = Client()
    admin.force_login(users["admin"])  # Rapport's admin role: staff, not a Django superuser
    r = admin.post("/admin/relationships/giftpolicy/add/", {"currency": "RON", "per_gift_limit": "250", "per_contact_year_limit": ""})
    assert r.status_code == 302, r.content[:500]
    assert GiftPolicy.objects.get().per_gift_limit == 250
    assert AuditEntry.objects.filter(action="gift_policy_changed", user=users["admin"]).count() == 1
    assert admin.get("/admin/relationships/stylecoaching/").status_code == 200
    rep = Client()
    rep.force_login(users["rep_ana"])
    assert rep.get("/admin/relationships/giftpolicy/").status_code in (302, 403)


def test_an_admin_edits_the_coaching_in_the_django_admin(users: dict[str, Any]) -> None:
    from rapport.relationships.models import StyleCoaching

    row = StyleCoaching.objects.get(style="driver", language="es")
    admin = Client()
    admin.force_login(users["admin"])
    data = {f: getattr(row, f) for f in ("how_to_open", "emphasise", "avoid", "evidence")} | {"question_words": "qué, cuándo"}
    r = admin.post(f"/admin/relationships/stylecoaching/{row.pk}/change/", data)
    assert r.status_code == 302, r.content[:300]
    row.refresh_from_db()
    assert row.question_words == "qué, cuándo"
