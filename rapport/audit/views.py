"""The audit page: administrators search the log; nothing on it changes an entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rapport.audit import selectors
from rapport.audit.forms import AuditFilterForm
from rapport.audit.models import AuditEntry
from rapport.core.errors import PermissionDenied
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import fragment_or_page, web_view

PAGE_SIZE = 50


@dataclass(frozen=True)
class EntryRow:
    """One audit entry as a reader sees it: the record by its kind and name, values as text."""

    entry: AuditEntry
    record: str
    record_url: str
    field: str
    old: str
    new: str
    detail: str


def _text(value: Any) -> str:
    """A stored value (text, number, list or dictionary) as words, not as Python syntax."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float)):
        return str(localize(value))
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(key))}: {_text(item) or '—'}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value) or "—"
    return str(value)


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _record_kind(record_type: str) -> str:
    try:
        return str(apps.get_model(record_type)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return _label(record_type.rpartition(".")[2]) if record_type else ""


def _rows(user: Any, entries: list[AuditEntry]) -> list[EntryRow]:
    from rapport.cards import selectors as cards

    card_ids = {int(e.record_id) for e in entries if e.record_type == "cards.card" and e.record_id.isdigit()}
    names = cards.display_names(user, card_ids) if card_ids else {}
    rows = []
    for e in entries:
        kind = _record_kind(e.record_type)
        name = names.get(int(e.record_id)) if e.record_type == "cards.card" and e.record_id.isdigit() else None
        if e.redacted:
            record = kind
        elif name:
            record = f"{kind}: {name}"
        else:
            record = f"{kind} {e.record_id}".strip() if e.record_id else kind
        url = reverse("card-detail", args=[int(e.record_id)]) if name and not e.redacted else ""
        rows.append(EntryRow(
            entry=e, record=record, record_url=url, field=_label(e.field),
            old=_text(e.old), new=_text(e.new), detail=_text(e.detail),
        ))
    return rows


@require_GET
@web_view
def audit_list(request: AuthedHttpRequest) -> HttpResponse:
    try:
        selectors.ensure_auditor(request.user)
    except PermissionDenied as exc:
        # Answered here rather than raised: a refused page is expected, not a server error to log
        # with a traceback. The denial is still recorded.
        from rapport.audit.services import record

        record(action="denied", actor=request.user, detail={"path": request.path[:200], "method": request.method, "reason": str(exc)[:200]})
        return render(request, "403.html", status=403)
    form = AuditFilterForm(request.GET or None)
    flt = selectors.AuditFilter()
    if form.is_valid():
        flt = selectors.AuditFilter(**form.cleaned_data)
    try:
        offset = max(0, min(int(request.GET.get("offset", "0")), 10_000_000))
    except ValueError:
        offset = 0
    entries, total = selectors.page(request.user, flt, offset=offset, limit=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("offset", None)
    context = {
        "form": form, "audit_entries": entries, "rows": _rows(request.user, entries), "total": total, "offset": offset,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "prev_offset": max(0, offset - PAGE_SIZE) if offset else None, "query": query.urlencode(),
    }
    return fragment_or_page(request, "audit/_entries.html", "audit/list.html", context)
