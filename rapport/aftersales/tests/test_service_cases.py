"""Complaints and service cases: opened, assigned, due, changed with If-Match, resolved once."""

from __future__ import annotations

from typing import Any

from rapport.aftersales.models import ServiceCase
from rapport.aftersales.tests.factories import api, order
from rapport.audit.models import AuditEntry


def _open(client: Any, card: Any, **data: Any) -> Any:
    return client.post("/api/v1/aftersales/cases", {"card": card.pk, "subject": "Llegó roto", **data}, content_type="application/json")


def test_a_case_goes_to_the_customers_owner_unless_assigned(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    placed = order(card, number="ERP-7")
    response = _open(api(users["rep_ben"]), card, kind="complaint", details="La caja llegó abierta", order=placed.pk, due_on="2026-12-10")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assigned_to"] == users["rep_ana"].pk and body["opened_by"] == users["rep_ben"].pk
    assert body["order"] == placed.pk and body["due_on"] == "2026-12-10" and body["resolved_at"] is None
    assert response["ETag"] == '"1"'
    assert AuditEntry.objects.filter(record_type="aftersales.servicecase", record_id=str(body["id"]), action="create").exists()


def test_a_case_is_changed_with_if_match_and_412_when_someone_changed_it_since(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    client = api(users["rep_ana"])
    case_id = _open(client, card).json()["id"]
    url = f"/api/v1/aftersales/cases/{case_id}"
    changed = client.patch(url, {"assigned_to": users["rep_ben"].pk, "kind": "service"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200 and changed["ETag"] == '"2"'
    assert changed.json()["assigned_to"] == users["rep_ben"].pk and changed.json()["kind"] == "service"
    stale = client.patch(url, {"subject": "Otro asunto"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    missing = client.patch(url, {"subject": "Otro asunto"}, content_type="application/json")
    assert missing.status_code == 428
    case = ServiceCase.objects.get(pk=case_id)
    assert case.subject == "Llegó roto" and case.version == 2


def test_a_case_is_resolved_once(make_org: Any, users: dict[str, Any]) -> None:
    client = api(users["rep_ana"])
    case_id = _open(client, make_org()).json()["id"]
    url = f"/api/v1/aftersales/cases/{case_id}/resolve"
    done = client.post(url, {"resolution": "Enviamos una unidad nueva"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["resolved_by"] == users["rep_ana"].pk
    again = client.post(url, {"resolution": "Otra vez"}, content_type="application/json")
    assert again.status_code == 422 and "resolved already" in again.json()["errors"]["resolution"][0]
    assert ServiceCase.objects.get(pk=case_id).resolution == "Enviamos una unidad nueva"
    closed = client.patch(f"/api/v1/aftersales/cases/{case_id}", {"subject": "x"}, content_type="application/json", HTTP_IF_MATCH='"2"')
    assert closed.status_code == 422


def test_resolving_needs_a_resolution_and_a_current_version(make_org: Any, users: dict[str, Any]) -> None:
    client = api(users["rep_ana"])
    case_id = _open(client, make_org()).json()["id"]
    url = f"/api/v1/aftersales/cases/{case_id}/resolve"
    assert client.post(url, {"resolution": "  "}, content_type="application/json").status_code == 422
    assert client.post(url, {"resolution": "Hecho"}, content_type="application/json", HTTP_IF_MATCH='"7"').status_code == 412
    assert ServiceCase.objects.get(pk=case_id).resolved_at is None


def test_bad_input_names_every_field_and_opens_nothing(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    foreign_order = order(make_org("rep_bo_other_team", name="Sur S.A."))
    response = _open(
        api(users["rep_ana"]), card, subject="x" * 301, kind="praise", details="y" * 5001, order=foreign_order.pk,
        assigned_to=users["rep_bo_other_team"].pk, due_on="31/12/2026",
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"subject", "kind", "details", "order", "assigned_to", "due_on"}
    assert not ServiceCase.objects.exists()


def test_an_order_of_another_customer_and_an_analyst_assignee_are_refused(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    other = order(make_org(name="Otra S.A."))
    client = api(users["rep_ana"])
    assert _open(client, card, order=other.pk).json()["errors"]["order"] == ["This order belongs to another customer."]
    assert "assigned_to" in _open(client, card, assigned_to=users["analyst_al"].pk).json()["errors"]
    assert "assigned_to" in _open(client, card, assigned_to=999999).json()["errors"]
    assert not ServiceCase.objects.exists()


def test_open_cases_are_listed_by_due_day(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    client = api(users["rep_ana"])
    later = _open(client, card, due_on="2026-12-20").json()["id"]
    sooner = _open(client, card, due_on="2026-12-05").json()["id"]
    resolved = _open(client, card).json()["id"]
    client.post(f"/api/v1/aftersales/cases/{resolved}/resolve", {"resolution": "ok"}, content_type="application/json")
    body = client.get("/api/v1/aftersales/cases").json()
    assert body["count"] == 2 and [c["id"] for c in body["items"]] == [sooner, later]
    assert client.get("/api/v1/aftersales/cases?status=resolved").json()["items"][0]["id"] == resolved
    assert client.get("/api/v1/aftersales/cases?status=closed").status_code == 422
