"""Writing the audit log. Every app calls ``record`` from its own use-cases (never from signals,
except Django's sign-in events, which have no use-case of ours to live in).

    from rapport.audit.services import record
    record(action="merge", record=survivor, detail={"merged": [loser.id]})
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from rapport.audit.context import current_request, request_id
from rapport.audit.models import Action, AuditEntry, Maintenance

MAX_VALUE_LENGTH = 2000
# Django builds ``Action.values`` anew on every use (a list of ~20 labels' values): about a
# tenth of the cost of writing the read entry of a card.
_ACTIONS = frozenset(Action.values)
REDACTED = "[special]"  # what old/new hold for special-category values: never the value


def _actor_of(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        request = current_request()
        actor = getattr(request, "user", None) if request is not None else None
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, actor.get_username()


def _ip() -> str | None:
    request = current_request()
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _clip(value: Any) -> Any:
    """Values as JSON, long texts clipped: the log says what changed, it is not a second copy."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple)):
        return [_clip(v) for v in list(value)[:50]]
    if isinstance(value, dict):
        return {str(k): _clip(v) for k, v in list(value.items())[:50]}
    text = str(value)
    return text if len(text) <= MAX_VALUE_LENGTH else text[:MAX_VALUE_LENGTH] + "…"


def record_type_of(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def _entry(
    *, action: str, record: models.Model | None, record_type: str, record_id: Any, actor: Any,
    field: str, old: Any, new: Any, detail: dict[str, Any] | None, when: dt.datetime,
) -> AuditEntry:
    if action not in _ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}.")
    actor_id, actor_name = _actor_of(actor)
    if record is not None:
        record_type = record_type or record_type_of(record)
        record_id = record.pk if record_id in (None, "") else record_id
    return AuditEntry(
        at=when, actor_id=actor_id, actor=actor_name, action=action, record_type=record_type[:64],
        record_id=str(record_id if record_id is not None else "")[:64], field=field[:100], old=_clip(old),
        new=_clip(new), request_id=request_id(), ip=_ip(), detail=_clip(detail or {}),
    )


def record(
    *,
    action: str,
    record: models.Model | None = None,
    record_type: str = "",
    record_id: Any = "",
    actor: Any = None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Appends one entry. ``actor`` defaults to the signed-in user of the current request.

    Runs inside the caller's transaction: an action that rolls back leaves no entry, and an
    entry cannot be lost while its action is kept.
    """
    entry = _entry(
        action=action, record=record, record_type=record_type, record_id=record_id, actor=actor,
        field=field, old=old, new=new, detail=detail, when=timezone.now(),
    )
    entry.save()
    return entry


def record_changes(
    *, record: models.Model, changes: dict[str, tuple[Any, Any]], actor: Any = None, action: str = Action.UPDATE,
    detail: dict[str, Any] | None = None,
) -> list[AuditEntry]:
    """One entry per changed field (old → new), written in one statement."""
    now = timezone.now()
    entries = [
        _entry(action=action, record=record, record_type="", record_id="", actor=actor, field=name, old=old,
               new=new, detail=detail, when=now)
        for name, (old, new) in changes.items()
        if old != new
    ]
    return AuditEntry.objects.bulk_create(entries)


def record_many(entries: Iterable[dict[str, Any]]) -> int:
    """Several entries at once (e.g. every row of an import, the confidential reads of a
    request), each given as ``record``'s arguments; returns how many were written.

    One statement written by hand, run for every entry: the reads of confidential items write
    here on about half of all card reads, where compiling ``bulk_create`` cost more than the
    insert itself. The values are prepared by each field, as the ORM prepares them."""
    from rapport.core import sql

    now = timezone.now()
    built = [
        _entry(
            action=e["action"], record=e.get("record"), record_type=e.get("record_type", ""),
            record_id=e.get("record_id", ""), actor=e.get("actor"), field=e.get("field", ""), old=e.get("old"),
            new=e.get("new"), detail=e.get("detail"), when=now,
        )
        for e in entries
    ]
    if not built:
        return 0
    fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]

    def build() -> str:
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
        return f"INSERT INTO {sql.table(AuditEntry)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"

    rows = [[f.get_db_prep_save(getattr(entry, f.attname), connection) for f in fields] for entry in built]
    with connection.cursor() as cursor:
        if len(rows) == 1:
            # The usual case (one card read): psycopg runs ``executemany`` as a pipeline, whose
            # set-up costs several times a plain statement's.
            cursor.execute(sql.statement("audit.record_many", build), rows[0])
        else:
            cursor.executemany(sql.statement("audit.record_many", build), rows)
    return len(built)


# --- the sanctioned maintenance operations ----------------------------------------------------


class _maintenance:
    """Opens the database guard for one operation inside the caller's transaction."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.row: Maintenance | None = None

    def __enter__(self) -> None:
        self.row = Maintenance.objects.create(reason=self.reason)

    def __exit__(self, *exc: Any) -> None:
        assert self.row is not None
        Maintenance.objects.filter(pk=self.row.pk).delete()


def retention_days() -> int:
    return int(getattr(settings, "RAPPORT_AUDIT_RETENTION_DAYS", 0) or 0)


@transaction.atomic
def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Removes entries older than the configured retention (``RAPPORT_AUDIT_RETENTION_DAYS``; 0 keeps all)."""
    days = retention_days()
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    table = AuditEntry._meta.db_table
    with _maintenance("retention"), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE at < %s", [cutoff])
        removed = cursor.rowcount
    if removed:
        record(action=Action.PURGE, record_type="audit.auditentry", detail={"removed": removed, "before": cutoff})
    return removed


def redact_subject(*, record_type: str, record_ids: list[Any], pseudonym: str) -> int:
    """After an erasure: the subject's entries keep what happened and when, but their values are
    removed and the record is named only by a pseudonym. The caller holds the transaction."""
    ids = [str(i) for i in record_ids]
    if not ids:
        return 0
    table = AuditEntry._meta.db_table
    total = 0
    with _maintenance("erasure"), connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET old = NULL, new = NULL, detail = %s, record_id = %s, redacted = %s "
                f"WHERE record_type = %s AND record_id IN ({marks})",
                ["{}", pseudonym, True, record_type, *chunk],
            )
            total += cursor.rowcount
    return total


def redact_item_values(*, record_type: str, field: str) -> int:
    """An item has become special: the values earlier entries recorded for it (``old``/``new``
    of ``field`` on ``record_type``) become ``[special]``, as if it had always been. What
    happened, by whom and when stays. The caller holds the transaction."""
    table = AuditEntry._meta.db_table
    marker = json.dumps(REDACTED)
    value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with _maintenance("reclassification"), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET old = CASE WHEN old IS NULL THEN NULL ELSE {value} END, "
            f"new = CASE WHEN new IS NULL THEN NULL ELSE {value} END "
            f"WHERE record_type = %s AND field = %s AND redacted = %s",
            [marker, marker, record_type, field, False],
        )
        return cursor.rowcount
