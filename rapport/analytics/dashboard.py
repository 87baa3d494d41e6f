"""The analytics dashboard at ``/analytics/``: a rep's own figures, or a manager's team.

A rep sees their own customers: sales this month and this year against the same days a year
earlier, the silent regulars the churn report flags (the most at risk, with why), their RFM
segments, new-customer calls a day against the target, promises kept, visits done and their
least profitable customers. A manager sees the same figures for the teams they manage and a
row per rep; an administrator or analyst the whole company, with a team to narrow it to. A
manager, administrator or analyst may pick one rep and see that rep's dashboard.

Every figure comes from the selectors of the full reports, each called once: the dashboard
adds a fixed number of queries, however many customers there are. ``build_dashboard`` is the
one read the page, the API and the command line share.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.analytics import selectors
from rapport.analytics.forms import report_day
from rapport.core.errors import ValidationError
from rapport.core.visibility import scope_for

TOP_AT_RISK = 5  # silent regulars listed on the dashboard; the churn report holds them all
LEAST_PROFITABLE = 5
REP_MODE, TEAM_MODE = "rep", "team"


@dataclass(frozen=True)
class Sales:
    """Counted sales over ``start``–``end`` beside the same days a year earlier."""

    start: dt.date
    end: dt.date
    revenue: Decimal
    previous_revenue: Decimal
    orders: int
    change_percent: float | None  # None: nothing sold a year earlier

    @property
    def up(self) -> bool:
        return self.revenue >= self.previous_revenue


@dataclass(frozen=True)
class MonthSales:
    month: dt.date  # its first day
    revenue: Decimal
    previous_revenue: Decimal


@dataclass(frozen=True)
class Activity:
    """New-customer calls, visits and promises of this month so far (the rep report's figures)."""

    start: dt.date
    end: dt.date
    new_customer_calls: int
    working_days: int
    reps: int  # the calls a day are per rep
    calls_per_day: float | None
    call_target: int
    visits_done: int
    promises_due: int
    promises_kept: int

    @property
    def on_target(self) -> bool:
        return self.calls_per_day is not None and self.calls_per_day >= self.call_target

    @property
    def promises_kept_percent(self) -> float | None:
        return round(self.promises_kept / self.promises_due * 100, 1) if self.promises_due else None


@dataclass(frozen=True)
class RepLine:
    """One rep's row of the team dashboard."""

    rep_id: int
    rep: str
    revenue: Decimal  # this year so far
    previous_revenue: Decimal  # the same days a year earlier
    change_percent: float | None
    calls_per_day: float | None
    on_target: bool
    flagged: int  # silent regulars flagged by the churn report
    promises_due: int
    promises_kept_percent: float | None
    visits_done: int


@dataclass(frozen=True)
class Dashboard:
    as_of: dt.date
    mode: str  # REP_MODE: one rep's customers; TEAM_MODE: every customer the viewer sees, or one team's
    rep_id: int | None
    rep: str  # the rep's name, for REP_MODE
    team_id: int | None
    team: str  # the team's name when narrowed to one
    currency: str
    month: Sales
    year: Sales
    months: list[MonthSales]
    flagged: int  # silent regulars flagged by the churn report
    scored: int  # customers the churn report scored
    at_risk: list[selectors.ChurnRow]  # the most at risk of the flagged ones
    segments: list[tuple[str, str, int]]  # (key, words, customers) per RFM segment
    rfm_customers: int
    activity: Activity
    least_profitable: list[selectors.ProfitRow]  # lowest net profit first
    losing: int  # customers with a negative net profit over the last year
    profit_start: dt.date
    reps: list[RepLine] = field(default_factory=list)  # TEAM_MODE only
    missing_rates: list[str] = field(default_factory=list)  # order currencies left out of the sales for want of a rate


# --- which figures the user may ask for ------------------------------------------------------------------


def check_filters(user: Any, *, team: int | None, rep: int | None) -> tuple[str, str]:
    """The team's and the rep's names, after checking the user may look at them.

    A rep sees only their own figures; a manager their own and their teams' reps'; an
    administrator or analyst anyone's. Any other id, or one that does not exist, answers the
    words the other analytics reports use for it ("Unknown team.", "Unknown user.").
    """
    from rapport.accounts import selectors as people
    from rapport.accounts.models import User

    scope = scope_for(user)
    team_name = rep_name = ""
    if team is not None:
        names = {t.id: t.name for t in people.reachable_teams(user)}
        if team not in names:
            raise ValidationError.single("team", "Unknown team.")
        team_name = names[team]
    if rep is not None:
        allowed = User.objects.filter(pk=rep, is_active=True)
        if not scope.sees_everything:
            allowed = allowed.filter(pk__in=[user.id, *scope.managed_user_ids])
        found = allowed.first()
        if found is None:
            raise ValidationError.single("rep", "Unknown user.")
        rep_name = person_name(found)
    return team_name, rep_name


def person_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def rep_choices(user: Any) -> list[tuple[int, str]]:
    """The reps a manager, administrator or analyst may pick (nobody for a rep)."""
    from rapport.accounts.models import User

    scope = scope_for(user)
    if scope.sees_everything:
        people = User.objects.filter(is_active=True, role="rep")
    elif scope.managed_user_ids:
        people = User.objects.filter(is_active=True, pk__in=scope.managed_user_ids)
    else:
        return []
    return [(u.pk, person_name(u)) for u in people.order_by("username")[:500]]


def team_choices(user: Any) -> list[tuple[int, str]]:
    """The teams the user may narrow the figures to: every team for an administrator or analyst,
    else those they belong to or manage (the same rule as the other analytics reports)."""
    from rapport.accounts import selectors as people

    return [(t.id, t.name) for t in people.reachable_teams(user)]


# --- the figures --------------------------------------------------------------------------------------------


def build_dashboard(user: Any, *, as_of: dt.date, team: int | None = None, rep: int | None = None) -> Dashboard:
    """The dashboard as things stood on ``as_of``: a rep's own (always, for a rep), one picked
    rep's, or the team's (every customer the user sees, narrowed to ``team``)."""
    from django.utils import timezone

    from rapport.analytics.reps import working_days

    scope = scope_for(user)
    if scope.role == "rep" and rep is None:
        rep = user.id
    team_name, rep_name = check_filters(user, team=team, rep=rep)
    mode = REP_MODE if rep is not None else TEAM_MODE
    year_start, month_start = as_of.replace(month=1, day=1), as_of.replace(day=1)

    # Only the figures shown are read: no buying customers per month, the least profitable rows alone.
    by_month = selectors.performance_report(user, start=year_start, end=as_of, dimension="month", team=team, rep=rep,
                                            customers=False)
    churn_report = selectors.churn_report(user, as_of=as_of, team=team, rep=rep)
    rfm_report = selectors.rfm_report(user, as_of=as_of, team=team, rep=rep)
    rep_report = selectors.reps_report(user, start=month_start, end=as_of, team=team, rep=rep)
    profit_start = selectors.year_before(as_of)
    profits = selectors.profitability_report(user, start=profit_start, end=as_of, team=team, rep=rep,
                                             least=LEAST_PROFITABLE)

    months = _months(by_month, year_start, as_of)
    this_month = months[-1]
    month = Sales(start=month_start, end=as_of, revenue=this_month.revenue, previous_revenue=this_month.previous_revenue,
                  orders=_orders_in(by_month, as_of), change_percent=_change(this_month.revenue, this_month.previous_revenue))
    total = by_month.total
    year = Sales(start=year_start, end=as_of, revenue=total.revenue, previous_revenue=total.previous_revenue,
                 orders=total.orders, change_percent=total.change_percent)
    flagged_rows = churn_report.flagged_rows()
    at_risk = list(flagged_rows[:TOP_AT_RISK])
    rows = rep_report.rows
    calls = sum(r.new_customer_calls for r in rows)
    # The rep report's working days so far (none in the future), also when it has no rep to show.
    days = rows[0].working_days if rows else working_days(month_start, min(as_of, timezone.localdate()))
    kept = sum(_promises_kept(r) for r in rows)
    activity = Activity(
        start=month_start, end=as_of, new_customer_calls=calls, working_days=days, reps=len(rows),
        calls_per_day=round(calls / days / len(rows), 2) if days and rows else None, call_target=rep_report.call_target,
        visits_done=sum(r.visits_done for r in rows), promises_due=sum(r.promises_due for r in rows), promises_kept=kept)
    least = sorted(profits.rows[-LEAST_PROFITABLE:], key=lambda row: (row.net_profit, row.card_id)) if profits.rows else []
    lines: list[RepLine] = []
    if mode == TEAM_MODE:
        lines = _rep_lines(user, rows, flagged_rows, year_start=year_start, as_of=as_of, team=team)
    return Dashboard(
        as_of=as_of, mode=mode, rep_id=rep, rep=rep_name, team_id=team, team=team_name, currency=by_month.currency,
        month=month, year=year, months=months, flagged=churn_report.flagged, scored=len(churn_report.rows),
        at_risk=at_risk, segments=rfm_report.segments(), rfm_customers=len(rfm_report.rows), activity=activity,
        least_profitable=least, losing=profits.losing, profit_start=profit_start, reps=lines,
        missing_rates=by_month.missing_rates)


def _change(now: Decimal, before: Decimal) -> float | None:
    return round(float((now - before) / before * 100), 1) if before else None


def _months(report: selectors.PerformanceReport, start: dt.date, end: dt.date) -> list[MonthSales]:
    """Every month from ``start`` to ``end``, those without a sale at zero."""
    found = {row.key: row for row in report.rows}
    months = []
    day = start
    while day <= end:
        row = found.get(day.strftime("%Y-%m"))
        months.append(MonthSales(month=day, revenue=row.revenue if row else Decimal(0),
                                 previous_revenue=row.previous_revenue if row else Decimal(0)))
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def _orders_in(report: selectors.PerformanceReport, day: dt.date) -> int:
    key = day.strftime("%Y-%m")
    return next((row.orders for row in report.rows if row.key == key), 0)


def _promises_kept(row: selectors.RepRow) -> int:
    """The rep report keeps the share kept; the count back from it (exact: due is a whole number)."""
    if row.promises_kept_percent is None:
        return 0
    return round(row.promises_kept_percent * row.promises_due / 100)


def _rep_lines(user: Any, rows: Sequence[selectors.RepRow], flagged_rows: Sequence[selectors.ChurnRow], *,
               year_start: dt.date, as_of: dt.date, team: int | None) -> list[RepLine]:
    """A row per rep: this year's sales against last year's, calls a day, flagged customers, promises."""
    from rapport.accounts.models import User

    by_rep = selectors.performance_report(user, start=year_start, end=as_of, dimension="rep", team=team, customers=False)
    sales = {row.key: row for row in by_rep.rows}  # by username
    flagged = Counter(row.owner_id for row in flagged_rows)
    names = {pk: (first, last) for pk, first, last in
             User.objects.filter(pk__in=[r.rep_id for r in rows]).values_list("pk", "first_name", "last_name")}
    lines = []
    for r in rows:
        s = sales.get(r.rep)
        revenue = s.revenue if s else Decimal(0)
        previous = s.previous_revenue if s else Decimal(0)
        full = " ".join(part for part in names.get(r.rep_id, ("", "")) if part)
        lines.append(RepLine(
            rep_id=r.rep_id, rep=full or r.rep, revenue=revenue, previous_revenue=previous,
            change_percent=_change(revenue, previous), calls_per_day=r.calls_per_day, on_target=r.on_target,
            flagged=flagged.get(r.rep_id, 0), promises_due=r.promises_due, promises_kept_percent=r.promises_kept_percent,
            visits_done=r.visits_done))
    lines.sort(key=lambda line: (-line.revenue, line.rep.lower()))
    return lines


def as_dict(board: Dashboard) -> dict[str, Any]:
    """The dashboard as the API answers it (``DashboardOut``)."""
    from dataclasses import asdict

    activity = board.activity
    return {
        "as_of": board.as_of, "mode": board.mode, "rep_id": board.rep_id, "rep": board.rep, "team_id": board.team_id,
        "team": board.team, "currency": board.currency, "month": asdict(board.month), "year": asdict(board.year),
        "months": [asdict(m) for m in board.months],
        "churn": {"flagged": board.flagged, "scored": board.scored,
                  "at_risk": [{"card_id": r.card_id, "name": r.name, "owner_id": r.owner_id, "owner": r.owner,
                               "days_silent": r.days_silent, "usual_interval_days": r.usual_interval_days,
                               "risk": r.risk, "why": r.why} for r in board.at_risk]},
        "rfm": {"customers": board.rfm_customers,
                "segments": [{"segment_key": key, "segment": label, "customers": n} for key, label, n in board.segments]},
        "activity": {**asdict(activity), "on_target": activity.on_target,
                     "promises_kept_percent": activity.promises_kept_percent},
        "profitability": {"start": board.profit_start, "end": board.as_of, "losing": board.losing,
                          "least_profitable": [{"card_id": r.card_id, "name": r.name, "tier": r.tier, "revenue": r.revenue,
                                                "net_profit": r.net_profit, "owner": r.owner}
                                               for r in board.least_profitable]},
        "reps": [asdict(line) for line in board.reps], "missing_rates": board.missing_rates,
    }


def no_data(board: Dashboard) -> bool:
    """Nothing to show at all: no sale, no scored customer, no activity this month."""
    a = board.activity
    return not (board.year.revenue or board.year.previous_revenue or board.year.orders or board.scored
                or board.rfm_customers or a.new_customer_calls or a.visits_done or a.promises_due
                or board.least_profitable)


def words() -> dict[str, str]:
    """The mode in words, for the page's heading."""
    return {REP_MODE: _("Rep dashboard"), TEAM_MODE: _("Team dashboard")}


# --- the page ------------------------------------------------------------------------------------------------
# Charts are SVG drawn on the server, as on the other analytics pages: no script, and they scale
# to a phone's width.

MONTH_COLUMN = 28  # one month: this year's bar beside last year's
MONTH_HEIGHT = 120  # the tallest bar
REP_LABEL, REP_WIDTH, REP_ROW = 96, 190, 34
SEGMENT_LABEL, SEGMENT_WIDTH, SEGMENT_ROW = 130, 170, 26
NOW_FILL, BEFORE_FILL = "#1565c0", "#90a4ae"
EXPORT_COLUMNS = ("rep_id", "rep", "revenue", "previous_revenue", "change_percent", "calls_per_day", "on_target",
                  "flagged", "promises_due", "promises_kept_percent", "visits_done", "currency")


def month_bars(board: Dashboard) -> dict[str, Any]:
    """This year's sales per month beside last year's, as columns on one scale."""
    from django.utils import formats

    top = max([max(m.revenue, m.previous_revenue) for m in board.months] + [Decimal(1)])
    columns = []
    for i, m in enumerate(board.months):
        now, before = (int(round(MONTH_HEIGHT * float(v / top))) for v in (m.revenue, m.previous_revenue))
        x = i * MONTH_COLUMN
        label = formats.date_format(m.month, "M")
        if len(label) > 3 or not label.isascii():  # "ian.", "十一月": the month's number keeps twelve labels apart
            label = str(m.month.month)
        columns.append({"month": m, "label": label, "x_now": x + 3, "x_before": x + 14,
                        "h_now": now, "h_before": before, "y_now": MONTH_HEIGHT - now + 4,
                        "y_before": MONTH_HEIGHT - before + 4, "text_x": x + 14})
    return {"columns": columns, "width": max(len(columns), 6) * MONTH_COLUMN, "height": MONTH_HEIGHT + 24,
            "label_y": MONTH_HEIGHT + 20}


def segment_bars(board: Dashboard) -> dict[str, Any]:
    from rapport.analytics.views import SEGMENT_FILLS

    top = max([n for _k, _l, n in board.segments] + [1])
    bars = []
    for i, (key, label, n) in enumerate(board.segments):
        width = int(round(SEGMENT_WIDTH * n / top))
        bars.append({"label": label, "count": n, "width": width, "fill": SEGMENT_FILLS.get(key, "#607d8b"),
                     "y": i * SEGMENT_ROW + 5, "text_y": i * SEGMENT_ROW + 18, "value_x": SEGMENT_LABEL + width + 6})
    return {"bars": bars, "label": SEGMENT_LABEL, "width": SEGMENT_LABEL + SEGMENT_WIDTH + 50,
            "height": len(bars) * SEGMENT_ROW + 6}


def rep_bars(board: Dashboard) -> dict[str, Any]:
    """Each rep's sales this year above the same days last year, on one scale."""
    top = max([max(r.revenue, r.previous_revenue) for r in board.reps] + [Decimal(1)])
    bars = []
    for i, r in enumerate(board.reps):
        now, before = (int(round(REP_WIDTH * float(v / top))) for v in (r.revenue, r.previous_revenue))
        y = i * REP_ROW
        bars.append({"line": r, "label": r.rep[:13], "now": now, "before": before, "y_now": y + 4, "y_before": y + 18,
                     "text_y": y + 21})
    return {"bars": bars, "label": REP_LABEL, "width": REP_LABEL + REP_WIDTH + 10, "height": len(bars) * REP_ROW + 4}


def export_lines(board: Dashboard) -> list[RepLine]:
    """The rows of the downloads: a row per rep, or the one rep's own figures."""
    if board.mode == TEAM_MODE:
        return board.reps
    a = board.activity
    return [RepLine(rep_id=board.rep_id or 0, rep=board.rep, revenue=board.year.revenue,
                    previous_revenue=board.year.previous_revenue, change_percent=board.year.change_percent,
                    calls_per_day=a.calls_per_day, on_target=a.on_target, flagged=board.flagged,
                    promises_due=a.promises_due, promises_kept_percent=a.promises_kept_percent, visits_done=a.visits_done)]


def write_lines(board: Dashboard, stream: Any, fmt: str) -> int:
    from rapport.analytics.reports import cell
    from rapport.imports.writers import CsvWriter, XlsxWriter

    writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == "csv" else XlsxWriter(stream, title="dashboard")
    writer.header(list(EXPORT_COLUMNS))
    lines = export_lines(board)
    for line in lines:
        values = {**{key: getattr(line, key) for key in EXPORT_COLUMNS if key != "currency"}, "currency": board.currency}
        writer.row([cell(values[key], fmt) for key in EXPORT_COLUMNS])
    writer.close()
    return len(lines)


class DashboardForm(forms.Form):
    """The as-of day, and for those who may pick them a team and a rep; a rep's own figures only for a rep."""

    as_of = forms.DateField(label=gettext_lazy("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    rep = forms.TypedChoiceField(label=gettext_lazy("Rep"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = scope_for(user)
        teams = team_choices(user)
        # A rep may name only themselves: any other id is refused like an unknown one.
        reps = [(user.id, person_name(user))] if scope.role == "rep" else rep_choices(user)
        # The pickers worth showing: a team for those with several, a rep for those who have reps.
        self.shown = [name for name, choices in (("team", teams), ("rep", reps))
                      if scope.role != "rep" and (len(choices) > (1 if name == "team" else 0) or scope.sees_everything)]
        everyone = _("Whole company") if scope.sees_everything else _("All my teams")
        for name, choices, blank in (("team", teams, everyone), ("rep", reps, _("All reps"))):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", blank), *choices]

    def clean_as_of(self) -> Any:
        return report_day(self.cleaned_data.get("as_of"))

    def hidden_errors(self) -> list[str]:
        """Errors of filters the page does not offer (a rep naming another rep in the address)."""
        texts = [str(e) for e in self.non_field_errors()]
        if any(name in self.errors for name in ("team", "rep") if name not in self.shown):
            texts.append(_("That team or rep is not one whose figures you can see."))
        return texts

    def fields_shown(self) -> list[Any]:
        return [self["as_of"], *(self[name] for name in self.shown)]


def _board(request: Any) -> tuple[DashboardForm, Dashboard | None]:
    from django.utils import timezone

    params = request.GET.copy()
    params.setdefault("as_of", timezone.localdate().isoformat())  # shown in the date field, not left blank
    form = DashboardForm(params, user=request.user)
    if not form.is_valid():
        return form, None
    d = form.cleaned_data
    try:
        board = build_dashboard(request.user, as_of=d.get("as_of") or timezone.localdate(), team=d.get("team"),
                                rep=d.get("rep"))
    except ValidationError as exc:  # a team or rep out of reach (the form's choices already refuse most)
        for name, texts in exc.errors.items():
            form.add_error(name if name in form.fields else None, " ".join(texts))
        return form, None
    return form, board


def _links(board: Dashboard) -> dict[str, str]:
    """The query strings of the full reports, for the same people and day."""
    from urllib.parse import urlencode

    narrow = {k: v for k, v in (("team", board.team_id), ("rep", board.rep_id)) if v is not None}
    as_of = board.as_of.isoformat()
    return {
        "churn": urlencode({"as_of": as_of, **narrow}), "rfm": urlencode({"as_of": as_of, **narrow}),
        "reps": urlencode({"start": board.activity.start.isoformat(), "end": as_of, **narrow}),
        "performance": urlencode({"by": "month", "start": board.year.start.isoformat(), "end": as_of, **narrow}),
        "profitability": urlencode({"start": board.profit_start.isoformat(), "end": as_of, **narrow}),
    }


def dashboard_page(request: Any) -> Any:
    from django.shortcuts import render

    form, board = _board(request)
    context: dict[str, Any] = {"form": form, "fields": form.fields_shown(), "query": request.GET.urlencode()}
    if board is None:
        return render(request, "analytics/dashboard.html", context, status=422)
    owners = {line.rep_id: line.rep for line in board.reps}  # the names the rep table shows
    context.update({
        "board": board, "heading": words()[board.mode], "links": _links(board), "empty": no_data(board),
        "months": month_bars(board), "segments": segment_bars(board), "reps": rep_bars(board),
        "flagged_more": max(board.flagged - len(board.at_risk), 0),
        "at_risk": [(row, owners.get(row.owner_id, row.owner)) for row in board.at_risk],
        "least_profitable": [(row, owners.get(row.owner_id, row.owner)) for row in board.least_profitable],
    })
    return render(request, "analytics/dashboard.html", context)


def _download(request: Any, fmt: str) -> Any:
    import io

    from django.http import HttpResponse
    from django.shortcuts import render

    from rapport.analytics.views import CONTENT_TYPES
    from rapport.audit.services import record

    form, board = _board(request)
    if board is None:
        return render(request, "analytics/dashboard.html",
                      {"form": form, "fields": form.fields_shown(), "query": request.GET.urlencode()}, status=422)
    buffer = io.BytesIO()
    rows = write_lines(board, buffer, fmt)
    record(action="export", record_type="analytics.dashboard", actor=request.user, detail={
        "report": "dashboard", "format": fmt, "channel": "web", "as_of": board.as_of.isoformat(), "team": board.team_id,
        "rep": board.rep_id, "rows": rows})
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="dashboard-{board.as_of.isoformat()}.{fmt}"'
    return response


def dashboard_csv(request: Any) -> Any:
    return _download(request, "csv")


def dashboard_xlsx(request: Any) -> Any:
    return _download(request, "xlsx")


def urlpatterns() -> list[Any]:
    from django.urls import path
    from django.views.decorators.http import require_GET

    from rapport.core.web import web_view

    return [
        path("analytics/", require_GET(web_view(dashboard_page)), name="analytics-dashboard"),
        path("analytics/dashboard.csv", require_GET(web_view(dashboard_csv)), name="analytics-dashboard-csv"),
        path("analytics/dashboard.xlsx", require_GET(web_view(dashboard_xlsx)), name="analytics-dashboard-xlsx"),
    ]
