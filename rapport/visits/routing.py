"""The day's route: a rep's visits ordered to spend the least time on the road (and, weighing
less, waiting for customers to open), from where the day starts, each visit starting while the
customer is open and within the visit's own window, and the saving against the order the rep
typed.

Travel between two points is the great-circle distance times a road factor, driven at an
average speed (settings ``RAPPORT_ROUTE_ROAD_FACTOR``, default 1.3, and
``RAPPORT_ROUTE_SPEED_KMH``, default 40): no map service is called, so a plan costs nothing
and works offline. The order is solved by OR-Tools' vehicle routing solver with a time
dimension; a visit that cannot fit is dropped by the solver (a disjunction with a penalty) and
reported with the reason instead of failing the whole plan.

The route ends at the last visit: the way home is the same whatever the order of the day and
is not counted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from rapport.visits import selectors
from rapport.visits.models import Site, StartPoint, Visit

EARTH_RADIUS_KM = 6371.0088
DEFAULT_LEAVES_AT = dt.time(8, 30)
DAY_END = 24 * 3600  # seconds: the plan never runs past midnight
# Dropping a visit costs more than any day's driving, so the solver drops one only when it
# cannot fit at all.
DROP_PENALTY = 10 * DAY_END
# What the order minimises: driving, and waiting for a customer to open at a quarter of its
# weight (an hour of waiting weighs as much as 15 minutes of driving). Without the waiting,
# the least driving may park the rep for hours outside a shop that opens at two and push the
# rest of the day into the evening.
DRIVING_WEIGHT = 3  # per second of driving, on top of the day's length (driving, visits, waiting)
MAX_SOLVER_SECONDS = 1.0  # the 25-visit day must be planned in under 2 s, reads included
NAVIGATION_WAYPOINTS = 9  # Google Maps' link takes at most 9 waypoints besides origin and destination


# --- travel -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def road_factor() -> float:
    return float(getattr(settings, "RAPPORT_ROUTE_ROAD_FACTOR", 1.3))


def speed_kmh() -> float:
    return float(getattr(settings, "RAPPORT_ROUTE_SPEED_KMH", 40))


def haversine_km(a: Point, b: Point) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def road_km(a: Point, b: Point) -> float:
    return haversine_km(a, b) * road_factor()


def travel_seconds(km: float) -> int:
    return round(km / speed_kmh() * 3600)


# --- the result ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One visit of the planned route, with when the rep gets there and leaves."""

    number: int  # 1, 2, … in the planned order
    visit: Visit
    point: Point
    address: str
    arrival: dt.time
    start: dt.time  # of the visit: the arrival, or later when the customer opens later
    departure: dt.time
    waiting_minutes: int
    leg_km: float  # from the previous stop (or the start)
    leg_minutes: int
    earliest: dt.time | None  # the window the visit had to start in
    latest: dt.time | None


@dataclass(frozen=True)
class Unplaced:
    """A visit left out of the route, and why in the user's words (``reason``)."""

    visit: Visit
    kind: str  # "no_location", "closed" or "no_time": for programs; people read ``reason``
    reason: str


@dataclass(frozen=True)
class Totals:
    km: float
    minutes: int  # on the road


@dataclass(frozen=True)
class Saving:
    minutes: int
    km: float
    percent: float  # of the typed order's time on the road


@dataclass(frozen=True)
class Route:
    """The planned day of one rep: stops in order, what the typed order would take, the saving."""

    owner: Any
    day: dt.date
    start: Point | None
    start_label: str
    leaves_at: dt.time
    # No start point recorded: the day starts at the first visit with a location, at 08:30.
    assumed_start: bool
    stops: list[Stop] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    planned: Totals = Totals(0.0, 0)
    typed: Totals = Totals(0.0, 0)
    saving: Saving = Saving(0, 0.0, 0.0)
    # False when the typed order misses an opening hour or a window: the comparison is then
    # with an order that would not have worked.
    typed_fits: bool = True
    ends_at: dt.time | None = None
    typed_ends_at: dt.time | None = None  # when the typed order fits

    @property
    def ends_earlier_minutes(self) -> int:
        """How much earlier the day ends than in the typed order (0 when it does not fit)."""
        if self.ends_at is None or self.typed_ends_at is None:
            return 0
        return (_seconds(self.typed_ends_at) - _seconds(self.ends_at)) // 60

    @property
    def visits(self) -> list[Visit]:
        return [s.visit for s in self.stops] + [u.visit for u in self.unplaced]


