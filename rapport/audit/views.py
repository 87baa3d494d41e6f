"""The audit page: administrators search the log; nothing on it changes an entry."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from rapport.audit import selectors
from rapport.audit.forms import AuditFilterForm
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import fragment_or_page, web_view

PAGE_SIZE = 50


@require_GET
@web_view
def audit_list(request: AuthedHttpRequest) -> HttpResponse:
    selectors.ensure_auditor(request.user)
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
        "form": form, "audit_entries": entries, "total": total, "offset": offset,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "prev_offset": max(0, offset - PAGE_SIZE) if offset else None, "query": query.urlencode(),
    }
    return fragment_or_page(request, "audit/_entries.html", "audit/list.html", context)
