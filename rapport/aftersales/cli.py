"""``rapport aftersales schedule`` (nightly: a satisfaction check for every delivered order) and
``rapport aftersales due`` (the due checks and open cases a user sees, as tables)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from rapport.cli import viewer


def register(subparsers: Any, command: Any) -> None:
    group = subparsers.add_parser("aftersales", help="Satisfaction checks, complaints and service cases.")
    sub = group.add_subparsers(dest="aftersales_command", metavar="ACTION", required=True)
    schedule = command("schedule", cmd_schedule, "Create the missing satisfaction checks of delivered orders (run nightly).", sub)
    schedule.add_argument("--today", metavar="YYYY-MM-DD", help="the day to schedule as of (default: today)")
    due = command("due", cmd_due, "Print the satisfaction checks due and the open cases.", sub)
    due.add_argument("--user", metavar="USERNAME", help="see it as this user (default: the first administrator)")
    due.add_argument("--team", metavar="TEAM", help="only this team's customers (team name)")
    due.add_argument("--today", metavar="YYYY-MM-DD", help="the day that decides what is due (default: today)")


def _today(raw: str | None) -> dt.date:
    from django.utils import timezone

    from rapport.cli import _usage

    if not raw:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise _usage(f"--today takes a date as YYYY-MM-DD, not {raw!r}.") from None


def cmd_schedule(args: argparse.Namespace) -> int:
    from rapport.aftersales.services import satisfaction_after_days, schedule_satisfaction_checks
    from rapport.cli import EXIT_OK, out

    today = _today(args.today)
    created = schedule_satisfaction_checks(today=today)
    out.print(f"{created} satisfaction checks scheduled ({satisfaction_after_days()} days after delivery).", markup=False)
    return EXIT_OK


def _team_id(user: Any, name: str | None) -> int | None:
    from rapport.accounts import selectors as people
    from rapport.cli import _usage

    if not name:
        return None
    team = next((t for t in people.reachable_teams(user) if t.name.casefold() == name.strip().casefold()), None)
    if team is None:
        raise _usage(f"No team {name!r} that {user.username} can see.")
    return int(team.pk)


def cmd_due(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.utils import translation

    user = viewer(args.user)
    # In the viewer's language, like their web pages.
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return _due(args, user)


def _due(args: argparse.Namespace, user: Any) -> int:
    from rich.table import Table
    from rich.text import Text

    from rapport.aftersales import selectors
    from rapport.cli import EXIT_OK, out

    flt = selectors.AfterSalesFilter(team=_team_id(user, args.team), today=_today(args.today))
    checks = selectors.checks(user, flt)
    table = Table(title=f"Satisfaction checks due ({checks.count()})")
    for column in ("check", "customer", "card", "order", "delivered", "due on"):
        table.add_column(column)
    for c in checks[:500]:
        # Text(): a customer's name is data, never console markup.
        table.add_row(str(c.pk), Text(c.card.display_name), str(c.card_id), Text(str(c.order)),
                      c.order.delivered_on.isoformat() if c.order.delivered_on else "", c.due_on.isoformat())
    out.print(table)
    cases = selectors.cases(user, flt)
    table = Table(title=f"Open cases ({cases.count()})")
    for column in ("case", "customer", "card", "kind", "subject", "assigned to", "due on"):
        table.add_column(column)
    for case in cases[:500]:
        overdue = " (overdue)" if case.due_on and case.due_on < flt.today else ""
        table.add_row(str(case.pk), Text(case.card.display_name), str(case.card_id), str(case.get_kind_display()), Text(case.subject),
                      case.assigned_to.get_username() if case.assigned_to else "",
                      (case.due_on.isoformat() + overdue) if case.due_on else "")
    out.print(table)
    return EXIT_OK