# --- windows ------------------------------------------------------------------------------------------


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _clock(seconds: int) -> dt.time:
    seconds = max(0, min(DAY_END - 60, seconds))
    return dt.time(seconds // 3600, seconds % 3600 // 60)


def _hhmm(t: dt.time | None) -> str:
    return t.strftime("%H:%M") if t else ""


def start_window(visit: Visit, site: Site | None) -> tuple[int, int] | None:
    """When the visit may start, in seconds after midnight: within its own window, once the
    customer opens, and early enough for the whole visit before the customer closes. None
    when nothing is left."""
    duration = visit.duration_minutes * 60
    earliest, latest = 0, DAY_END - duration
    if visit.window_start:
        earliest = max(earliest, _seconds(visit.window_start))
    if visit.window_end:
        latest = min(latest, _seconds(visit.window_end))
    if site is not None and site.opens_at:
        earliest = max(earliest, _seconds(site.opens_at))
    if site is not None and site.closes_at:
        latest = min(latest, _seconds(site.closes_at) - duration)
    return (earliest, latest) if earliest <= latest else None


def _no_time_reason(visit: Visit, site: Site | None) -> str:
    hours = ""
    if site is not None and (site.opens_at or site.closes_at):
        hours = _("open %(opens)s–%(closes)s") % {"opens": _hhmm(site.opens_at) or "00:00", "closes": _hhmm(site.closes_at) or "24:00"}
    if visit.window_start or visit.window_end:
        window = _("%(start)s–%(end)s") % {"start": _hhmm(visit.window_start) or "…", "end": _hhmm(visit.window_end) or "…"}
        if hours:
            return _("The visit's time (%(window)s) does not fit the opening hours (%(hours)s) with %(minutes)s minutes for the visit.") % {
                "window": window, "hours": hours, "minutes": visit.duration_minutes}
        return _("A %(minutes)s-minute visit cannot start within %(window)s.") % {"minutes": visit.duration_minutes, "window": window}
    return _("A %(minutes)s-minute visit does not fit the opening hours (%(hours)s).") % {"minutes": visit.duration_minutes, "hours": hours}


# --- solving ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    visit: Visit
    point: Point
    address: str
    earliest: int
    latest: int


def solver_time_limit_ms(visits: int) -> int:
    """Guided local search runs until its limit: the search grows with the square of the
    visits (a 10-visit day gets 260 ms), and the cap keeps a full day well under the 2 s target."""
    return int(min(1000 * MAX_SOLVER_SECONDS, 100 + 1.6 * visits * visits))


def _solve(leaves_at: int, nodes: list[_Node], travel: list[list[int]], *, first: bool = False,
           time_limit_ms: int | None = None) -> list[int] | None:
    """The visiting order (indexes of ``nodes``) that spends the least time on the road, found
    by OR-Tools; visits it had to drop are missing from the list. None if it found nothing.
    ``first``: the day starts at the first node's place, so that visit comes first."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(nodes)
    end = n + 1  # a free place to end the route: no way home is counted
    manager = pywrapcp.RoutingIndexManager(n + 2, 1, [0], [end])
    routing = pywrapcp.RoutingModel(manager)
    service = [0] + [node.visit.duration_minutes * 60 for node in nodes] + [0]

    def drive(from_index: int, to_index: int) -> int:
        a, b = manager.IndexToNode(from_index), manager.IndexToNode(to_index)
        return 0 if b == end or a == end else travel[a][b]

    def elapsed(from_index: int, to_index: int) -> int:
        return service[manager.IndexToNode(from_index)] + drive(from_index, to_index)

    def driving_cost(from_index: int, to_index: int) -> int:
        return DRIVING_WEIGHT * drive(from_index, to_index)

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(driving_cost))
    time_index = routing.RegisterTransitCallback(elapsed)
    routing.AddDimension(time_index, DAY_END, DAY_END, False, "time")
    clock = routing.GetDimensionOrDie("time")
    clock.CumulVar(routing.Start(0)).SetRange(leaves_at, leaves_at)
    clock.SetSpanCostCoefficientForAllVehicles(1)
    for i, node in enumerate(nodes, start=1):
        index = manager.NodeToIndex(i)
        clock.CumulVar(index).SetRange(node.earliest, node.latest)
        routing.AddDisjunction([index], DROP_PENALTY)
    if first:
        routing.NextVar(routing.Start(0)).SetValues([manager.NodeToIndex(1)])

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(min(solver_time_limit_ms(n), time_limit_ms or DAY_END * 1000))
    solution = routing.SolveWithParameters(parameters)
    if solution is None:
        return None
    order = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index) - 1)
        index = solution.Value(routing.NextVar(index))
    return order


@dataclass(frozen=True)
class _Schedule:
    fits: bool
    seconds: int  # on the road
    metres: int
    stops: list[tuple[int, int, int, int, int, int]]  # node, arrival, start, departure, leg metres, leg seconds
    ends: int  # the last visit's departure

    @property
    def cost(self) -> int:
        """What the solver minimises (the day's length counted from the start)."""
        return DRIVING_WEIGHT * self.seconds + self.ends

def _schedule(order: list[int], leaves_at: int, nodes: list[_Node], travel: list[list[int]], metres: list[list[int]]) -> _Schedule:
    """Times along an order, each visit starting as early as it may (node 0 is the start)."""
    now, here, fits, seconds, total_metres = leaves_at, 0, True, 0, 0
    rows = []
    for k in order:
        node = nodes[k]
        leg, leg_metres = travel[here][k + 1], metres[here][k + 1]
        arrival = now + leg
        start = max(arrival, node.earliest)
        fits = fits and start <= node.latest
        now = start + node.visit.duration_minutes * 60
        rows.append((k, arrival, start, now, leg_metres, leg))
        seconds += leg
        total_metres += leg_metres
        here = k + 1
    return _Schedule(fits, seconds, total_metres, rows, now)


def _addresses(cards: list[int]) -> dict[int, str]:
    from rapport.cards.models import Address

    found: dict[int, str] = {}
    for a in Address.objects.filter(card_id__in=cards).order_by("card_id", "position", "id"):
        if a.card_id not in found:
            found[a.card_id] = ", ".join(p for p in (a.street, " ".join(x for x in (a.postal_code, a.city) if x), a.region) if p)
    return found


def plan_route(user: Any, owner: Any, day: dt.date, *, time_limit_ms: int | None = None) -> Route:
    """The planned route of ``owner``'s visits on ``day`` as ``user`` sees them.
    ``time_limit_ms`` shortens the solver's search (a week planned at once)."""
    visits = selectors.day_visits(user, owner, day)
    sites = {s.card_id: s for s in Site.objects.filter(card_id__in=[v.card_id for v in visits])}
    addresses = _addresses([v.card_id for v in visits])
    start_point = StartPoint.objects.filter(user=owner).first()
    unplaced: list[Unplaced] = []
    nodes: list[_Node] = []
    for visit in visits:
        site = sites.get(visit.card_id)
        if site is None or site.latitude is None or site.longitude is None:
            unplaced.append(Unplaced(visit, "no_location", _(
                "No location yet: enter the customer's coordinates, or check in there once with the phone.")))
            continue
        if day.weekday() in (site.closed_weekdays or []):
            unplaced.append(Unplaced(visit, "closed", _("The customer is closed on %(weekday)s.") % {
                "weekday": WEEKDAYS[day.weekday()]}))
            continue
        window = start_window(visit, site)
        if window is None:
            unplaced.append(Unplaced(visit, "no_time", _no_time_reason(visit, site)))
            continue
        nodes.append(_Node(visit, Point(float(site.latitude), float(site.longitude)), addresses.get(visit.card_id, ""), *window))

    if start_point is not None:
        start: Point | None = Point(float(start_point.latitude), float(start_point.longitude))
        leaves_at, label, assumed = start_point.leaves_at, start_point.label, False
    else:
        start = nodes[0].point if nodes else None
        leaves_at, label, assumed = DEFAULT_LEAVES_AT, (nodes[0].visit.card.display_name if nodes else ""), True
    route = Route(owner=owner, day=day, start=start, start_label=label, leaves_at=leaves_at, assumed_start=assumed, unplaced=unplaced)
    if not nodes or start is None:
        return route

    points = [start] + [n.point for n in nodes]
    km = [[road_km(a, b) for b in points] for a in points]
    metres = [[round(d * 1000) for d in row] for row in km]
    travel = [[travel_seconds(d) for d in row] for row in km]
    begin = _seconds(leaves_at)
    order = _solve(begin, nodes, travel, first=assumed and nodes[0].latest >= begin, time_limit_ms=time_limit_ms) or []
    planned = _schedule(order, begin, nodes, travel, metres)
    # The solver starts from its own first solution: when the rep's order fits and costs less
    # (or keeps a visit the solver dropped), it stands, so the plan is never worse than it.
    everything = _schedule(list(range(len(nodes))), begin, nodes, travel, metres)
    if everything.fits and (len(order) < len(nodes) or everything.cost < planned.cost or not planned.fits):
        order, planned = list(range(len(nodes))), everything
    # Nodes keep the typed order: the typed order of the visits on the route.
    typed = _schedule(sorted(order), begin, nodes, travel, metres)
    for k in sorted(set(range(len(nodes))) - set(order)):
        node = nodes[k]
        if node.earliest == 0 and node.latest == DAY_END - node.visit.duration_minutes * 60:
            reason = _("It does not fit in the day with the other visits.")
        else:
            reason = _("It does not fit in the day with the other visits: it could not start within its time (%(window)s).") % {
                "window": f"{_hhmm(_clock(node.earliest))}–{_hhmm(_clock(node.latest))}"}
        unplaced.append(Unplaced(node.visit, "no_time", reason))
    stops = [
        Stop(number=i, visit=nodes[k].visit, point=nodes[k].point, address=nodes[k].address, arrival=_clock(arrival),
             start=_clock(begin_at), departure=_clock(leave), waiting_minutes=round((begin_at - arrival) / 60),
             leg_km=round(leg_metres / 1000, 1), leg_minutes=round(leg / 60),
             earliest=_clock(nodes[k].earliest) if nodes[k].earliest else None,
             latest=_clock(nodes[k].latest) if nodes[k].latest < DAY_END - nodes[k].visit.duration_minutes * 60 else None)
        for i, (k, arrival, begin_at, leave, leg_metres, leg) in enumerate(planned.stops, start=1)
    ]
    saved_seconds = typed.seconds - planned.seconds
    return Route(
        owner=owner, day=day, start=start, start_label=label, leaves_at=leaves_at, assumed_start=assumed,
        stops=stops, unplaced=sorted(unplaced, key=lambda u: (u.visit.position, u.visit.pk)),
        planned=Totals(round(planned.metres / 1000, 1), round(planned.seconds / 60)),
        typed=Totals(round(typed.metres / 1000, 1), round(typed.seconds / 60)),
        saving=Saving(round(saved_seconds / 60), round((typed.metres - planned.metres) / 1000, 1),
                      round(100 * saved_seconds / typed.seconds, 1) if typed.seconds else 0.0),
        typed_fits=typed.fits, ends_at=stops[-1].departure if stops else None,
        typed_ends_at=_clock(typed.ends) if typed.fits and stops else None,
    )


# --- links --------------------------------------------------------------------------------------------


def _coord(p: Point) -> str:
    return f"{Decimal(p.latitude).quantize(Decimal('0.000001')).normalize():f},{Decimal(p.longitude).quantize(Decimal('0.000001')).normalize():f}"


def navigation_url(route: Route) -> str:
    """A link that opens the route in the phone's navigation app (Google Maps' universal
    directions link: the app when installed, else the browser). Empty without stops."""
    if not route.stops or route.start is None:
        return ""
    stops = [s.point for s in route.stops]
    origin = route.start if not route.assumed_start else stops[0]
    via = stops[:-1] if not route.assumed_start else stops[1:-1]
    params = {"api": "1", "origin": _coord(origin), "destination": _coord(stops[-1]), "travelmode": "driving"}
    if via:
        params["waypoints"] = "|".join(_coord(p) for p in via[:NAVIGATION_WAYPOINTS])
    return "https://www.google.com/maps/dir/?" + urlencode(params, safe=",|")


def geo_url(point: Point, label: str = "") -> str:
    """A ``geo:`` link (RFC 5870): the phone offers its map apps for one place."""
    coord = _coord(point)
    return f"geo:{coord}?{urlencode({'q': f'{coord}({label})' if label else coord}, safe=',()')}"


def local_datetime(day: dt.date, t: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, t), timezone.get_current_timezone())


# --- whose day --------------------------------------------------------------------------------------


def parse_day(raw: Any) -> dt.date:
    """A day as YYYY-MM-DD, from a URL, a query or the command line."""
    from rapport.core.errors import ValidationError

    text = "" if raw is None else str(raw).strip()
    try:
        if len(text) != 10:  # fromisoformat would also take 20270315 and week dates
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError.single("date", _("Expected a date such as 2027-03-15.")) from None


def route_owner(user: Any, raw_id: Any = None) -> Any:
    """Whose day is planned: the user's own, or (``raw_id``) one of the people a manager
    manages, anyone's for an administrator or analyst. Anyone else answers NotFound, exactly
    like a user who does not exist."""
    from rapport.accounts.models import User
    from rapport.core.errors import NotFound, ValidationError
    from rapport.core.visibility import scope_for
    from rapport.visits.services import parse_id

    if raw_id is None or raw_id == "":
        return user
    try:
        owner_id = parse_id("user", raw_id)
    except ValidationError:
        raise NotFound("user") from None
    if owner_id == user.pk:
        return user
    scope = scope_for(user)
    if not (scope.sees_everything or owner_id in scope.managed_user_ids):
        raise NotFound("user")
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise NotFound("user")
    return owner
