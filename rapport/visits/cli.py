"""``rapport visits plan`` and ``rapport visits route``: plan a visit, and print a day's visits in
the planned order with times and the saving against the typed order."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rapport.cli import EXIT_OK, UsageError, out, viewer


def _print_json(data: Any) -> None:
    from django.core.serializers.json import DjangoJSONEncoder

    # print, not rich: the output is for other programs and must stay byte-exact JSON.
    print(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))


def cmd_plan(args: argparse.Namespace) -> int:
    from rapport.visits import services

    user = viewer(args.user)
    if bool(args.organization) == bool(args.person):
        raise UsageError("Give the customer: --organization ID or --person ID.")
    data: dict[str, Any] = {"organization": args.organization} if args.organization else {"person": args.person}
    data["date"] = args.date
    optional = {"window_start": args.window_start, "window_end": args.window_end, "duration_minutes": args.duration,
                "purpose": args.purpose, "objectives": args.objective}
    data.update({k: v for k, v in optional.items() if v not in (None, "", [])})
    visit = services.create_visit(user=user, data=data)
    out.print(str(visit.pk), markup=False)
    return EXIT_OK


def _owner(user: Any, username: str | None) -> Any:
    from rapport.accounts.models import User
    from rapport.visits import routing

    if not username:
        return user
    owner_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    if owner_id is None:
        raise UsageError(f"--owner: no user {username!r}.")
    return routing.route_owner(user, owner_id)


def cmd_route(args: argparse.Namespace) -> int:
    from django.utils import timezone
    from rich.table import Table

    from rapport.visits import routing
    from rapport.visits.api_routes import RouteOut

    user = viewer(args.user)
    day = routing.parse_day(args.date) if args.date else timezone.localdate()
    route = routing.plan_route(user, _owner(user, args.owner), day)
    if args.json:
        _print_json(RouteOut.of(route))
        return EXIT_OK
    table = Table(title=f"Route of {route.owner.get_username()} on {day.isoformat()}")
    for column in ("#", "customer", "arrive", "visit", "leave", "wait", "km", "drive"):
        fold = column == "customer"
        table.add_column(column, overflow="fold" if fold else "ellipsis", no_wrap=not fold,
                         justify="right" if column in ("#", "wait", "km", "drive") else "left")
    start = "first visit (no start point)" if route.assumed_start else (route.start_label or "start")
    table.add_row("", start, "", "", route.leaves_at.strftime("%H:%M"), "", "", "")
    for s in route.stops:
        table.add_row(str(s.number), s.visit.card.display_name, s.arrival.strftime("%H:%M"),
                      f"{s.start.strftime('%H:%M')}-{s.departure.strftime('%H:%M')}",
                      s.departure.strftime("%H:%M"), f"{s.waiting_minutes} min" if s.waiting_minutes else "",
                      f"{s.leg_km:.1f}", f"{s.leg_minutes} min")
    out.print(table)
    lines = []
    if route.stops:
        lines.append(f"On the road: {route.planned.km:.1f} km, {route.planned.minutes} min "
                     f"(typed order: {route.typed.km:.1f} km, {route.typed.minutes} min).")
        lines.append(f"Saving: {route.saving.minutes} min, {route.saving.km:.1f} km ({route.saving.percent:.1f} %) against the typed order."
                     + ("" if route.typed_fits else " The typed order would miss an opening hour or a visit's time."))
    else:
        lines.append("No visit on the route.")
    for left in route.unplaced:
        lines.append(f"Not on the route: {left.visit.card.display_name}: {left.reason}")
    for line in lines:
        out.print(line, markup=False)
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    visits = subparsers.add_parser("visits", help="Plan visits and the day's route.")
    visits_sub = visits.add_subparsers(dest="visits_command", metavar="ACTION", required=True)
    plan = command("plan", cmd_plan, "Plan a visit to a customer and print its id.", visits_sub)
    customer = plan.add_mutually_exclusive_group(required=True)
    customer.add_argument("--organization", metavar="ID", help="the organisation's card id")
    customer.add_argument("--person", metavar="ID", help="the person's card id")
    plan.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    plan.add_argument("--from", dest="window_start", metavar="HH:MM", help="start no earlier than")
    plan.add_argument("--until", dest="window_end", metavar="HH:MM", help="start no later than")
    plan.add_argument("--duration", metavar="MINUTES", help="expected duration (default 45)")
    plan.add_argument("--objective", action="append", metavar="KEY", help="an objective key of the catalog; repeat for more")
    plan.add_argument("--purpose", help="the visit's purpose in a line")
    plan.add_argument("--user", metavar="USERNAME", required=True, help="who plans the visit (it is theirs)")
    route = command("route", cmd_route, "Print a day's visits in the planned order, with times and the saving.", visits_sub)
    route.add_argument("--date", metavar="YYYY-MM-DD", help="default: today")
    route.add_argument("--user", metavar="USERNAME", required=True, help="whose view")
    route.add_argument("--owner", metavar="USERNAME", help="a manager: whose day (one of your people)")
    route.add_argument("--json", action="store_true", help="print JSON (the API's shape)")
