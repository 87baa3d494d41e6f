"""``GET /api/v1/audit``: read-only by design; there is no route that changes an entry."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router

from rapport.audit import selectors
from rapport.audit.schemas import AuditEntryOut, AuditFilterParams, AuditList
from rapport.core.api import require_admin_scope
from rapport.core.http import AuthedHttpRequest
from rapport.core.pagination import PageParams

router = Router(tags=["audit"])


@router.get("", response=AuditList, summary="Search the audit log (administrators)")
def audit_log(request: AuthedHttpRequest, filters: Query[AuditFilterParams], page: Query[PageParams]) -> dict[str, Any]:
    require_admin_scope(request)
    offset, limit = page.clamp()
    entries, total = selectors.page(request.user, selectors.AuditFilter(**filters.dict()), offset=offset, limit=limit)
    return {"items": [AuditEntryOut.from_entry(e) for e in entries], "count": total}
