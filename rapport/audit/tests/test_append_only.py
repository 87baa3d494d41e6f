"""Nothing in the application edits or deletes an audit entry: ORM, admin, API and database refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from rapport.accounts.services import create_token
from rapport.audit.models import AppendOnly, AuditEntry
from rapport.audit.services import purge_expired, record


def test_the_orm_refuses_to_change_or_delete_entries(users: dict[str, Any]) -> None:
    entry = record(action="export", record_type="cards.card", record_id=1, actor=users["admin"])
    entry.actor = "someone else"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(actor="x")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).actor == "admin"


def test_the_database_refuses_an_update_that_goes_around_the_orm(users: dict[str, Any]) -> None:
    entry = record(action="export", record_type="cards.card", record_id=1, actor=users["admin"])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET actor = 'x' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).actor == "admin"


def test_the_admin_site_offers_no_add_change_or_delete(users: dict[str, Any]) -> None:
    admin = users["admin"]
    admin.is_superuser = True
    admin.save()
    entry = record(action="export", record_type="cards.card", record_id=1, actor=admin)
    web = Client()
    web.force_login(admin)
    assert web.get("/admin/audit/auditentry/").status_code == 200
    assert web.get("/admin/audit/auditentry/add/").status_code == 403
    assert web.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    web.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"actor": "forged"})
    assert AuditEntry.objects.get(pk=entry.pk).actor == "admin"


def test_the_api_has_no_way_to_change_or_delete_entries(users: dict[str, Any]) -> None:
    entry = record(action="export", record_type="cards.card", record_id=1, actor=users["admin"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['admin'], scope='admin')}")
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api, method)(f"/api/v1/audit/{entry.pk}", {"actor": "x"}, content_type="application/json")
        assert response.status_code in (404, 405, 422)  # no such route (422: the path matched no kind of card)
        response = getattr(api, method)("/api/v1/audit", {"actor": "x"}, content_type="application/json")
        assert response.status_code in (404, 405, 422)  # no such route (422: the path matched no kind of card)
    assert AuditEntry.objects.get(pk=entry.pk).actor == "admin"


def test_retention_removes_only_entries_older_than_configured(users: dict[str, Any], settings: Any) -> None:
    old = AuditEntry(action="export", actor="admin", at=timezone.now() - dt.timedelta(days=400))
    old.save()
    recent = record(action="export", actor=users["admin"])
    settings.RAPPORT_AUDIT_RETENTION_DAYS = 0
    assert purge_expired() == 0
    settings.RAPPORT_AUDIT_RETENTION_DAYS = 365
    assert purge_expired() == 1
    assert not AuditEntry.objects.filter(pk=old.pk).exists() and AuditEntry.objects.filter(pk=recent.pk).exists()
    assert AuditEntry.objects.filter(action="purge").exists()
