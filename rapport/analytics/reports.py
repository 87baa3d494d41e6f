"""One description per report, and what every report shares: its filters, its columns, its files.

A report is a ``ReportSpec``: a name (the page ``/analytics/NAME/``, the API
``/reports/NAME`` and the command ``rapport analytics NAME``), a title, the selector that
builds it from the shared ``Filters``, the columns of its table and of its CSV/XLSX files,
the chart drawn above the table, and which filters it takes. The web views, the downloads,
the audit entry and the command line are written once, from that table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise

MAX_MONTHS = 120  # the longest period a monthly report covers


@dataclass(frozen=True)
class Filters:
    """The filters every report takes; a report reads those its spec names.

    ``end`` is the as-of date: things as they stood on that day, nothing dated later counts.
    """

    start: dt.date
    end: dt.date
    team: int | None = None
    rep: int | None = None
    segment: int | None = None
    by: str = ""
    promotion: int | None = None

    @property
    def as_of(self) -> dt.date:
        return self.end

    def audit(self) -> dict[str, Any]:
        """The filters as the audit log keeps them."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "team": self.team, "rep": self.rep,
                "segment": self.segment, "by": self.by or None, "promotion": self.promotion}


@dataclass(frozen=True)
class Column:
    key: str  # the attribute of a row, the header of the files and the API field
    title: str | Promise  # the table header, in the reader's language
    kind: str = "text"  # text | int | money | percent | uplift | days
    shown: bool = True  # on the page's table
    exported: bool = True  # in the files (and so the command line's output)


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str | Promise
    summary: str  # one line for the command line's help and the API's summary
    build: Callable[[Any, Filters], Any]  # (user, filters) -> report with ``rows`` and ``as_of``
    columns: tuple[Column, ...]
    chart: Callable[[Any], dict[str, Any] | None]  # the chart partial's context; None: no chart
    chart_template: str
    filters: tuple[str, ...] = ("period", "team", "rep", "segment")  # also "as_of" (no period), "by", "promotion"
    by_choices: Callable[[], list[tuple[str, str]]] | None = None  # (key, words), in the reader's language
    by_keys: tuple[str, ...] = ()  # the same keys, for the command line (built before translations are ready)
    default_by: str = ""
    default_start: Callable[[dt.date], dt.date] = field(default=lambda end: year_before(end))
    start_help: str = "a year before --to"  # the default start in words, for the command line
    empty_text: str | Promise = ""
    rows_word: str = "row(s)"  # for the command line's "Wrote N …"
    # A report whose page is more than a chart and a table keeps its own template, which
    # ``page_context(report, request)`` feeds; the downloads and the command line stay generic.
    template: str = "analytics/report.html"
    page_context: Callable[[Any, Any], dict[str, Any]] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The files' columns, in order."""
        return tuple(column.key for column in self.columns if column.exported)


def year_before(end: dt.date) -> dt.date:
    """The first day of the year that ends on ``end`` (the default period of most reports)."""
    from rapport.analytics.rfm import window_start

    return window_start(end, 12)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)) - dt.timedelta(microseconds=1)


def cards_for(user: Any, flt: Filters) -> QuerySet[Any]:
    """The live cards the user may see, narrowed by team, rep and saved segment.

    The funnel's report filter does exactly this, and checks that the team, the rep and the
    segment are within the user's reach (422 otherwise): one rule for both apps.
    """
    from rapport.funnel.selectors import ReportFilter, report_cards

    return report_cards(user, ReportFilter(team=flt.team, owner=flt.rep, segment=flt.segment))


def check_period(flt: Filters) -> None:
    if flt.end < flt.start:
        raise ValueError("the period ends before it starts")


# --- files and the audit log ------------------------------------------------------------------------

FORMATS = ("csv", "xlsx")


def cell(value: Any, fmt: str) -> Any:
    """A value as a file holds it: exact text for amounts in CSV, numbers in a spreadsheet."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return float(value) if fmt == "xlsx" else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write(spec: ReportSpec, report: Any, stream: IO[bytes], fmt: str) -> int:
    """The report's rows, the spec's columns in order; returns how many rows were written."""
    from rapport.imports.writers import CsvWriter, XlsxWriter

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == "csv" else XlsxWriter(stream, title=spec.name)
    writer.header(list(spec.keys))
    rows = export_rows(report)
    for row in rows:
        writer.row([cell(getattr(row, key), fmt) for key in spec.keys])
    writer.close()
    return len(rows)


def export_rows(report: Any) -> Sequence[Any]:
    """The rows of a report's files: its own ``export_rows`` when it has a total, else its rows."""
    rows = getattr(report, "export_rows", None)
    return list(rows()) if callable(rows) else report.rows


def record_export(*, spec: ReportSpec, user: Any, report: Any, flt: Filters, fmt: str, channel: str) -> None:
    from rapport.audit.services import record

    record(action="export", record_type=f"analytics.{spec.name}", actor=user, detail={
        "report": spec.name, "format": fmt, "channel": channel, **flt.audit(), "rows": len(export_rows(report)),
    })


# --- the table of reports ------------------------------------------------------------------------------


def specs() -> dict[str, ReportSpec]:
    """The reports described by a spec, by name. Built on first use: titles are translated per request."""
    from rapport.analytics import period_reports, profile, promotions, prospects

    return {spec.name: spec for spec in (profile.SPEC, promotions.SPEC, prospects.SPEC, *period_reports.SPECS)}
