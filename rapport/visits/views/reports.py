"""The visit report per rep and team: visits per day out, objectives met, promises kept on time,
amounts collected on visits and audits done, for a period, with a chart of objectives met."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from rapport.accounts import selectors as people
from rapport.commerce.money import format_money
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view
from rapport.visits import selectors

BAR_HEIGHT = 26


def _date(raw: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat((raw or "")[:10]) if raw else default
    except ValueError:
        return default


def chart(rows: list[selectors.RepFigures]) -> dict[str, Any]:
    """Horizontal bars of objectives met per rep (percent), drawn as SVG by the template."""
    bars = []
    for i, r in enumerate(rows):
        pct = r.met_percent
        bars.append({"y": i * BAR_HEIGHT, "name": r.name, "pct": pct, "width": round(3.2 * (pct or 0), 1),
                     "text_y": i * BAR_HEIGHT + 17})
    return {"bars": bars, "height": max(len(rows), 1) * BAR_HEIGHT}


@require_GET
@web_view
def report(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    date_to = _date(request.GET.get("to"), today)
    date_from = _date(request.GET.get("from"), date_to - dt.timedelta(days=29))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    if (date_to - date_from).days > 3660:
        date_from = date_to - dt.timedelta(days=3660)
    team_raw = request.GET.get("team", "")
    teams = people.assignable_teams(user)
    team = int(team_raw) if team_raw.isdigit() and any(t.pk == int(team_raw) for t in teams) else None
    rows = selectors.visit_report(user, date_from, date_to, team=team)
    table = [{"r": r, "collected": [format_money(v, c) for c, v in sorted(r.collected.items())]} for r in rows]
    return render(request, "visits/reports.html", {
        "rows": table, "chart": chart(rows), "date_from": date_from, "date_to": date_to, "teams": teams, "team": team,
        "totals": {"visits": sum(r.visits for r in rows), "audits": sum(r.audits for r in rows)},
    })


urlpatterns = [path("visits/reports/", report, name="visit-reports")]
