"""The day's route: a rep's day of 25 visits with opening hours and time windows, planned by
``rapport.visits.routing.plan_route`` (reads, OR-Tools solve, schedule), as the route page,
the API and the command line call it.

    python -m bench.visits_route [--days 20] [--stops 25] [--customers 250] [--radius-km 60]

Creates a rep, a start point and ``--customers`` customers within ``--radius-km`` of it, with
opening hours as shops have them (mornings only, all day, afternoons, or not recorded; some
closed on Saturdays), then ``--days`` weekdays of ``--stops`` visits each: the customers
nearest a point of the territory (a day covers one area), typed in a random order, a fifth of
them with a window of their own. Each day is
planned once; reported are the whole plan and the solver alone, p50/p95 in ms, and the
saving against the typed order.
Target (from the issue): a route of 25 stops with time windows solved in ≤ 2 s.
Results: bench/results/visits_route.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import time
from typing import Any

from bench import common

TARGETS = {"plan_p95_ms": 2000}
START = (41.3874, 2.1686)  # Barcelona: any place works, distances are great-circle
HOURS = [  # opens, closes, weight
    ("08:00", "13:30", 15), ("09:00", "19:00", 45), ("08:30", "20:00", 10), ("14:00", "20:00", 10), ("", "", 20),
]
WINDOWS = [("09:00", "11:00"), ("10:00", "12:30"), ("15:00", "17:00"), ("16:00", "18:30")]


def _around(rng: random.Random, radius_km: float) -> tuple[float, float]:
    """A point uniformly spread over a disc of ``radius_km`` around the start."""
    r = radius_km * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    lat = START[0] + (r * math.cos(angle)) / 111.32
    lon = START[1] + (r * math.sin(angle)) / (111.32 * math.cos(math.radians(START[0])))
    return round(lat, 6), round(lon, 6)


def build(args: argparse.Namespace) -> tuple[Any, list[dt.date]]:
    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization
    from rapport.visits.services import create_visit, set_site, set_start_point

    rng = random.Random(args.seed)
    rep = create_user(username="bench_rep_route", role="rep", teams=["Route"], password="x", validate=False)
    set_start_point(user=rep, data={"label": "Office", "latitude": START[0], "longitude": START[1], "leaves_at": "07:30"})
    customers, located = [], {}
    for i in range(args.customers):
        card = create_organization(user=rep, data={"name": f"Distributor {i:03d}"})
        opens, closes, _ = rng.choices(HOURS, weights=[h[2] for h in HOURS])[0]
        lat, lon = _around(rng, args.radius_km)
        set_site(user=rep, card=card, data={"latitude": lat, "longitude": lon, "opens_at": opens, "closes_at": closes,
                                            "closed_weekdays": [5, 6] if rng.random() < 0.3 else [6]})
        customers.append(card)
        located[card.pk] = (lat, lon)
    days: list[dt.date] = []
    day = dt.date(2027, 3, 1)  # a Monday
    while len(days) < args.days:
        if day.weekday() < 5:
            days.append(day)
            # A day covers one part of the territory: the customers nearest a point of it,
            # typed in no particular order.
            centre = _around(rng, args.radius_km / 2)
            nearest = sorted(customers, key=lambda c: math.dist(centre, located[c.pk]))[:args.stops]
            for position, card in enumerate(rng.sample(nearest, args.stops)):
                data: dict[str, Any] = {"organization": card.pk, "date": day.isoformat(), "position": position,
                                        "duration_minutes": rng.choice((10, 15, 15, 20))}
                if rng.random() < 0.2:
                    data["window_start"], data["window_end"] = rng.choice(WINDOWS)
                create_visit(user=rep, data=data)
        day += dt.timedelta(days=1)
    return rep, days


def measure(rep: Any, days: list[dt.date]) -> dict[str, Any]:
    from rapport.visits import routing

    solve_ms: list[float] = []
    original = routing._solve

    def timed_solve(*a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            solve_ms.append((time.perf_counter() - start) * 1000)

    routing._solve = timed_solve
    plan_ms, cpu_ms, savings, placed, unplaced, fits = [], [], [], [], [], []
    reasons: dict[str, int] = {}
    try:
        for day in days:
            wall, cpu = time.perf_counter(), time.process_time()
            route = routing.plan_route(rep, rep, day)
            plan_ms.append((time.perf_counter() - wall) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            savings.append(route.saving.percent)
            placed.append(len(route.stops))
            unplaced.append(len(route.unplaced))
            fits.append(route.typed_fits)
            for left in route.unplaced:
                reasons[left.kind] = reasons.get(left.kind, 0) + 1
            print(f"{day}: {len(route.stops)} stops, {len(route.unplaced)} left out, {route.planned.km} km / "
                  f"{route.planned.minutes} min (typed {route.typed.km} km / {route.typed.minutes} min, "
                  f"typed fits: {route.typed_fits}), saving {route.saving.percent} %, {plan_ms[-1]:.0f} ms", flush=True)
    finally:
        routing._solve = original
    return {
        "plan_ms": common.percentiles(plan_ms), "plan_cpu_ms": common.percentiles(cpu_ms), "solve_ms": common.percentiles(solve_ms),
        "saving_percent": {"mean": round(statistics.fmean(savings), 1), "min": min(savings), "max": max(savings)},
        "stops_placed": {"mean": round(statistics.fmean(placed), 1), "min": min(placed)},
        "stops_left_out": {"mean": round(statistics.fmean(unplaced), 1), "max": max(unplaced), "why": reasons},
        "typed_order_fits": sum(fits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.visits_route", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=20, help="days planned (one sample each)")
    parser.add_argument("--stops", type=int, default=25, help="visits a day")
    parser.add_argument("--customers", type=int, default=250)
    parser.add_argument("--radius-km", type=float, default=60)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    common.setup("visits_route")
    rep, days = build(args)
    print(f"planning {len(days)} days of {args.stops} visits ...", flush=True)
    m = measure(rep, days)
    m["verdict"] = {"plan_p95_ms": m["plan_ms"]["p95_ms"], "solve_p95_ms": m["solve_ms"]["p95_ms"],
                    "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
                    "met": m["plan_ms"]["p95_ms"] <= TARGETS["plan_p95_ms"]}
    print(m["verdict"], flush=True)
    path = common.write_results("visits_route", parameters=vars(args), figures=m, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
