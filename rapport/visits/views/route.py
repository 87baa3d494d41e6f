"""The day's route on the phone: the visits in the planned order with times and legs, the
saving against the typed order, a link that opens the navigation app, the visits left out and
why, a map (Leaflet, vendored; tiles only when ``RAPPORT_MAP_TILES`` names a tile server), and
the plan as an iCalendar file for the day or the week.

A manager or an administrator sees one of their people's days with ``?user=<id>``; anyone
else's id answers 404, like an id that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rapport.accounts.models import User
from rapport.core.errors import NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view
from rapport.visits import content, routing
from rapport.visits.models import Objective

MAX_PEOPLE_CHOICES = 200  # the "whose day" menu of an administrator
WEEK_SOLVER_MS = 300


def _day(raw: str) -> dt.date:
    try:
        return routing.parse_day(raw)
    except ValidationError:
        raise NotFound("day") from None


def _people(user: User) -> list[tuple[int, str]]:
    """Whose days the user may open: their own, and their people's (everyone's for an admin)."""
    scope = scope_for(user)
    if scope.sees_everything:
        rows = User.objects.filter(is_active=True).order_by("username")[:MAX_PEOPLE_CHOICES]
    elif scope.managed_user_ids:
        rows = User.objects.filter(is_active=True, pk__in=[user.pk, *scope.managed_user_ids]).order_by("username")
    else:
        return []
    return [(u.pk, u.get_username()) for u in rows]


def map_data(route: routing.Route) -> dict[str, Any]:
    """What route.js draws: the start, the numbered stops, and the tile server if any."""
    return {
        "tiles": str(getattr(settings, "RAPPORT_MAP_TILES", "") or ""),
        "attribution": str(getattr(settings, "RAPPORT_MAP_ATTRIBUTION", "") or ""),
        "start": None if route.start is None or route.assumed_start else {
            "lat": route.start.latitude, "lon": route.start.longitude,
            "label": route.start_label or _("Start"),
        },
        "stops": [
            {"n": s.number, "lat": s.point.latitude, "lon": s.point.longitude, "name": s.visit.card.display_name,
             "time": s.start.strftime("%H:%M")}
            for s in route.stops
        ],
        "label_start": _("Start"),
    }


@require_GET
@web_view
def route_page(request: AuthedHttpRequest, day: str = "") -> HttpResponse:
    if not day:
        # The day picker sends ?day=…: the page of a day has its own address.
        target = _day(request.GET["day"]) if request.GET.get("day") else timezone.localdate()
        params = {"user": request.GET["user"]} if request.GET.get("user") else {}
        return redirect(reverse("visit-route", args=[target.isoformat()]) + ("?" + urlencode(params) if params else ""))
    planned_on = _day(day)
    owner = routing.route_owner(request.user, request.GET.get("user"))
    route = routing.plan_route(request.user, owner, planned_on)
    other = owner.pk != request.user.pk
    suffix = f"?user={owner.pk}" if other else ""
    context = {
        "route": route,
        "owner": owner,
        "other": other,
        "suffix": suffix,
        "navigation_url": routing.navigation_url(route),
        "stops": [(s, routing.geo_url(s.point, s.visit.card.display_name)) for s in route.stops],
        "map": map_data(route),
        "people": _people(request.user),
        "previous_day": (planned_on - dt.timedelta(days=1)).isoformat(),
        "next_day": (planned_on + dt.timedelta(days=1)).isoformat(),
        "ics_day": reverse("visit-route-ics", args=[planned_on.isoformat()]) + suffix,
        "ics_week": reverse("visit-route-ics", args=[planned_on.isoformat()]) + (suffix + "&" if suffix else "?") + "week=1",
    }
    return render(request, "visits/route.html", context)


# --- iCalendar ------------------------------------------------------------------------------------------


def _objectives(visits: list[Any]) -> dict[int, list[str]]:
    catalog = content.objectives()
    found: dict[int, list[str]] = {}
    for o in Objective.objects.filter(visit__in=visits).order_by("visit_id", "position", "id"):
        entry = catalog.get(o.kind)
        text = entry.label if entry else o.kind
        found.setdefault(o.visit_id, []).append(f"{text}: {o.note}" if o.note else text)
    return found


def calendar(routes: list[routing.Route]) -> bytes:
    """The planned days as iCalendar: one event per visit at its planned time; a visit left
    off the route keeps its own window (or the whole day) and says why."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Rapport//Visit route//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Visits"))
    objectives = _objectives([v for r in routes for v in r.visits])
    stamp = timezone.now()
    for route in routes:
        for stop in route.stops:
            event = Event()
            start = routing.local_datetime(route.day, stop.start)
            event.add("dtstart", start.astimezone(dt.UTC))
            event.add("dtend", (start + dt.timedelta(minutes=stop.visit.duration_minutes)).astimezone(dt.UTC))
            _describe(event, stop.visit, stop.address, objectives, stamp)
            event.add("geo", (stop.point.latitude, stop.point.longitude))
            cal.add_component(event)
        for left in route.unplaced:
            event = Event()
            visit = left.visit
            if visit.window_start:
                start = routing.local_datetime(route.day, visit.window_start)
                event.add("dtstart", start.astimezone(dt.UTC))
                event.add("dtend", (start + dt.timedelta(minutes=visit.duration_minutes)).astimezone(dt.UTC))
            else:
                event.add("dtstart", route.day)
                event.add("dtend", route.day + dt.timedelta(days=1))
            _describe(event, visit, "", objectives, stamp, note=_("Not on the route: %(reason)s") % {"reason": left.reason})
            cal.add_component(event)
    return bytes(cal.to_ical())


def _describe(event: Any, visit: Any, address: str, objectives: dict[int, list[str]], stamp: dt.datetime, note: str = "") -> None:
    event.add("uid", f"visit-{visit.pk}@rapport")
    event.add("dtstamp", stamp)
    event.add("summary", visit.card.display_name)
    if address:
        event.add("location", address)
    lines = objectives.get(visit.pk, [])
    if visit.purpose:
        lines = [visit.purpose, *lines]
    if note:
        lines = [*lines, note]
    if lines:
        event.add("description", "\n".join(lines))


@require_GET
@web_view
def route_ics(request: AuthedHttpRequest, day: str) -> HttpResponse:
    planned_on = _day(day)
    owner = routing.route_owner(request.user, request.GET.get("user"))
    if request.GET.get("week"):
        monday = planned_on - dt.timedelta(days=planned_on.weekday())
        days = [monday + dt.timedelta(days=i) for i in range(7)]
        name = f"visits-week-{monday.isoformat()}.ics"
    else:
        days, name = [planned_on], f"visits-{planned_on.isoformat()}.ics"
    # A week is seven solves: each gets a shorter search so the file comes within seconds.
    limit = WEEK_SOLVER_MS if len(days) > 1 else None
    routes = [routing.plan_route(request.user, owner, d, time_limit_ms=limit) for d in days]
    response = HttpResponse(calendar(routes), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns: list[URLPattern] = [
    path("visits/route/", route_page, name="visit-route"),
    path("visits/route/<str:day>.ics", route_ics, name="visit-route-ics"),
    path("visits/route/<str:day>/", route_page, name="visit-route"),
]
