"""Analytics reports over the REST API: ``GET /reports/churn``, the silent regulars."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from ninja import Query, Router

from rapport.analytics import selectors
from rapport.analytics.schemas import ChurnFilter, ChurnList
from rapport.analytics.schemas import RfmFilter, RfmList
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


@router.get("/reports/rfm", response=RfmList,
            summary="Customers scored 1–5 on recency, frequency and monetary value, with their segment")
def rfm_report(request: AuthedHttpRequest, flt: Query[RfmFilter], page: Query[PageParams]) -> dict[str, Any]:
    report = selectors.rfm_report(request.user, as_of=flt.as_of or timezone.localdate(), months=flt.months,
                                  team=flt.team, rep=flt.rep)
    rows = [row for row in report.rows if row.segment_key == flt.segment] if flt.segment else report.rows
    offset, limit = page.clamp()
    return {
        "items": [asdict(row) for row in rows[offset:offset + limit]],
        "count": len(rows), "as_of": report.as_of, "months": report.months, "window_start": report.window_start,
        "currency": report.currency, "segments": {key: n for key, _label, n in report.segments()},
    }
