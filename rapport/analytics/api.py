"""Analytics reports over the REST API: ``GET /reports/churn``, the silent regulars."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from ninja import Query, Router

from rapport.analytics import selectors
from rapport.analytics.schemas import ChurnFilter, ChurnList
from rapport.core.http import AuthedHttpRequest
from rapport.core.pagination import PageParams

router = Router(tags=["analytics"])


@router.get("/reports/churn", response=ChurnList,
            summary="Customers with their usual interval between orders, flagged when silent for longer than it allows")
def churn_report(request: AuthedHttpRequest, flt: Query[ChurnFilter], page: Query[PageParams]) -> dict[str, Any]:
    report = selectors.churn_report(request.user, as_of=flt.as_of or timezone.localdate(), team=flt.team, rep=flt.rep)
    rows = [row for row in report.rows if row.flagged] if flt.flagged_only else report.rows
    offset, limit = page.clamp()
    return {
        "items": [{**asdict(row), "scored": row.scored} for row in rows[offset:offset + limit]],
        "count": len(rows), "flagged": report.flagged, "as_of": report.as_of, "alert": report.alert,
    }
