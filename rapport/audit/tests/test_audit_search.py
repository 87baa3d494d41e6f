"""Administrators search the audit log on the web and through GET /api/v1/audit; nobody else can."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from rapport.accounts.services import create_token
from rapport.privacy.tests.factories import api_client


def test_the_api_filters_by_record_user_action_and_time(users: dict[str, Any], make_org: Any) -> None:
    mine = make_org(name="Mine")
    make_org(owner="rep_ben", name="Ben's")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['admin'], scope='admin')}")
    by_record = api.get(f"/api/v1/audit?record=cards.card:{mine.id}").json()
    assert by_record["count"] == 1 and by_record["items"][0]["actor"] == "rep_ana"
    by_user = api.get("/api/v1/audit?user=rep_ben&action=create&record=cards.card").json()
    assert [e["record_id"] for e in by_user["items"]] == [str(users["rep_ben"].owned_cards.get().id)]
    by_id = api.get(f"/api/v1/audit?user={users['rep_ben'].id}&action=create&record=cards.card").json()
    assert by_id["count"] == 1
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/audit", {"since": future}).json()["count"] == 0
    assert api.get("/api/v1/audit?action=nonsense").status_code == 422
    response = api.get("/api/v1/audit")
    assert response["Cache-Control"] == "no-store"


def test_only_administrators_read_the_audit_log(users: dict[str, Any]) -> None:
    for name in ("rep_ana", "manager_mei", "analyst_al"):
        assert api_client(users[name]).get("/api/v1/audit").status_code == 403
        web = Client()
        web.force_login(users[name])
        assert web.get("/audit/").status_code == 403
    # An admin's token needs the admin scope for it.
    assert api_client(users["admin"]).get("/api/v1/audit").status_code == 403


def test_the_audit_page_lists_and_filters_entries_for_an_admin(users: dict[str, Any], make_org: Any) -> None:
    make_org(name="Audited SA")
    web = Client()
    web.force_login(users["admin"])
    page = web.get("/audit/?action=create&record=cards.card")
    assert page.status_code == 200
    html = page.content.decode()
    assert "rep_ana" in html and "cards.card" in html
    fragment = web.get("/audit/?action=login", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "admin" in fragment
