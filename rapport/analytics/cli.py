"""``rapport analytics REPORT``: a report as a CSV or XLSX file, as a user sees it (churn, RFM and persistence
here; the reports described by a ``ReportSpec`` from their spec, in ``register_specs``)."""

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
    team, rep, segment = _team_id(args.team), _rep_id(args.rep), _segment_id(args.segment, user)
    report = selectors.churn_report(user, as_of=args.as_of or timezone.localdate(), team=team, rep=rep, segment=segment)
    rows = _write(target, lambda stream: exports.write_churn(report, stream, fmt))
    exports.record_export(user=user, report=report, fmt=fmt, channel="cli", team=team, rep=rep, segment=segment)
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
    churn.add_argument("--segment", metavar="SEGMENT", help="only the members of this saved segment (id or name)")
    churn.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    churn.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")
    register_rfm(analytics_sub, command)
    register_persistence(analytics_sub, command)
    register_specs(analytics_sub, command)
    register_dashboard(analytics_sub, command)


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
    team, rep, segment = _team_id(args.team), _rep_id(args.rep), _segment_id(args.segment, user)
    report = selectors.retention_report(user, as_of=args.as_of or timezone.localdate(), cohorts=args.cohorts,
                                        team=team, rep=rep, segment=segment)
    rows = _write(target, lambda stream: exports.write_retention(report, stream, fmt))
    exports.record_retention_export(user=user, report=report, fmt=fmt, channel="cli", cohorts=args.cohorts,
                                    team=team, rep=rep, segment=segment)
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
    persistence.add_argument("--segment", metavar="SEGMENT", help="only the members of this saved segment (id or name)")
    persistence.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    persistence.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


# --- reports described by a spec (``rapport.analytics.reports``): one command each, from the table ----------


def _segment_id(value: str | None, user: Any) -> int | None:
    """A saved segment the user may use, by id or by name."""
    from rapport.segments.selectors import segments_for

    if value is None:
        return None
    found = segments_for(user)
    found = found.filter(pk=int(value)) if value.isdigit() else found.filter(name=value)
    segment_id = found.values_list("pk", flat=True).first()
    if segment_id is None:
        raise UsageError(f"--segment: no saved segment {value!r} for this user.")
    return int(segment_id)


def cmd_spec(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import reports

    spec = reports.specs()[args.report]
    target, fmt = _output(args)
    user = viewer(args.user)
    end = getattr(args, "as_of", None) or getattr(args, "to", None) or timezone.localdate()
    start = getattr(args, "start", None) or spec.default_start(end)
    if start > end:
        raise UsageError("--from comes after --to.")
    flt = reports.Filters(start=start, end=end, team=_team_id(args.team), rep=_rep_id(args.rep),
                          segment=_segment_id(args.segment, user), by=getattr(args, "by", None) or spec.default_by,
                          promotion=getattr(args, "promotion", None))
    try:
        report = spec.build(user, flt)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    rows = _write(target, lambda stream: reports.write(spec, report, stream, fmt))
    reports.record_export(spec=spec, user=user, report=report, flt=flt, fmt=fmt, channel="cli")
    period = f"as of {end.isoformat()}" if "as_of" in spec.filters else f"{start.isoformat()} to {end.isoformat()}"
    out.print(f"Wrote {rows} {spec.rows_word}, {period}, to {target}.", markup=False)
    return EXIT_OK


def register_specs(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics profile|promotions|prospects``: the arguments follow each spec's filters."""
    from rapport.analytics import reports

    for spec in reports.specs().values():
        p = command(spec.name, cmd_spec, spec.summary + ".", analytics_sub)
        p.set_defaults(report=spec.name)
        if "by" in spec.filters:
            p.add_argument("--by", choices=spec.by_keys, default=spec.default_by, help="how the rows are grouped")
        if "promotion" in spec.filters:
            p.add_argument("--promotion", type=int, required=True, metavar="ID", help="the promotion's id")
        if "period" in spec.filters:
            p.add_argument("--from", dest="start", type=_date, metavar="DATE",
                           help=f"first day of the period (YYYY-MM-DD); default: {spec.start_help}")
            p.add_argument("--to", "--as-of", dest="to", type=_date, metavar="DATE",
                           help="last day of the period: as things stood on this day; default: today")
        if "as_of" in spec.filters:
            p.add_argument("--as-of", type=_date, metavar="DATE",
                           help="as things stood on this day (YYYY-MM-DD); default: today")
        p.add_argument("--team", metavar="TEAM", help="only this team's customers (id or name)")
        p.add_argument("--rep", metavar="USERNAME", help="only the customers this user owns")
        p.add_argument("--segment", metavar="SEGMENT", help="only the members of this saved segment (id or name)")
        p.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
        p.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")


# --- the dashboard: its per-rep table, as the page's downloads write it ---------------------------------------


def cmd_dashboard(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.analytics import dashboard
    from rapport.audit.services import record

    target, fmt = _output(args)
    user = viewer(args.user)
    board = dashboard.build_dashboard(user, as_of=args.as_of or timezone.localdate(), team=_team_id(args.team),
                                      rep=_rep_id(args.rep))
    rows = _write(target, lambda stream: dashboard.write_lines(board, stream, fmt))
    record(action="export", record_type="analytics.dashboard", actor=user, detail={
        "report": "dashboard", "format": fmt, "channel": "cli", "as_of": board.as_of.isoformat(), "team": board.team_id,
        "rep": board.rep_id, "rows": rows})
    out.print(f"Wrote {rows} rep row(s) as of {board.as_of.isoformat()}: sales {board.year.revenue} {board.currency} "
              f"this year ({board.year.previous_revenue} a year earlier), {board.flagged} silent regular(s) flagged, "
              f"to {target}.", markup=False)
    return EXIT_OK


def register_dashboard(analytics_sub: Any, command: Any) -> None:
    """``rapport analytics dashboard``: the dashboard's per-rep table (a rep's own row for a rep)."""
    board = command("dashboard", cmd_dashboard,
                    "Per rep: sales this year against last year, new-customer calls a day, silent regulars, promises kept.",
                    analytics_sub)
    board.add_argument("--as-of", type=_date, metavar="DATE", help="as things stood on this day (YYYY-MM-DD); default: today")
    board.add_argument("--team", metavar="TEAM", help="only this team (id or name)")
    board.add_argument("--rep", metavar="USERNAME", help="this rep's own figures")
    board.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    board.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")
