"""Receivables: the collection matrix with its drill-down, and the aging chart and tables."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rapport.accounts.models import Team, User
from rapport.cards.forms import add_service_errors
from rapport.commerce import selectors
from rapport.commerce.forms import ReceivablesFilterForm
from rapport.commerce.models import Cell
from rapport.commerce.money import format_money
from rapport.commerce.views.common import AGING_LABELS, CELL_HINTS, MATRIX_ROWS, _amounts
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view


def _filter_choices(user: User) -> dict[str, list[tuple[int, str]]]:
    scope = scope_for(user)
    if scope.sees_everything:
        teams = list(Team.objects.order_by("name").values_list("id", "name"))
        reps = User.objects.filter(is_active=True)
    else:
        team_ids = set(scope.team_ids) | set(scope.managed_team_ids)
        teams = list(Team.objects.filter(pk__in=team_ids).order_by("name").values_list("id", "name"))
        reps = User.objects.filter(is_active=True, teams__in=team_ids).distinct()
    rep_list = [(u.pk, u.get_full_name() or u.get_username()) for u in reps.order_by("username")[:500]] or [
        (user.pk, user.get_full_name() or user.get_username())]
    from rapport.segments.selectors import segments_for

    return {"teams": teams, "reps": rep_list, "segments": [(s.id, s.name) for s in segments_for(user)[:200]]}


@dataclass(frozen=True)
class AgingBar:
    label: str
    amount: str
    count: int
    y: int
    width: int
    text_x: int


def aging_chart(buckets: dict[str, Decimal], currency: str, counts: dict[str, int] | None = None, *,
                width: int = 640, label_width: int = 120, value_width: int = 150, row_height: int = 30) -> dict[str, Any]:
    """Horizontal bars, one per aging bucket, scaled to the largest amount (drawn by the template)."""
    top = max(buckets.values(), default=Decimal(0)) or Decimal(1)
    span = width - label_width - value_width
    bars = []
    for i, (key, value) in enumerate(buckets.items()):
        w = int(span * value / top) if value else 0
        bars.append(AgingBar(str(AGING_LABELS[key]), format_money(value, currency), (counts or {}).get(key, 0),
                             i * row_height, max(w, 1 if value else 0), label_width + w + 6))
    return {"bars": bars, "width": width, "height": row_height * len(bars), "label_width": label_width,
            "row_height": row_height, "currency": currency}


def _receivables_filter(request: AuthedHttpRequest,
                        choices: dict[str, list[tuple[int, str]]] | None = None) -> tuple[ReceivablesFilterForm, dict[str, Any] | None]:
    form = ReceivablesFilterForm(request.GET or None, **(choices or _filter_choices(request.user)))
    if form.is_bound and not form.is_valid():
        return form, None
    d = form.cleaned_data if form.is_bound else {}
    return form, {"as_of": d.get("as_of"), "team": d.get("team"), "rep": d.get("rep"), "segment": d.get("segment")}


def _query(request: AuthedHttpRequest) -> str:
    return urlencode({k: v for k, v in request.GET.items() if k in ("team", "rep", "segment", "as_of") and v})


@require_GET
@web_view
def receivables(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    choices = _filter_choices(user)
    form, flt = _receivables_filter(request, choices)
    context: dict[str, Any] = {"form": form, "tab": "receivables"}
    if flt is None:
        return render(request, "commerce/receivables.html", context, status=422)
    try:
        matrix = selectors.receivables_matrix(user, **flt)
    except ValidationError as exc:
        add_service_errors(form, exc.errors)
        return render(request, "commerce/receivables.html", context, status=422)
    query = _query(request)
    context["matrix_rows"] = [
        {"label": label, "cells": [
            {"key": cell, "label": Cell(cell).label, "hint": CELL_HINTS[cell], "count": matrix.cells[cell].count,
             "amounts": _amounts(matrix.cells[cell].amounts), "url": reverse("commerce-cell", args=[cell]) + (f"?{query}" if query else "")}
            for cell in cells
        ]}
        for label, cells in MATRIX_ROWS
    ]
    currencies = sorted({c for by_currency in matrix.aging.values() for c in by_currency})
    # Two drawings of each chart: an SVG scales its text with its width, so a phone gets its own.
    context["charts"] = [
        {"currency": c, "wide": aging_chart(amounts, c), "narrow": aging_chart(amounts, c, width=360, label_width=92, value_width=96)}
        for c in currencies
        for amounts in [{b: matrix.aging[b].get(c, Decimal(0)) for b in matrix.aging}]
    ]
    context["aging_counts"] = [{"label": AGING_LABELS[b], "count": n} for b, n in matrix.aging_counts.items()]
    by = "team" if request.GET.get("by") == "team" else "rep"
    names = dict(choices["teams" if by == "team" else "reps"])
    context["by"] = by
    context["aging_table"] = [
        {"name": names.get(row["key"], _("No team") if by == "team" else "—"),
         "cells": [{"head": AGING_LABELS[b], "amount": format_money(row[b], row["currency"])} for b in selectors.AGING_BUCKETS],
         "total": format_money(row["total"], row["currency"])}
        for row in selectors.aging_by(user, by=by, as_of=flt["as_of"])[:200]
    ]
    context["aging_heads"] = [AGING_LABELS[b] for b in selectors.AGING_BUCKETS]
    context["as_of"] = matrix.as_of
    context["query"] = query
    return render(request, "commerce/receivables.html", context)


@require_GET
@web_view
def receivables_cell(request: AuthedHttpRequest, cell: str) -> HttpResponse:
    if cell not in Cell.values:
        raise Http404("cell")
    form, flt = _receivables_filter(request)
    if flt is None:
        return render(request, "commerce/cell.html", {"form": form, "tab": "receivables"}, status=422)
    found = selectors.cell_invoices(request.user, cell, **flt)
    rows = [{"invoice": inv, "days": days, "open": format_money(inv.open_amount, inv.currency),
             "cause": inv.get_non_payment_display() if inv.non_payment else ""} for inv, days in found]
    return render(request, "commerce/cell.html", {
        "form": form, "rows": rows, "cell_label": Cell(cell).label, "hint": CELL_HINTS[Cell(cell)], "query": _query(request),
        "tab": "receivables",
    })
