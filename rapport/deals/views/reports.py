"""The deal reports page: the weighted forecast by month and the pipeline (deals per step,
conversion, days in each step, win rate, why deals are lost), with filters and CSV exports.

Figures come from ``rapport.deals.reports``; this module only formats them and computes the
geometry of the server-drawn SVG charts, as the funnel report does (no script, no CDN).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from rapport.accounts.models import Team, User
from rapport.cards.forms import add_service_errors
from rapport.commerce.money import babel_locale, format_money
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view
from rapport.deals import reports
from rapport.deals.models import STEP_ORDER, Step
from rapport.funnel.charts import funnel_bars
from rapport.imports.writers import safe_cell

DEFAULT_MONTHS = 12
AMOUNT_FILL = "#9db8e8"  # the full amount: light
WEIGHTED_FILL = "#1f4e8c"  # the weighted amount: dark, drawn in front


class ReportForm(forms.Form):
    owner = forms.TypedChoiceField(label=gettext_lazy("Rep"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, teams: list[tuple[int, str]], reps: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (("team", teams), ("owner", reps)):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", _("All")), *choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        elif since and until and _months_between(since, until) > reports.MAX_MONTHS:
            self.add_error("until", _("Choose a period of at most %(max)d months.") % {"max": reports.MAX_MONTHS})
        return data


def _months_between(since: dt.date, until: dt.date) -> int:
    return (until.year - since.year) * 12 + until.month - since.month + 1


def _choices(user: User) -> dict[str, list[tuple[int, str]]]:
    """Teams and reps the user may filter on: everyone for admins and analysts, else their teams."""
    scope = scope_for(user)
    if scope.sees_everything:
        teams = list(Team.objects.order_by("name").values_list("id", "name"))
        reps = list(User.objects.filter(is_active=True).order_by("username").values_list("id", "username"))
    else:
        team_ids = set(scope.team_ids) | set(scope.managed_team_ids)
        teams = list(Team.objects.filter(pk__in=team_ids).order_by("name").values_list("id", "name"))
        reps = list(User.objects.filter(is_active=True, teams__in=team_ids).distinct().order_by("username")
                    .values_list("id", "username")) or [(user.id, user.get_username())]
    return {"teams": teams, "reps": reps}


@dataclass(frozen=True)
class Filters:
    owner_id: int | None
    team_id: int | None
    since: dt.date | None
    until: dt.date | None

    @property
    def start(self) -> dt.date:
        return self.since or timezone.localdate()

    @property
    def months(self) -> int:
        if self.since and self.until:
            return max(1, min(reports.MAX_MONTHS, _months_between(self.since, self.until)))
        return DEFAULT_MONTHS


def _form(request: AuthedHttpRequest) -> tuple[ReportForm, Filters | None]:
    """The filters from the query string; a rep without filters sees their own deals first."""
    user = request.user
    params = request.GET.copy()
    if not params and scope_for(user).role == "rep":
        params["owner"] = str(user.pk)
    form = ReportForm(params, **_choices(user))
    if not form.is_valid():
        return form, None
    d = form.cleaned_data
    return form, Filters(owner_id=d.get("owner"), team_id=d.get("team"), since=d.get("since"), until=d.get("until"))


# --- charts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthBar:
    label: str
    x: int
    amount_y: int
    amount_height: int
    weighted_y: int
    weighted_height: int
    label_x: int
    title: str


@dataclass(frozen=True)
class MonthChart:
    currency: str
    bars: list[MonthBar]
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    left: int
    bar_width: int
    top_label: str
    mid_y: int
    mid_label: str


def month_chart(currency: str, months: list[tuple[str, Decimal, Decimal, str]], language: str, *, width: int = 720,
                height: int = 240) -> MonthChart:
    """Vertical bars per month: the amount, and the weighted amount drawn inside it."""
    left, plot_top, plot_bottom = 96, 12, height - 30
    span = plot_bottom - plot_top
    highest = max((a for _l, a, _w, _t in months), default=Decimal(0))
    top = highest or Decimal(1)
    slot = (width - left - 8) // max(len(months), 1)
    bar_width = max(6, int(slot * 0.7))
    bars = []
    for i, (label, amount, weighted, title) in enumerate(months):
        ah = round(span * amount / top) if amount else 0
        wh = round(span * weighted / top) if weighted else 0
        x = left + i * slot + (slot - bar_width) // 2
        bars.append(MonthBar(label, x, plot_bottom - ah, ah, plot_bottom - wh, wh, x + bar_width // 2, title))
    return MonthChart(currency, bars, width, height, plot_top, plot_bottom, left, bar_width,
                      _compact(highest, currency, language) if highest else "", plot_top + span // 2,
                      _compact(highest / 2, currency, language) if highest else "")


def _compact(amount: Decimal, currency: str, language: str) -> str:
    """An axis label short enough for the chart's margin: "€1.2M", "1,2 M €", "€123.5万"."""
    from babel.numbers import format_compact_currency

    return format_compact_currency(amount, currency, locale=babel_locale(language), fraction_digits=1)


