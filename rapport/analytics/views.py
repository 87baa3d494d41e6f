"""The churn page: silent regulars first, with why each was flagged, and the CSV/XLSX downloads.

Figures come from ``rapport.analytics.selectors.churn_report``; the downloads use the same
filters and the same columns as ``rapport analytics churn``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from rapport.accounts.models import Team, User
from rapport.analytics import exports, selectors
from rapport.analytics import retention
from rapport.analytics.forms import report_day
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view

PAGE_ROWS = 200  # rows shown on the page; the downloads hold every customer
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ChurnForm(forms.Form):
    as_of = forms.DateField(label=gettext_lazy("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    rep = forms.TypedChoiceField(label=gettext_lazy("Rep"), required=False, coerce=int, empty_value=None)
    segment = forms.TypedChoiceField(label=gettext_lazy("Saved segment"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, teams: list[tuple[int, str]], reps: list[tuple[int, str]],
                 segments: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (("team", teams), ("rep", reps), ("segment", segments or [])):
            if name not in self.fields:
                continue
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", _("All")), *choices]

    def clean_as_of(self) -> Any:
        return report_day(self.cleaned_data.get("as_of"))


def _choices(user: User) -> dict[str, list[tuple[int, str]]]:
    """Teams, reps and saved segments the user may filter on: every team and rep for admins and
    analysts, else their teams'; their own segments and those shared with their teams."""
    from rapport.segments.selectors import segments_for

    scope = scope_for(user)
    if scope.sees_everything:
        teams = list(Team.objects.order_by("name").values_list("id", "name"))
        reps = list(User.objects.filter(is_active=True).order_by("username").values_list("id", "username"))
    else:
        team_ids = set(scope.team_ids) | set(scope.managed_team_ids)
        teams = list(Team.objects.filter(pk__in=team_ids).order_by("name").values_list("id", "name"))
        reps = list(User.objects.filter(is_active=True, teams__in=team_ids).distinct().order_by("username")
                    .values_list("id", "username")) or [(user.id, user.get_username())]
    segments = list(segments_for(user).values_list("id", "name")[:200])
    return {"teams": teams, "reps": reps, "segments": segments}


def _refused(form: forms.Form, exc: ValidationError) -> None:
    """A filter the selector refused (a saved segment out of reach) shown on the form."""
    for name, texts in exc.errors.items():
        form.add_error(name if name in form.fields else None, " ".join(texts))


def _report(request: AuthedHttpRequest) -> tuple[ChurnForm, selectors.ChurnReport | None, dict[str, Any]]:
    params = request.GET.copy()
    params.setdefault("as_of", timezone.localdate().isoformat())  # shown in the date field, not left blank
    form = ChurnForm(params, **_choices(request.user))
    if not form.is_valid():
        return form, None, {}
    d = form.cleaned_data
    filters = {"team": d.get("team"), "rep": d.get("rep"), "segment": d.get("segment")}
    try:
        report = selectors.churn_report(request.user, as_of=d.get("as_of") or timezone.localdate(), **filters)
    except ValidationError as exc:
        _refused(form, exc)
        return form, None, {}
    return form, report, filters


@require_GET
@web_view
def churn_page(request: AuthedHttpRequest) -> HttpResponse:
    form, report, _filters = _report(request)
    context: dict[str, Any] = {"form": form, "query": request.GET.urlencode()}
    if report is None:
        return render(request, "analytics/churn.html", context, status=422)
    context.update({
        "report": report,
        "rows": report.rows[:PAGE_ROWS],
        "more": max(len(report.rows) - PAGE_ROWS, 0),
        "alert_percent": round(report.alert * 100),
    })
    return render(request, "analytics/churn.html", context)


def _file(request: AuthedHttpRequest, fmt: str, *, build: Callable[[AuthedHttpRequest], tuple[Any, Any, dict[str, Any]]],
          write: Callable[[Any, Any, str], Any], record: Callable[..., None], template: str, name: str) -> HttpResponse:
    """A report as a CSV or XLSX download, recorded in the audit log; bad filters answer the page with them (422)."""
    form, report, filters = build(request)
    if report is None:
        return render(request, template, {"form": form, "query": request.GET.urlencode()}, status=422)
    buffer = io.BytesIO()
    write(report, buffer, fmt)
    record(user=request.user, report=report, fmt=fmt, channel="web", **filters)
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}-{report.as_of.isoformat()}.{fmt}"'
    return response


