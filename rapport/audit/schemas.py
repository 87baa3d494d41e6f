"""API schemas of the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.audit.models import AuditEntry


class AuditFilterParams(Schema):
    record: str = Field("", max_length=140, description="app.model or app.model:id, e.g. cards.card:12")
    user: str = Field("", max_length=150, description="Actor: user id or username")
    action: str = Field("", max_length=16)
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class AuditEntryOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    record_type: str
    record_id: str
    field: str
    old: Any = None
    new: Any = None
    request_id: str
    ip: str | None
    detail: dict[str, Any]
    redacted: bool

    @staticmethod
    def from_entry(e: AuditEntry) -> dict[str, Any]:
        return {
            "id": e.id, "at": e.at, "actor_id": e.actor_id, "actor": e.actor, "action": e.action,
            "record_type": e.record_type, "record_id": e.record_id, "field": e.field, "old": e.old, "new": e.new,
            "request_id": e.request_id, "ip": e.ip, "detail": e.detail or {}, "redacted": e.redacted,
        }


class AuditList(Schema):
    items: list[AuditEntryOut]
    count: int