# --- the page ----------------------------------------------------------------------------------------------


def _month_label(key: str, language: str, skeleton: str = "yMMM") -> str:
    from babel.dates import format_skeleton

    year, month = key.split("-")
    return format_skeleton(skeleton, dt.date(int(year), int(month), 1), locale=babel_locale(language))


def _axis_label(key: str, index: int, language: str) -> str:
    """Short enough for a bar: the month alone, with the year on the first bar and on January."""
    return _month_label(key, language, "yyMMM" if index == 0 or key.endswith("-01") else "MMM")


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)} %"


def _forecast_view(data: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """One block per currency: the chart, the month rows and the overdue / no date / later rows."""
    blocks = []
    for currency in data["currencies"]:
        series = data["series"][currency]
        m = lambda value: format_money(Decimal(value), currency, language)  # noqa: E731
        rows = []
        chart_months = []
        for index, key in enumerate(data["months"]):
            month = series["months"][key]
            label = _month_label(key, language)
            rows.append({"label": label, "key": key, "count": month["count"], "amount": m(month["amount"]),
                         "weighted": m(month["weighted"]), "won_count": month["won_count"], "won_amount": m(month["won_amount"])})
            title = _("%(month)s: %(amount)s, weighted %(weighted)s") % {"month": label, "amount": m(month["amount"]),
                                                                         "weighted": m(month["weighted"])}
            chart_months.append((_axis_label(key, index, language), Decimal(month["amount"]), Decimal(month["weighted"]), title))
        extra = [
            {"label": label, "count": series[key]["count"], "amount": m(series[key]["amount"]), "weighted": m(series[key]["weighted"])}
            for key, label in (("overdue", _("Overdue (expected close passed)")), ("no_date", _("No expected close")),
                               ("later", _("Later")))
            if series[key]["count"]
        ]
        blocks.append({
            "currency": currency, "chart": month_chart(currency, chart_months, language), "rows": rows, "extra": extra,
            "open": {"count": series["open"]["count"], "amount": m(series["open"]["amount"]), "weighted": m(series["open"]["weighted"])},
            "won_count": series["won_count"], "won_amount": m(series["won_amount"]),
        })
    return blocks


def _pipeline_view(data: dict[str, Any], language: str) -> dict[str, Any]:
    labels = dict(Step.choices)
    conversion = {c["from"]: c for c in data["conversion"]}
    rows = []
    for step in STEP_ORDER:
        s = data["steps"][step]
        conv = conversion.get(step)
        rows.append({
            "step": step, "label": labels[step], "count": s["count"],
            "amounts": [format_money(Decimal(v["amount"]), cur, language) for cur, v in sorted(s["by_currency"].items())],
            "to_label": labels[conv["to"]] if conv else "", "entered": conv["entered"] if conv else None,
            "converted": conv["converted"] if conv else None, "rate": _percent(conv["rate"]) if conv else "",
            "average_days": data["time_in_step"][step]["average_days"], "moves": data["time_in_step"][step]["moves"],
        })
    reasons = data["lost_reasons"]
    return {
        "rows": rows,
        "chart": funnel_bars([(str(labels[s]), data["steps"][s]["count"]) for s in STEP_ORDER], label_width=170),
        "won": data["won"], "lost": data["lost"], "win_rate": _percent(data["win_rate"]),
        "reasons": reasons,
        "reasons_chart": funnel_bars([(str(r["label"]), r["count"]) for r in reasons], label_width=220) if reasons else None,
    }


@require_GET
@web_view
def reports_page(request: AuthedHttpRequest) -> HttpResponse:
    form, filters = _form(request)
    context: dict[str, Any] = {"form": form, "filtered": bool(request.GET), "query": request.GET.urlencode()}
    if filters is None:
        return render(request, "deals/reports.html", context, status=422)
    language = translation.get_language() or "en"
    try:
        forecast = reports.forecast(request.user, owner_id=filters.owner_id, team_id=filters.team_id, start=filters.start,
                                    months=filters.months)
        pipeline = reports.pipeline(request.user, owner_id=filters.owner_id, team_id=filters.team_id, since=filters.since,
                                    until=filters.until)
    except ValidationError as exc:
        add_service_errors(form, exc.errors)
        return render(request, "deals/reports.html", context, status=422)
    context.update({
        "forecast": _forecast_view(forecast, language),
        "pipeline": _pipeline_view(pipeline, language),
        "amount_fill": AMOUNT_FILL,
        "weighted_fill": WEIGHTED_FILL,
    })
    return render(request, "deals/reports.html", context)


# --- CSV ----------------------------------------------------------------------------------------------------


def _csv(request: AuthedHttpRequest, name: str, header: list[str], rows: list[list[Any]], detail: dict[str, Any]) -> HttpResponse:
    from rapport.audit.services import record

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) if isinstance(v, str) else ("" if v is None else v) for v in row])
    record(action="export", record_type="deals.deal", actor=request.user, detail={"report": name, **detail})
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deals-{name}-{timezone.localdate().isoformat()}.csv"'
    return response