def _download(request: AuthedHttpRequest, fmt: str) -> HttpResponse:
    return _file(request, fmt, build=_report, write=exports.write_churn, record=exports.record_export,
                 template="analytics/churn.html", name="churn")


@require_GET
@web_view
def churn_csv(request: AuthedHttpRequest) -> HttpResponse:
    return _download(request, "csv")


@require_GET
@web_view
def churn_xlsx(request: AuthedHttpRequest) -> HttpResponse:
    return _download(request, "xlsx")


urlpatterns: list[URLPattern] = [
    path("analytics/churn/", churn_page, name="analytics-churn"),
    path("analytics/churn.csv", churn_csv, name="analytics-churn-csv"),
    path("analytics/churn.xlsx", churn_xlsx, name="analytics-churn-xlsx"),
]


# --- RFM: recency, frequency and monetary scores ---------------------------------------------

CHART_LABEL = 150  # room for the segment names left of the bars, in SVG units
CHART_WIDTH = 300  # the longest bar of the segment chart
CHART_ROW = 26  # height of one bar's row
# One colour per segment, best to worst (SVG presentation attributes: the strict CSP allows no inline style).
SEGMENT_FILLS = {"champions": "#2e7d32", "loyal": "#66bb6a", "new": "#29b6f6", "needs_attention": "#ffb300",
                 "at_risk": "#ef6c00", "hibernating": "#9e9e9e"}


class RfmForm(ChurnForm):
    months = forms.IntegerField(label=gettext_lazy("Months"), required=False, min_value=1, max_value=120,
                                help_text=gettext_lazy("Frequency and monetary value over this many months before the as-of date"))
    segment = None  # type: ignore[assignment]  # the quintiles rank the team's or rep's customers; no saved segment yet


def _rfm_report(request: AuthedHttpRequest) -> tuple[RfmForm, selectors.RfmReport | None, dict[str, Any]]:
    params = request.GET.copy()
    params.setdefault("as_of", timezone.localdate().isoformat())
    params.setdefault("months", "12")
    form = RfmForm(params, **_choices(request.user))
    if not form.is_valid():
        return form, None, {}
    d = form.cleaned_data
    filters = {"team": d.get("team"), "rep": d.get("rep")}
    report = selectors.rfm_report(request.user, as_of=d.get("as_of") or timezone.localdate(),
                                  months=d.get("months") or 12, **filters)
    return form, report, filters


def _segment_bars(report: selectors.RfmReport) -> list[dict[str, Any]]:
    """One bar per segment, longest for the most customers, laid out in whole SVG units."""
    segments = report.segments()
    top = max((n for _key, _label, n in segments), default=0) or 1
    bars = []
    for i, (key, label, n) in enumerate(segments):
        width = round(CHART_WIDTH * n / top)
        bars.append({"key": key, "label": label, "count": n, "width": width, "fill": SEGMENT_FILLS.get(key, "#607d8b"),
                     "y": i * CHART_ROW + 5, "text_y": i * CHART_ROW + 18, "value_x": CHART_LABEL + width + 6})
    return bars


@require_GET
@web_view
def rfm_page(request: AuthedHttpRequest) -> HttpResponse:
    form, report, _filters = _rfm_report(request)
    context: dict[str, Any] = {"form": form, "query": request.GET.urlencode()}
    if report is None:
        return render(request, "analytics/rfm.html", context, status=422)
    bars = _segment_bars(report)
    context.update({
        "report": report,
        "rows": report.rows[:PAGE_ROWS],
        "more": max(len(report.rows) - PAGE_ROWS, 0),
        "bars": bars,
        "chart_height": len(bars) * CHART_ROW,
        "chart_width": CHART_LABEL + CHART_WIDTH + 60,
        "chart_label": CHART_LABEL,
    })
    return render(request, "analytics/rfm.html", context)


def _rfm_download(request: AuthedHttpRequest, fmt: str) -> HttpResponse:
    return _file(request, fmt, build=_rfm_report, write=exports.write_rfm, record=exports.record_rfm_export,
                 template="analytics/rfm.html", name="rfm")


@require_GET
@web_view
def rfm_csv(request: AuthedHttpRequest) -> HttpResponse:
    return _rfm_download(request, "csv")


@require_GET
@web_view
def rfm_xlsx(request: AuthedHttpRequest) -> HttpResponse:
    return _rfm_download(request, "xlsx")


urlpatterns += [
    path("analytics/rfm/", rfm_page, name="analytics-rfm"),
    path("analytics/rfm.csv", rfm_csv, name="analytics-rfm-csv"),
    path("analytics/rfm.xlsx", rfm_xlsx, name="analytics-rfm-xlsx"),
]


