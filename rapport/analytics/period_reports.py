"""The reports over a period described by a ``ReportSpec``: profitability, performance against last
year, rep performance and products. Their pages keep their own templates (fed by the context
functions of ``rapport.analytics.views``); their filters, downloads, audit entries and commands
come from the spec. Nothing here imports a model at the top: the command line lists the reports
before Django is set up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy

from rapport.analytics.reports import Column, Filters, ReportSpec, year_before
from rapport.analytics.reps import PERFORMANCE_DIMENSIONS


def _columns(keys: tuple[str, ...]) -> tuple[Column, ...]:
    """Columns of a report with its own template: the files' headers are the keys."""
    return tuple(Column(key, key) for key in keys)


def _profitability(user: Any, flt: Filters) -> Any:
    from rapport.analytics import selectors

    return selectors.profitability_report(user, start=flt.start, end=flt.end, team=flt.team, rep=flt.rep,
                                          segment=flt.segment)


def _performance(user: Any, flt: Filters) -> Any:
    from rapport.analytics import selectors

    return selectors.performance_report(user, start=flt.start, end=flt.end, dimension=flt.by or "category",
                                        team=flt.team, rep=flt.rep, segment=flt.segment)


def _reps(user: Any, flt: Filters) -> Any:
    from rapport.analytics import selectors

    return selectors.reps_report(user, start=flt.start, end=flt.end, team=flt.team, rep=flt.rep, segment=flt.segment)


def _products(user: Any, flt: Filters) -> Any:
    from rapport.analytics import selectors

    return selectors.products_report(user, start=flt.start, end=flt.end, team=flt.team, rep=flt.rep,
                                     segment=flt.segment)


def _context(name: str) -> Any:
    def context(report: Any, request: Any) -> dict[str, Any]:
        from rapport.analytics import views

        return dict(getattr(views, f"{name}_context")(report, request))

    return context


def _dimensions() -> list[tuple[str, str]]:
    from rapport.analytics import selectors

    return list(selectors.dimension_labels().items())


def _no_chart(report: Any) -> None:
    return None


def _start_of_year(end: dt.date) -> dt.date:
    return end.replace(month=1, day=1)


def _start_of_month(end: dt.date) -> dt.date:
    return end.replace(day=1)


def _specs() -> tuple[ReportSpec, ...]:
    from rapport.analytics.columns import PERFORMANCE_COLUMNS, PRODUCT_COLUMNS, PROFIT_COLUMNS, REP_COLUMNS

    return (
        ReportSpec(name="profitability", title=gettext_lazy("Profitability per customer"),
                   summary="Revenue, cost of goods, margin, cost to serve and net profit per customer over a period",
                   build=_profitability, columns=_columns(PROFIT_COLUMNS), chart=_no_chart, chart_template="",
                   default_start=year_before, template="analytics/profitability.html",
                   page_context=_context("profitability"), rows_word="customer(s)"),
        ReportSpec(name="performance", title=gettext_lazy("Performance against last year"),
                   summary="Sales by a dimension against the same period a year earlier",
                   build=_performance, columns=_columns(PERFORMANCE_COLUMNS), chart=_no_chart, chart_template="",
                   filters=("by", "period", "team", "rep", "segment"), by_keys=PERFORMANCE_DIMENSIONS,
                   by_choices=_dimensions, default_by="category", default_start=_start_of_year,
                   start_help="1 January of --to's year",
                   template="analytics/performance.html", page_context=_context("performance")),
        ReportSpec(name="reps", title=gettext_lazy("Rep performance"),
                   summary="Per rep: revenue, new-customer calls per day against the target, visits, objectives met, "
                           "promises kept and conversion",
                   build=_reps, columns=_columns(REP_COLUMNS), chart=_no_chart, chart_template="",
                   default_start=_start_of_month, start_help="the 1st of --to's month", template="analytics/reps.html", page_context=_context("reps"),
                   rows_word="rep(s)"),
        ReportSpec(name="products", title=gettext_lazy("Products: ABC and bought together"),
                   summary="Products by revenue with their ABC class", build=_products,
                   columns=_columns(PRODUCT_COLUMNS), chart=_no_chart, chart_template="", default_start=year_before,
                   template="analytics/products.html", page_context=_context("products"), rows_word="product(s)"),
    )


SPECS = _specs()
