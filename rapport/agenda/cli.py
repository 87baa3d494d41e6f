"""``rapport agenda remind``: make the day's reminders for everyone (idempotent), and
``rapport agenda digest``: send each user their day by e-mail. Both are meant for a daily
scheduler (cron, a systemd timer) early in the morning; ``agenda today`` prints a user's day."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from rapport.cli import EXIT_OK, UsageError, out, viewer


def _day(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"--date: {raw!r} is not a date (YYYY-MM-DD).") from None


def cmd_remind(args: argparse.Namespace) -> int:
    from rapport.agenda import reminders

    started = time.perf_counter()
    counts = reminders.generate(as_of=_day(args.date))
    counts["seconds"] = round(time.perf_counter() - started, 2)  # type: ignore[assignment]
    print(json.dumps(counts, sort_keys=True))
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    from rapport.agenda import digest

    counts = digest.send_digests(today=_day(args.date), base_url=args.base_url or "", usernames=args.user or None)
    print(json.dumps(counts, sort_keys=True))
    return EXIT_OK


def cmd_today(args: argparse.Namespace) -> int:
    from rapport.agenda import selectors

    user = viewer(args.user)
    agenda = selectors.today_of(user, days=args.days)
    groups: list[tuple[str, Any]] = [("Overdue", agenda.overdue), ("Today", agenda.due_today)]
    groups += [(d.day.isoformat(), d.items) for d in agenda.upcoming]
    for label, items in groups:
        if not items:
            continue
        out.print(f"{label}:", markup=False)
        for item in items:
            out.print(f"  {item.due_on.isoformat()}  {item.title}" + (f" — {item.why}" if item.why else ""), markup=False)
    if not agenda.count:
        out.print("Nothing due.", markup=False)
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    agenda = subparsers.add_parser("agenda", help="Daily reminders, the e-mail digest and a user's day.")
    agenda_sub = agenda.add_subparsers(dest="agenda_command", metavar="ACTION", required=True)
    remind = command("remind", cmd_remind, "Make the day's reminders for every user (running it twice changes nothing).", agenda_sub)
    remind.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default: today)")
    send = command("digest", cmd_digest, "Send each user who wants it their day by e-mail (once a day).", agenda_sub)
    send.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default: today)")
    send.add_argument("--base-url", metavar="URL", help="the address of this server, for the link in the e-mail")
    send.add_argument("--user", action="append", metavar="USERNAME", help="only this user; repeat for more")
    today = command("today", cmd_today, "Print a user's day: overdue, today and the next days.", agenda_sub)
    today.add_argument("--user", metavar="USERNAME", help="whose day (default: the first administrator)")
    today.add_argument("--days", type=int, default=7, metavar="N", help="days ahead (default 7)")