# --- Persistence: retention by cohort of first-order month -----------------------------------


class RetentionForm(ChurnForm):
    cohorts = forms.IntegerField(label=gettext_lazy("Cohorts"), required=False, min_value=1, max_value=36,
                                 help_text=gettext_lazy("First-order months shown, up to the as-of month"))


def _retention_report(request: AuthedHttpRequest) -> tuple[RetentionForm, retention.Retention[int] | None, dict[str, Any]]:
    params = request.GET.copy()
    params.setdefault("as_of", timezone.localdate().isoformat())
    params.setdefault("cohorts", str(retention.DEFAULT_COHORTS))
    form = RetentionForm(params, **_choices(request.user))
    if not form.is_valid():
        return form, None, {}
    d = form.cleaned_data
    cohorts: int = d.get("cohorts") or retention.DEFAULT_COHORTS
    filters: dict[str, Any] = {"team": d.get("team"), "rep": d.get("rep"), "cohorts": cohorts, "segment": d.get("segment")}
    try:
        report = selectors.retention_report(request.user, as_of=d.get("as_of") or timezone.localdate(), **filters)
    except ValidationError as exc:
        _refused(form, exc)
        return form, None, {}
    return form, report, filters


def _points(change: float | None) -> str:
    """A change of shares in percentage points, signed: "+5", "−3", "0"."""
    if change is None:
        return ""
    points = round(change * 100)
    return f"+{points}" if points > 0 else f"−{-points}" if points < 0 else "0"


@require_GET
@web_view
def retention_page(request: AuthedHttpRequest) -> HttpResponse:
    form, report, _filters = _retention_report(request)
    context: dict[str, Any] = {"form": form, "query": request.GET.urlencode()}
    if report is None:
        return render(request, "analytics/retention.html", context, status=422)
    context.update({
        "report": report,
        "offsets": range(report.width),
        "repeat_percent": None if report.repeat_rate is None else round(report.repeat_rate * 100),
        "previous_percent": None if report.previous_repeat_rate is None else round(report.previous_repeat_rate * 100),
        "change_points": _points(report.repeat_change),
    })
    return render(request, "analytics/retention.html", context)


def _retention_download(request: AuthedHttpRequest, fmt: str) -> HttpResponse:
    return _file(request, fmt, build=_retention_report, write=exports.write_retention, record=exports.record_retention_export,
                 template="analytics/retention.html", name="persistence")


@require_GET
@web_view
def retention_csv(request: AuthedHttpRequest) -> HttpResponse:
    return _retention_download(request, "csv")


@require_GET
@web_view
def retention_xlsx(request: AuthedHttpRequest) -> HttpResponse:
    return _retention_download(request, "xlsx")


urlpatterns += [
    path("analytics/retention/", retention_page, name="analytics-retention"),
    path("analytics/retention.csv", retention_csv, name="analytics-retention-csv"),
    path("analytics/retention.xlsx", retention_xlsx, name="analytics-retention-xlsx"),
]


# --- Profitability, performance, rep performance and products ------------------------------------
# Their filters, downloads and URLs come from their ``ReportSpec`` (``rapport.analytics.period_reports``);
# what is left here is what their own templates draw: the charts and the figures around the table.

PROFIT_BAR = 110  # the longest bar of the net-profit chart, either side of zero (narrow: it must read on a phone)
PROFIT_LABEL = 90  # room for the tier names
PROFIT_ROW = 28


def _profit_bars(report: selectors.ProfitReport) -> list[dict[str, Any]]:
    """One bar per tier for its net profit, to the right of zero for a profit and to the left for a loss."""
    top = max((abs(t.net_profit) for t in report.tiers), default=Decimal(0)) or Decimal(1)
    zero = PROFIT_LABEL + PROFIT_BAR
    bars = []
    for i, t in enumerate(report.tiers):
        width = int(round(PROFIT_BAR * abs(t.net_profit) / top))
        loss = t.net_profit < 0
        bars.append({"label": t.label, "value": t.net_profit, "width": width, "x": zero - width if loss else zero,
                     "fill": "#c62828" if loss else "#2e7d32", "y": i * PROFIT_ROW + 6, "text_y": i * PROFIT_ROW + 20,
                     "value_x": zero - width - 6 if loss else zero + width + 6, "anchor": "end" if loss else "start"})
    return bars