def _detail(filters: Filters) -> dict[str, Any]:
    return {"owner": filters.owner_id, "team": filters.team_id, "since": filters.since.isoformat() if filters.since else None,
            "until": filters.until.isoformat() if filters.until else None}


@require_GET
@web_view
def forecast_csv(request: AuthedHttpRequest) -> HttpResponse:
    form, filters = _form(request)
    if filters is None:
        return render(request, "deals/reports.html", {"form": form}, status=422)
    data = reports.forecast(request.user, owner_id=filters.owner_id, team_id=filters.team_id, start=filters.start,
                            months=filters.months)
    rows: list[list[Any]] = []
    for currency in data["currencies"]:
        series = data["series"][currency]
        for key in data["months"]:
            m = series["months"][key]
            rows.append([currency, key, m["count"], m["amount"], m["weighted"], m["won_count"], m["won_amount"]])
        for key in ("overdue", "no_date", "later"):
            rows.append([currency, key, series[key]["count"], series[key]["amount"], series[key]["weighted"], None, None])
    header = ["currency", "month", "open_deals", "amount", "weighted", "won_deals", "won_amount"]
    return _csv(request, "forecast", header, rows, _detail(filters))


@require_GET
@web_view
def pipeline_csv(request: AuthedHttpRequest) -> HttpResponse:
    form, filters = _form(request)
    if filters is None:
        return render(request, "deals/reports.html", {"form": form}, status=422)
    data = reports.pipeline(request.user, owner_id=filters.owner_id, team_id=filters.team_id, since=filters.since,
                            until=filters.until)
    conversion = {c["from"]: c for c in data["conversion"]}
    rows: list[list[Any]] = []
    for step in STEP_ORDER:
        s, conv, time = data["steps"][step], conversion.get(step), data["time_in_step"][step]
        currencies = sorted(s["by_currency"].items()) or [("", {"count": 0, "amount": ""})]
        for currency, v in currencies:
            rows.append([step, currency, v["count"], v["amount"], conv["entered"] if conv else None,
                         conv["converted"] if conv else None, conv["rate"] if conv else None, time["average_days"]])
    header = ["step", "currency", "open_deals", "amount", "entered_in_period", "went_on", "conversion_rate", "average_days_in_step"]
    return _csv(request, "pipeline", header, rows, _detail(filters))


urlpatterns: list[URLPattern] = [
    path("deals/reports/", reports_page, name="deals-reports"),
    path("deals/reports/forecast.csv", forecast_csv, name="deals-reports-forecast-csv"),
    path("deals/reports/pipeline.csv", pipeline_csv, name="deals-reports-pipeline-csv"),
]
