"""The whole customer on one screen: a person's card with their employer's commercial record,
relationship and coaching, and the decision-unit warnings — only what the user may see."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.accounts.services import create_token

pytestmark = pytest.mark.django_db


def pop(user: Any, body: dict[str, Any]) -> Any:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")
    return client.post("/api/v1/screen-pop", json.dumps(body), content_type="application/json")


@pytest.fixture
def customer(users: Any, make_org: Any, make_person: Any) -> dict[str, Any]:
    """Distribuidora Norte with María García (decision maker, an opponent) as its buyer: an open
    deal, a delivered order of engine oil, an invoice 40 days late, a promise and a complaint."""
    from rapport.activities.services import log_activity
    from rapport.aftersales.services import open_case
    from rapport.commerce import services as commerce
    from rapport.commerce.tests.factories import priced_catalog
    from rapport.deals.services import create_deal
    from rapport.relationships.services import add_member, set_stage, set_style
    from rapport.visits.services import add_promise

    ana, admin = users["rep_ana"], users["admin"]
    org = make_org(phones=["+34 944 00 11 22"])
    maria = make_person(phones=["+34 612 34 56 78"], organization=org.pk, title="Jefa de compras")
    products = priced_catalog(admin)
    commerce.create_order(user=ana, card=org, data={
        "currency": "EUR", "ordered_on": "2026-01-10", "status": "delivered",
        "lines": [{"product": products["oil"].pk, "quantity": 10, "unit_price": "24.50"}]})
    today = timezone.localdate()
    commerce.create_invoice(user=ana, card=org, data={
        "currency": "EUR", "amount": "245.00", "issued_on": (today - dt.timedelta(days=70)).isoformat(),
        "due_on": (today - dt.timedelta(days=40)).isoformat(), "external_id": "F-2026-001"})
    create_deal(user=ana, data={"organization": org.pk, "name": "Summer oil range", "currency": "EUR", "amount": "12000"})
    add_promise(user=ana, card=org, data={"by": "us", "text": "Send the new price list"})
    open_case(user=ana, card=org, data={"subject": "Two cans arrived dented"})
    log_activity(user=ana, data={"kind": "call", "summary": "Asked about summer prices", "cards": [maria.pk]})
    set_stage(user=ana, person_id=maria.pk, stage="engaged")
    set_style(user=ana, person_id=maria.pk, style="analytical")
    add_member(user=ana, organization_id=org.pk, data={"person": maria.pk, "influence": 100, "attitude": "opponent",
                                                         "roles": ["decision_maker"], "level": "decision"})
    return {"org": org, "maria": maria}


def test_a_call_from_the_buyer_shows_her_and_her_companys_whole_record(users: Any, customer: dict[str, Any]) -> None:
    body = pop(users["rep_ana"], {"phone": "612 34 56 78"}).json()
    c = body["customer"]
    org = customer["org"]
    assert c["name"] == "María García" and c["works_at"] == [{"id": org.pk, "name": org.display_name, "title": "Jefa de compras"}]
    assert c["relationship"]["stage"] == "engaged" and c["relationship"]["style"] == "analytical"
    assert c["relationship"]["how_to_open"]  # the coaching of the analytical style
    assert [a["summary"] for a in c["last_contacts"]] == ["Asked about summer prices"]
    assert [d["name"] for d in c["open_deals"]] == ["Summer oil range"]
    assert [o["status"] for o in c["orders"]] == ["delivered"]
    assert [(p["name"], p["orders"], Decimal(p["quantity"])) for p in c["products"]] == [("Engine oil 5 L", 1, Decimal(10))]
    [invoice] = c["receivables"]
    assert invoice["number"] == "F-2026-001" and invoice["days_overdue"] == 40 and invoice["cell"] == "long_small"
    assert [(o["currency"], Decimal(o["amount"])) for o in c["overdue"]] == [("EUR", Decimal("245"))]
    assert [p["text"] for p in c["promises"]] == ["Send the new price list"]
    assert [s["subject"] for s in c["complaints"]] == ["Two cans arrived dented"]
    codes = {w["code"] for w in c["warnings"]}
    assert {"decision_maker_not_supporter", "no_coach"} <= codes


def test_a_call_from_the_switchboard_shows_the_organisation_and_its_people(users: Any, customer: dict[str, Any]) -> None:
    c = pop(users["rep_ana"], {"phone": "+34944001122"}).json()["customer"]
    assert c["kind"] == "organization" and c["relationship"] is None
    assert [p["name"] for p in c["people"]] == ["María García"]
    assert c["open_deals"] and c["receivables"] and c["warnings"]


def test_another_team_sees_neither_the_caller_nor_anything_of_the_customer(users: Any, customer: dict[str, Any]) -> None:
    body = pop(users["rep_bo_other_team"], {"phone": "+34612345678"}).json()
    assert body["matches"] == 0 and body["customer"] is None and body["candidates"] == []


def test_the_screen_pop_reads_a_fixed_number_of_queries_whatever_the_history(users: Any, customer: dict[str, Any]) -> None:
    from rapport.activities.services import log_activity

    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/screen-pop", {"phone": "+34612345678"}, content_type="application/json")
            assert response.json()["matches"] == 1
        return len(queries)

    count()  # the first request of a token also notes its use
    before = count()
    for n in range(5):
        log_activity(user=users["rep_ana"], data={"kind": "call", "summary": f"Call {n}", "cards": [customer["maria"].pk]})
    assert count() == before
    assert before <= 45  # pinned: see docs/agenda.md, "Screen pop"
