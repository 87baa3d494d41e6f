"""REST endpoint of the day's route: ``GET /routes/{date}`` answers the user's visits of that
day in the planned order, with times, distances, the saving against the typed order and the
visits left out with why. A manager names one of their people with ``?user=<id>``; any other
id answers 404 like one that does not exist. A malformed date is refused by name (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema
from pydantic import Field

from rapport.core.http import AuthedHttpRequest
from rapport.visits import routing

router = Router(tags=["routes"])


def _hhmm(t: dt.time | None) -> str | None:
    return t.strftime("%H:%M") if t else None


class CustomerRef(Schema):
    id: int
    kind: str
    name: str


class StopOut(Schema):
    number: int = Field(description="1, 2, … in the planned order")
    visit: int
    customer: CustomerRef
    latitude: float
    longitude: float
    address: str
    arrival: str = Field(description="HH:MM, local time")
    start: str = Field(description="HH:MM: when the visit starts (later than the arrival when the customer opens later)")
    departure: str
    waiting_minutes: int
    duration_minutes: int
    leg_km: float = Field(description="From the previous stop, or the start")
    leg_minutes: int
    window_start: str | None = Field(description="The visit must start from this time (its window and the opening hours)")
    window_end: str | None = Field(description="… and by this time")
    geo: str = Field(description="A geo: link to the place")

    @staticmethod
    def of(stop: routing.Stop) -> dict[str, Any]:
        card = stop.visit.card
        return {
            "number": stop.number, "visit": stop.visit.pk,
            "customer": {"id": card.pk, "kind": card.kind, "name": card.display_name},
            "latitude": stop.point.latitude, "longitude": stop.point.longitude, "address": stop.address,
            "arrival": _hhmm(stop.arrival), "start": _hhmm(stop.start), "departure": _hhmm(stop.departure),
            "waiting_minutes": stop.waiting_minutes, "duration_minutes": stop.visit.duration_minutes,
            "leg_km": stop.leg_km, "leg_minutes": stop.leg_minutes,
            "window_start": _hhmm(stop.earliest), "window_end": _hhmm(stop.latest),
            "geo": routing.geo_url(stop.point, card.display_name),
        }


class UnplacedOut(Schema):
    visit: int
    customer: CustomerRef
    kind: str = Field(description="no_location, closed or no_time")
    reason: str = Field(description="Why, in the user's language")

    @staticmethod
    def of(left: routing.Unplaced) -> dict[str, Any]:
        card = left.visit.card
        return {"visit": left.visit.pk, "customer": {"id": card.pk, "kind": card.kind, "name": card.display_name},
                "kind": left.kind, "reason": left.reason}


class TotalsOut(Schema):
    km: float
    minutes: int = Field(description="On the road")


class SavingOut(Schema):
    minutes: int
    km: float
    percent: float = Field(description="Of the typed order's time on the road")


class StartOut(Schema):
    latitude: float
    longitude: float
    label: str
    leaves_at: str
    assumed: bool = Field(description="No start point recorded: the day starts at the first visit with a location at 08:30")


class UserRef(Schema):
    id: int
    name: str


class RouteOut(Schema):
    date: dt.date
    user: UserRef
    start: StartOut | None
    stops: list[StopOut]
    unplaced: list[UnplacedOut]
    planned: TotalsOut
    typed: TotalsOut = Field(description="The same visits in the order they were typed")
    saving: SavingOut
    typed_fits: bool = Field(description="False when the typed order would miss an opening hour or a window")
    ends_at: str | None
    navigation_url: str = Field(description="Opens the route in the phone's navigation app")

    @staticmethod
    def of(route: routing.Route) -> dict[str, Any]:
        start = None
        if route.start is not None:
            start = {"latitude": route.start.latitude, "longitude": route.start.longitude, "label": route.start_label,
                     "leaves_at": _hhmm(route.leaves_at), "assumed": route.assumed_start}
        return {
            "date": route.day,
            "user": {"id": route.owner.pk, "name": route.owner.get_username()},
            "start": start,
            "stops": [StopOut.of(s) for s in route.stops],
            "unplaced": [UnplacedOut.of(u) for u in route.unplaced],
            "planned": {"km": route.planned.km, "minutes": route.planned.minutes},
            "typed": {"km": route.typed.km, "minutes": route.typed.minutes},
            "saving": {"minutes": route.saving.minutes, "km": route.saving.km, "percent": route.saving.percent},
            "typed_fits": route.typed_fits,
            "ends_at": _hhmm(route.ends_at),
            "navigation_url": routing.navigation_url(route),
        }


@router.get("/routes/{date}", response=RouteOut,
            summary="The day's visits in the planned order, with times, distances and the saving against the typed order")
def day_route(request: AuthedHttpRequest, date: str, user: int | None = None) -> dict[str, Any]:
    """``date`` is YYYY-MM-DD; ``user`` (a manager's or administrator's) names one of their people."""
    day = routing.parse_day(date)
    owner = routing.route_owner(request.user, user)
    return RouteOut.of(routing.plan_route(request.user, owner, day))