def profitability_context(report: selectors.ProfitReport, request: AuthedHttpRequest) -> dict[str, Any]:
    from rapport.activities.models import ActivityKind

    labels = dict(ActivityKind.choices)
    return {
        "rows": report.rows[:PAGE_ROWS], "more": max(len(report.rows) - PAGE_ROWS, 0),
        "bars": _profit_bars(report), "chart_height": len(report.tiers) * PROFIT_ROW + 8,
        "chart_width": PROFIT_LABEL + 2 * PROFIT_BAR + 90, "chart_label": PROFIT_LABEL, "zero_x": PROFIT_LABEL + PROFIT_BAR,
        "losing": sum(1 for row in report.rows if row.net_profit < 0),
        "costs": [(str(labels.get(kind, kind)), cost) for kind, cost in sorted(report.costs.items()) if cost],
    }


PERF_BARS = 12  # groups in the chart; the table and downloads hold them all
PERF_LABEL = 90  # narrow enough for a phone: the chart scales to the screen's width
PERF_WIDTH = 200
PERF_ROW = 34


def _performance_bars(report: selectors.PerformanceReport) -> list[dict[str, Any]]:
    """Two bars per group, this period above the same period a year earlier, on one scale."""
    shown = report.rows[:PERF_BARS]
    top = max((max(r.revenue, r.previous_revenue) for r in shown), default=Decimal(0)) or Decimal(1)
    bars = []
    for i, r in enumerate(shown):
        now, before = (int(round(PERF_WIDTH * v / top)) for v in (r.revenue, r.previous_revenue))
        y = i * PERF_ROW
        bars.append({"label": r.label[:14], "row": r, "now": now, "before": before, "y_now": y + 4, "y_before": y + 18,
                     "text_y": y + 17, "now_x": PERF_LABEL + now + 6, "before_x": PERF_LABEL + before + 6,
                     "now_text_y": y + 14, "before_text_y": y + 28})
    return bars


def performance_context(report: selectors.PerformanceReport, request: AuthedHttpRequest) -> dict[str, Any]:
    bars = _performance_bars(report)
    return {"bars": bars, "chart_height": len(bars) * PERF_ROW + 4, "chart_width": PERF_LABEL + PERF_WIDTH + 90,
            "chart_label": PERF_LABEL, "dimension": selectors.dimension_labels()[report.dimension]}


REP_LABEL = 90
REP_WIDTH = 200
REP_ROW = 24


def _call_bars(report: selectors.RepReport) -> tuple[list[dict[str, Any]], int]:
    """A bar per rep for new-customer calls per working day, and where the target line stands."""
    top = max([float(r.calls_per_day or 0) for r in report.rows] + [float(report.call_target), 1.0])
    bars = []
    for i, r in enumerate(report.rows):
        width = int(round(REP_WIDTH * float(r.calls_per_day or 0) / top))
        bars.append({"label": r.rep[:14], "value": r.calls_per_day if r.calls_per_day is not None else "—",
                     "width": width, "fill": "#2e7d32" if r.on_target else "#ef6c00", "y": i * REP_ROW + 4,
                     "text_y": i * REP_ROW + 17, "value_x": REP_LABEL + width + 6})
    return bars, REP_LABEL + int(round(REP_WIDTH * report.call_target / top))


def reps_context(report: selectors.RepReport, request: AuthedHttpRequest) -> dict[str, Any]:
    bars, target_x = _call_bars(report)
    return {"bars": bars, "target_x": target_x, "chart_height": len(bars) * REP_ROW + 8,
            "chart_width": REP_LABEL + REP_WIDTH + 60, "chart_label": REP_LABEL,
            "mine": [row for row in report.rows if row.rep_id == request.user.id]}


ABC_FILLS = {"A": "#2e7d32", "B": "#f9a825", "C": "#9e9e9e"}


def products_context(report: selectors.ProductReport, request: AuthedHttpRequest) -> dict[str, Any]:
    classes = report.classes()
    total = sum((revenue for _c, _n, revenue in classes), Decimal(0)) or Decimal(1)
    x = 0
    segments = []
    for cls, count, revenue in classes:  # one stacked bar: each class's share of revenue
        width = int(round(300 * revenue / total))
        segments.append({"abc": cls, "count": count, "revenue": revenue, "x": x, "width": width,
                         "fill": ABC_FILLS[cls], "text_x": x + 4})
        x += width
    return {"rows": report.rows[:PAGE_ROWS], "more": max(len(report.rows) - PAGE_ROWS, 0), "segments": segments}
