"""The prospects trend: new prospects and new customers per month, by prospecting method or by source.

A card is a new prospect in the month it first reached the prospect stage or beyond, and a new
customer in the month it first reached the customer stage or beyond (regular, dormant), as its
stage history tells. The cards are the funnel report's (``rapport.funnel.selectors.report_cards``:
visible, live, narrowed by team, rep and saved segment), and the groups are the funnel method
report's: the card's prospecting method, or every source that contributed a fact to it. The
funnel's own method report gives the totals to date beside the trend.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.analytics.reports import MAX_MONTHS, Column, Filters, ReportSpec, cards_for, check_period, end_of_day

GROUPINGS = ("method", "source")
PROSPECT_OR_BEYOND = ("prospect", "target", "customer", "regular", "dormant")
CUSTOMER_OR_BEYOND = ("customer", "regular", "dormant")


@dataclass(frozen=True)
class ProspectRow:
    month: str  # "2026-03"
    key: str  # the method's or source's key; "" when not recorded
    label: str
    new_prospects: int
    new_customers: int

    def values(self) -> list[Any]:
        return [getattr(self, key) for key in SPEC.keys]


@dataclass(frozen=True)
class MonthTotal:
    month: str
    new_prospects: int
    new_customers: int


@dataclass(frozen=True)
class ProspectsReport:
    start: dt.date
    end: dt.date
    by: str
    months: list[MonthTotal]  # every month of the period, oldest first, empty ones included
    rows: list[ProspectRow]  # month, then most new prospects first
    groups: list[dict[str, Any]]  # the funnel's method report: found, customers, conversion to date

    @property
    def as_of(self) -> dt.date:
        return self.end


def grouping_labels() -> dict[str, str]:
    return {"method": _("Prospecting method"), "source": _("Source of the facts")}


def _months(start: dt.date, end: dt.date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def prospects_report(user: Any, flt: Filters) -> ProspectsReport:
    """New prospects and customers per month of the period, per method or source; the stage
    history is read up to the as-of date (the period's end), so later moves do not count."""
    from rapport.cards.models import Fact, StageChange
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import SourceGroup
    from rapport.core.i18n import pick_label
    from rapport.funnel.selectors import ReportFilter, method_report

    check_period(flt)
    by = flt.by or "method"
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    months = _months(flt.start, flt.end)
    if len(months) > MAX_MONTHS:
        raise ValueError(f"at most {MAX_MONTHS} months")
    cards = cards_for(user, flt)
    prospect_month: dict[int, str] = {}
    customer_month: dict[int, str] = {}
    for card_id, to_stage, at in (StageChange.objects.filter(card__in=cards.values("pk"), changed_at__lte=end_of_day(flt.end),
                                                             to_stage__in=PROSPECT_OR_BEYOND)
                                  .order_by("card_id", "changed_at", "id").values_list("card_id", "to_stage", "changed_at")
                                  .iterator(chunk_size=10_000)):
        month = timezone.localdate(at).strftime("%Y-%m")
        prospect_month.setdefault(card_id, month)
        if to_stage in CUSTOMER_OR_BEYOND:
            customer_month.setdefault(card_id, month)
    wanted = set(months)
    new_ids = {c for c, m in prospect_month.items() if m in wanted} | {c for c, m in customer_month.items() if m in wanted}
    groups_of: dict[int, list[Any]] = defaultdict(list)
    if by == "method":
        for card_id, found_by in cards.filter(pk__in=new_ids).order_by().values_list("pk", "found_by_id").iterator(
                chunk_size=10_000):
            groups_of[card_id].append(found_by)
        labels = {s.id: (s.key, pick_label(s.labels)) for s in catalog.sources().values() if s.group == SourceGroup.METHOD}
    else:
        for source_id, card_id in (Fact.objects.filter(card__in=cards.filter(pk__in=new_ids).values("pk")).order_by()
                                   .values_list("source_id", "card_id").distinct().iterator(chunk_size=10_000)):
            groups_of[card_id].append(source_id)
        labels = {s.id: (s.key, pick_label(s.labels)) for s in catalog.sources().values()}
    not_recorded = ("", _("Not recorded"))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    names: dict[str, str] = {}
    totals = {m: [0, 0] for m in months}
    for card_id in new_ids:
        for i, when in enumerate((prospect_month.get(card_id), customer_month.get(card_id))):
            if when not in wanted:
                continue
            assert when is not None
            totals[when][i] += 1
            for group in groups_of.get(card_id) or [None]:
                key, label = labels.get(group, not_recorded) if group is not None else not_recorded
                names[key] = str(label)
                counts[(when, key)][i] += 1
    rows = [ProspectRow(month=month, key=key, label=names[key], new_prospects=p, new_customers=c)
            for (month, key), (p, c) in counts.items()]
    rows.sort(key=lambda r: (r.month, -r.new_prospects, -r.new_customers, r.label.lower()))
    summary = method_report(user, ReportFilter(team=flt.team, owner=flt.rep, segment=flt.segment), by=by)
    return ProspectsReport(start=flt.start, end=flt.end, by=by,
                           months=[MonthTotal(m, totals[m][0], totals[m][1]) for m in months], rows=rows, groups=summary)


# --- the chart: two bars a month, new prospects and new customers --------------------------------------

CHART_HEIGHT, SLOT, CHART_MONTHS = 120, 34, 24


def chart(report: ProspectsReport) -> dict[str, Any] | None:
    if not any(m.new_prospects or m.new_customers for m in report.months[-CHART_MONTHS:]):
        return None
    shown = report.months[-CHART_MONTHS:]  # the table and the files hold every month
    top = max(max(m.new_prospects, m.new_customers) for m in shown) or 1
    columns = []
    for i, m in enumerate(shown):
        p = round(CHART_HEIGHT * m.new_prospects / top)
        c = round(CHART_HEIGHT * m.new_customers / top)
        x = 30 + i * SLOT
        first_day = dt.date(int(m.month[:4]), int(m.month[5:]), 1)
        columns.append({"month": m.month, "label": date_format(first_day, "M"), "prospects": m.new_prospects,
                        "year": m.month[:4] if i == 0 or first_day.month == 1 else "",
                        "customers": m.new_customers, "x_p": x, "x_c": x + 13, "h_p": p, "h_c": c,
                        "y_p": CHART_HEIGHT + 10 - p, "y_c": CHART_HEIGHT + 10 - c, "text_x": x + 12,
                        "value_y_p": CHART_HEIGHT + 6 - p, "value_y_c": CHART_HEIGHT + 6 - c})
    return {"columns": columns, "width": 40 + len(columns) * SLOT, "height": CHART_HEIGHT + 46,
            "axis_y": CHART_HEIGHT + 10, "label_y": CHART_HEIGHT + 26, "year_y": CHART_HEIGHT + 40}


def _columns() -> tuple[Column, ...]:
    return (
        Column("month", gettext_lazy("Month")),
        Column("key", gettext_lazy("Key"), shown=False),
        Column("label", gettext_lazy("Method or source")),
        Column("new_prospects", gettext_lazy("New prospects"), "int"),
        Column("new_customers", gettext_lazy("New customers"), "int"),
    )


SPEC = ReportSpec(
    name="prospects", title=gettext_lazy("Prospects trend"),
    summary="New prospects and new customers per month, by prospecting method or by source",
    build=prospects_report, columns=_columns(), chart=chart, chart_template="analytics/_prospects_chart.html",
    filters=("by", "period", "team", "rep", "segment"), by_keys=GROUPINGS, by_choices=lambda: list(grouping_labels().items()),
    default_by="method", empty_text=gettext_lazy("No card you can see became a prospect or a customer in this period."),
    rows_word="row(s)",
)
