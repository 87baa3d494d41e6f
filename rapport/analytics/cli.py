"""``rapport analytics churn``: the silent-regulars report as a CSV or XLSX file, as a user sees it."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from collections.abc import Callable
from typing import IO, Any

from rapport.cli import EXIT_OK, UsageError, out, viewer


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _team_id(value: str | None) -> int | None:
    """A team by id or by name."""
    from rapport.accounts.models import Team

    if value is None:
        return None
    found = Team.objects.filter(pk=int(value)) if value.isdigit() else Team.objects.filter(name=value)
    team_id = found.values_list("pk", flat=True).first()
    if team_id is None:
        raise UsageError(f"--team: no team {value!r}.")
    return int(team_id)


def _rep_id(username: str | None) -> int | None:
    from rapport.accounts.models import User

    if username is None:
        return None
    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    if user_id is None:
        raise UsageError(f"--rep: no user {username!r}.")
    return int(user_id)


def _output(args: argparse.Namespace) -> tuple[Path, str]:
    """The --output file and its format (csv or xlsx), or a usage error."""
    from rapport.analytics import exports

    target = Path(args.output)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in exports.FORMATS:
        raise UsageError("--output must end in .csv or .xlsx.")
    return target, fmt


def _write(target: Path, write: Callable[[IO[bytes]], int]) -> int:
    """Writes through a ``.part`` file renamed at the end, so a failed export leaves no half-written file."""
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as stream:
            rows = write(stream)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def cmd_churn(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, selectors

    target, fmt = _output(args)
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.churn_report(user, as_of=args.as_of or timezone.localdate(), team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_churn(report, stream, fmt))
    exports.record_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep)
    out.print(f"Wrote {rows} customer(s), {report.flagged} flagged, as of {report.as_of.isoformat()} to {target}.", markup=False)
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    analytics = subparsers.add_parser("analytics", help="Analytics reports as files.")
    analytics_sub = analytics.add_subparsers(dest="analytics_command", metavar="REPORT", required=True)
    churn = command("churn", cmd_churn,
                    "Customers with their usual interval between orders, flagged when silent for longer than it allows.",
                    analytics_sub)
    churn.add_argument("--as-of", type=_date, metavar="DATE", help="as things stood on this day (YYYY-MM-DD); default: today")
    churn.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
    churn.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
    churn.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    churn.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")
    register_rfm(analytics_sub, command)
    register_persistence(analytics_sub, command)
    register_profitability(analytics_sub, command)
    register_performance(analytics_sub, command)
    register_reps(analytics_sub, command)
    register_products(analytics_sub, command)


def cmd_rfm(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, selectors

    target, fmt = _output(args)
    if not 1 <= args.months <= 120:
        raise UsageError("--months must be between 1 and 120.")
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.rfm_report(user, as_of=args.as_of or timezone.localdate(), months=args.months, team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_rfm(report, stream, fmt))
    exports.record_rfm_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep)
    out.print(f"Wrote {rows} customer(s) scored on recency, frequency and monetary value as of {report.as_of.isoformat()} "
              f"(window from {report.window_start.isoformat()}, {report.currency}) to {target}.", markup=False)
    return EXIT_OK


def register_rfm(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics rfm``, added to the ``analytics`` subcommands by ``register``."""
    rfm = command("rfm", cmd_rfm, "Customers scored 1-5 on recency, frequency and monetary value, with their segment.",
                  analytics_sub)
    rfm.add_argument("--as-of", type=_date, metavar="DATE", help="as things stood on this day (YYYY-MM-DD); default: today")
    rfm.add_argument("--months", type=int, default=12, metavar="N",
                     help="frequency and monetary over the N months before the as-of date (1-120); default: 12")
    rfm.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
    rfm.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
    rfm.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    rfm.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


