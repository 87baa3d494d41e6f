"""Searching the audit log: administrators only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from rapport.audit.models import Action, AuditEntry
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.visibility import scope_for


@dataclass
class AuditFilter:
    """One filter definition for the audit page and ``GET /api/v1/audit``."""

    record: str = ""  # "cards.card:12", or a record type alone ("cards.card")
    user: str = ""  # a user id or username (the actor)
    action: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def ensure_auditor(user: Any) -> None:
    if scope_for(user).role != "admin":
        raise PermissionDenied("Only administrators may read the audit log.")


def search(user: Any, flt: AuditFilter) -> QuerySet[AuditEntry]:
    ensure_auditor(user)
    qs = AuditEntry.objects.all()
    if flt.record:
        record_type, _, record_id = flt.record.strip().partition(":")
        if not record_type or len(flt.record) > 140:
            raise ValidationError.single("record", "Expected app.model or app.model:id, e.g. cards.card:12.")
        qs = qs.filter(record_type=record_type)
        if record_id:
            qs = qs.filter(record_id=record_id)
    if flt.user:
        who = flt.user.strip()
        qs = qs.filter(actor_id=int(who)) if who.isdigit() and len(who) <= 18 else qs.filter(actor=who)
    if flt.action:
        if flt.action not in Action.values:
            raise ValidationError.single("action", f"{flt.action!r} is not one of: {', '.join(Action.values)}.")
        qs = qs.filter(action=flt.action)
    if flt.since:
        qs = qs.filter(at__gte=flt.since)
    if flt.until:
        qs = qs.filter(at__lt=flt.until)
    if flt.since and flt.until and flt.until <= flt.since:
        raise ValidationError.single("until", "The end is not after the start.")
    return qs.order_by("-at", "-id")


def page(user: Any, flt: AuditFilter, *, offset: int = 0, limit: int = 50) -> tuple[list[AuditEntry], int]:
    qs = search(user, flt)
    return list(qs[offset : offset + limit]), qs.count()