def cmd_persistence(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, retention, selectors

    target, fmt = _output(args)
    if not 1 <= args.cohorts <= retention.MAX_COHORTS:
        raise UsageError(f"--cohorts must be between 1 and {retention.MAX_COHORTS}.")
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.retention_report(user, as_of=args.as_of or timezone.localdate(), cohorts=args.cohorts,
                                        team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_retention(report, stream, fmt))
    exports.record_retention_export(user=user, report=report, fmt=fmt, channel="cli", cohorts=args.cohorts,
                                    team=team, rep=rep)
    out.print(f"Wrote {rows} row(s) for {len(report.cohorts)} cohort(s) of {report.customers} customer(s) "
              f"as of {report.as_of.isoformat()} to {target}.", markup=False)
    return EXIT_OK


def register_persistence(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics persistence``, added to the ``analytics`` subcommands by ``register``."""
    persistence = command("persistence", cmd_persistence,
                          "Customers by month of first order, with the share of each cohort ordering in each month after it.",
                          analytics_sub)
    persistence.add_argument("--as-of", type=_date, metavar="DATE",
                             help="as things stood on this day (YYYY-MM-DD); default: today")
    persistence.add_argument("--cohorts", type=int, default=12, metavar="N",
                             help="the N first-order months up to the as-of month (1-36); default: 12")
    persistence.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
    persistence.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
    persistence.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    persistence.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


def cmd_profitability(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, selectors

    target, fmt = _output(args)
    end = args.to or timezone.localdate()
    start = args.start or selectors.year_before(end)
    if start > end:
        raise UsageError("--from comes after --to.")
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.profitability_report(user, start=start, end=end, team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_profitability(report, stream, fmt))
    exports.record_profitability_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep)
    losing = sum(1 for row in report.rows if row.net_profit < 0)
    out.print(f"Wrote {rows} customer(s), {losing} with a net loss, from {start.isoformat()} to {end.isoformat()} "
              f"({report.currency}) to {target}.", markup=False)
    return EXIT_OK


def register_profitability(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics profitability``, added to the ``analytics`` subcommands by ``register``."""
    profit = command("profitability", cmd_profitability,
                     "Revenue, cost of goods, margin, cost to serve and net profit per customer over a period.",
                     analytics_sub)
    profit.add_argument("--from", dest="start", type=_date, metavar="DATE",
                        help="first day of the period (YYYY-MM-DD); default: a year before --to")
    profit.add_argument("--to", type=_date, metavar="DATE", help="last day of the period; default: today")
    profit.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
    profit.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
    profit.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    profit.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


def cmd_performance(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, selectors

    target, fmt = _output(args)
    end = args.to or timezone.localdate()
    start = args.start or end.replace(month=1, day=1)
    if start > end:
        raise UsageError("--from comes after --to.")
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.performance_report(user, start=start, end=end, dimension=args.by, team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_performance(report, stream, fmt))
    exports.record_performance_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep)
    out.print(f"Wrote {rows} row(s) by {args.by}, {start.isoformat()} to {end.isoformat()} against "
              f"{report.previous_start.isoformat()} to {report.previous_end.isoformat()} ({report.currency}) to {target}.",
              markup=False)
    return EXIT_OK


def register_performance(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics performance``, added to the ``analytics`` subcommands by ``register``."""
    from rapport.analytics.reps import PERFORMANCE_DIMENSIONS  # no models: the menu is built before Django is set up

    perf = command("performance", cmd_performance, "Sales by a dimension against the same period a year earlier.",
                   analytics_sub)
    perf.add_argument("--by", choices=PERFORMANCE_DIMENSIONS, default="category", help="how sales are grouped")
    perf.add_argument("--from", dest="start", type=_date, metavar="DATE",
                      help="first day of the period (YYYY-MM-DD); default: 1 January of --to's year")
    perf.add_argument("--to", type=_date, metavar="DATE", help="last day of the period; default: today")
    perf.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
    perf.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
    perf.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    perf.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


def cmd_reps(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, selectors

    target, fmt = _output(args)
    end = args.to or timezone.localdate()
    start = args.start or end.replace(day=1)
    if start > end:
        raise UsageError("--from comes after --to.")
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.reps_report(user, start=start, end=end, team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_reps(report, stream, fmt))
    exports.record_reps_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep)
    out.print(f"Wrote {rows} rep(s), {start.isoformat()} to {end.isoformat()} ({report.currency}) to {target}.",
              markup=False)
    return EXIT_OK


def register_reps(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics reps``, added to the ``analytics`` subcommands by ``register``."""
    reps = command("reps", cmd_reps, "Per rep: revenue, new-customer calls per day against the target, visits, "
                   "objectives met, promises kept and conversion.", analytics_sub)
    reps.add_argument("--from", dest="start", type=_date, metavar="DATE",
                      help="first day of the period (YYYY-MM-DD); default: the 1st of --to's month")
    reps.add_argument("--to", type=_date, metavar="DATE", help="last day of the period; default: today")
    reps.add_argument("--team", metavar="TEAM", help="only this team's reps (id or name)")
    reps.add_argument("--rep", metavar="USERNAME", help="only this rep")
    reps.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    reps.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


def cmd_products(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import exports, selectors

    target, fmt = _output(args)
    end = args.to or timezone.localdate()
    start = args.start or selectors.year_before(end)
    if start > end:
        raise UsageError("--from comes after --to.")
    user = viewer(args.user)
    team, rep = _team_id(args.team), _rep_id(args.rep)
    report = selectors.products_report(user, start=start, end=end, team=team, rep=rep)
    rows = _write(target, lambda stream: exports.write_products(report, stream, fmt))
    exports.record_products_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep)
    out.print(f"Wrote {rows} product(s) with their ABC class, {start.isoformat()} to {end.isoformat()} to {target}.",
              markup=False)
    return EXIT_OK


def register_products(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics products``, added to the ``analytics`` subcommands by ``register``."""
    products = command("products", cmd_products, "Products by revenue with their ABC class.", analytics_sub)
    products.add_argument("--from", dest="start", type=_date, metavar="DATE",
                          help="first day of the period (YYYY-MM-DD); default: a year before --to")
    products.add_argument("--to", type=_date, metavar="DATE", help="last day of the period; default: today")
    products.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
    products.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
    products.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    products.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")
