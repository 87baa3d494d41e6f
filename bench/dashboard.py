"""The analytics dashboard: a rep's own and a manager's team dashboard over a large data set.

    python -m bench.dashboard [--people 1000000] [--lines 10000000] [--db sqlite|postgres]
                              [--reuse [--add-activity]] [--create-only] [--samples 20]
                              [--roles rep,manager,admin] [--label NAME] [--split RUNS]

Creates the people with the card bulk loader and the orders as ``bench.analytics_scale`` does,
then new-customer calls, visits and promises for every rep, and times
``rapport.analytics.dashboard.build_dashboard`` for a rep, a manager and an admin (wall and
CPU time of this process, load average), the number of SQL queries each makes, and the same
dashboard through ``GET /analytics/`` with Django's test client.

Target (issue 15): a rep's dashboard p95 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import random
import time
from typing import Any

from bench import common

TARGETS = {"rep_dashboard_p95_ms": 300}
AS_OF = dt.date(2026, 6, 30)


def create_activity(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    """For every rep, over the year up to AS_OF: calls (three a working day, one in four to a card
    that had not ordered yet), a visit every other working day and a promise a week, on their own cards."""
    from django.db.models import Min
    from django.utils import timezone

    from rapport.activities.models import Activity, Participant
    from rapport.cards.models import Card
    from rapport.commerce.models import Order
    from rapport.visits.models import Promise, Visit

    rng = random.Random(args.seed + 1)
    started, cpu = time.perf_counter(), time.process_time()
    first_order = dict(Order.objects.values("card_id").annotate(f=Min("ordered_on")).order_by().values_list("card_id", "f"))
    days = [AS_OF - dt.timedelta(days=k) for k in range(365)]
    days = [d for d in days if d.weekday() < 5]
    counts = {"calls": 0, "visits": 0, "promises": 0}
    for team, _market, reps, _manager in world.teams:
        for rep in reps:
            cards = list(Card.objects.filter(owner=rep).order_by().values_list("id", flat=True)[:20_000])
            if not cards:
                continue
            # Cards by their first order day: a card called before that day is new business.
            by_first = sorted((first_order.get(c, AS_OF + dt.timedelta(days=1)), c) for c in cards)
            firsts = [f for f, _c in by_first]
            activities, targets = [], []
            for day in days:
                later = bisect.bisect_right(firsts, day)
                for n in range(3):
                    if n == 0 and later < len(by_first) and rng.random() < 0.75:
                        card = by_first[rng.randrange(later, len(by_first))][1]
                    else:
                        card = rng.choice(cards)
                    at = timezone.make_aware(dt.datetime.combine(day, dt.time(9 + n * 2)))
                    activities.append(Activity(kind="call", occurred_at=at, summary="Llamada", recorded_by=rep))
                    targets.append(card)
            made = Activity.objects.bulk_create(activities, batch_size=2000)
            Participant.objects.bulk_create([Participant(activity=a, card_id=c) for a, c in zip(made, targets)],
                                            batch_size=2000)
            counts["calls"] += len(made)
            visits = [Visit(card_id=rng.choice(cards), planned_on=day, owner=rep, team=team, card_owner_id=rep.id,
                            card_team_id=team.id, status="done" if day < AS_OF else "planned")
                      for day in days[::2]]
            Visit.objects.bulk_create(visits, batch_size=2000)
            counts["visits"] += len(visits)
            promises = []
            for day in days[::5]:
                kept = day - dt.timedelta(days=rng.randint(-3, 2)) if rng.random() < 0.7 else None
                promises.append(Promise(card_id=rng.choice(cards), owner=rep, by="us", text="Enviar oferta", due_on=day,
                                        kept_on=kept, card_owner_id=rep.id, card_team_id=team.id))
            Promise.objects.bulk_create(promises, batch_size=2000)
            counts["promises"] += len(promises)
    return {**counts, "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(time.process_time() - cpu, 1)}


def _sample(fn: Any) -> tuple[float, float, Any]:
    """Wall and CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def split(user_id: int, runs: int) -> dict[str, Any]:
    """Wall and CPU time of each report a rep's dashboard reads, called as ``build_dashboard``
    calls them (a fresh user object per run, as each request has)."""
    from rapport.accounts.models import User
    from rapport.analytics import dashboard, selectors

    year_start, month_start = AS_OF.replace(month=1, day=1), AS_OF.replace(day=1)
    reads = {
        "performance_by_month": lambda u: selectors.performance_report(
            u, start=year_start, end=AS_OF, dimension="month", rep=user_id, customers=False),
        "churn": lambda u: selectors.churn_report(u, as_of=AS_OF, rep=user_id),
        "rfm": lambda u: selectors.rfm_report(u, as_of=AS_OF, rep=user_id),
        "rep_performance": lambda u: selectors.reps_report(u, start=month_start, end=AS_OF, rep=user_id),
        "profitability_least": lambda u: selectors.profitability_report(
            u, start=selectors.year_before(AS_OF), end=AS_OF, rep=user_id, least=dashboard.LEAST_PROFITABLE),
    }
    figures: dict[str, Any] = {}
    for name, read in reads.items():
        walls, cpus = [], []
        for _ in range(runs):
            fresh = User.objects.get(pk=user_id)
            wall, cpu, _result = _sample(lambda: read(fresh))
            walls.append(wall)
            cpus.append(cpu)
        figures[name] = {"wall": common.percentiles(walls), "cpu": common.percentiles(cpus)}
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def measure(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from rapport.accounts.models import User
    from rapport.analytics import dashboard, engine

    team, _market, reps, manager = world.teams[0]
    people = {"rep": reps[0], "manager": manager, "admin": world.admin}
    figures: dict[str, Any] = {}
    t = time.perf_counter()
    engine.fingerprint()
    figures["fingerprint_ms"] = round((time.perf_counter() - t) * 1000, 1)
    for role, person in people.items():
        if role not in args.roles.split(","):
            continue
        samples = int(args.samples if role == "rep" else max(3, args.samples // 4))
        user = User.objects.get(pk=person.pk)
        wall0, cpu0, board = _sample(lambda: dashboard.build_dashboard(user, as_of=AS_OF))  # the first: snapshot, caches
        walls, cpus = [], []
        for _ in range(samples):
            fresh = User.objects.get(pk=person.pk)  # a request's user: no scope kept
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                wall, cpu, board = _sample(lambda: dashboard.build_dashboard(fresh, as_of=AS_OF))
            walls.append(wall)
            cpus.append(cpu)
        figures[role] = {
            "first_ms": round(wall0, 1), "first_cpu_ms": round(cpu0, 1), "wall": common.percentiles(walls),
            "cpu": common.percentiles(cpus), "queries": len(queries), "customers_scored": board.scored,
            "flagged": board.flagged, "reps": len(board.reps), "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        print(f"  {role}: {figures[role]}", flush=True)
        if role == "rep" and args.split:
            figures["rep_split"] = split(person.pk, args.split)
            print(f"  rep, by report: {figures['rep_split']}", flush=True)
    client = Client()
    client.force_login(reps[0])
    client.get(f"/analytics/?as_of={AS_OF}")
    walls, cpus = [], []
    for _ in range(args.samples):
        wall, cpu, response = _sample(lambda: client.get(f"/analytics/?as_of={AS_OF}"))
        assert response.status_code == 200, response.content[:300]
        walls.append(wall)
        cpus.append(cpu)
    figures["rep_page"] = {"wall": common.percentiles(walls), "cpu": common.percentiles(cpus),
                           "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(f"  rep page: {figures['rep_page']}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=0)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--create-only", action="store_true")
    parser.add_argument("--add-activity", action="store_true",
                        help="with --reuse: add the calls, visits and promises to an existing data set")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--roles", default="rep,manager,admin", help="whose dashboards to time, of rep,manager,admin")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--facts-per-card", type=int, default=0)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--split", type=int, default=0, help="time each report of a rep's dashboard this many times")
    parser.add_argument("--label", default="", help="results in bench/results/dashboard-<db>-<people>-<label>.json")
    args = parser.parse_args()
    name = f"dashboard-{args.db}-{args.people}"
    os.environ["RAPPORT_API_RATE"] = "1000000/m"
    common.setup(name, db=args.db, reuse=args.reuse)
    from django.conf import settings
    from django.db import connection

    from bench import analytics_scale
    from bench import cards as card_bench

    settings.RAPPORT_ANALYTICS_DIR = str(common.ROOT / "var" / "bench" / f"dashboard-{args.db}-{args.people}")
    world = card_bench.build_world()
    figures: dict[str, Any] = {"people": args.people, "lines": args.lines}
    if not args.reuse:
        started, cpu = time.perf_counter(), time.process_time()
        print(f"creating {args.people:,} people ...", flush=True)
        figures["create_people"] = card_bench.create(args, world)
        print(f"creating {args.lines:,} order lines ...", flush=True)
        figures["create_orders"] = analytics_scale.create_orders(args, world)
        print("creating calls, visits and promises ...", flush=True)
        figures["create_activity"] = create_activity(args, world)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        figures["create_seconds"] = {"wall": round(time.perf_counter() - started, 1),
                                     "cpu": round(time.process_time() - cpu, 1),
                                     "load_average": [round(x, 2) for x in os.getloadavg()]}
        print(figures["create_seconds"], flush=True)
    if args.reuse and args.add_activity:
        print("creating calls, visits and promises ...", flush=True)
        figures["create_activity"] = create_activity(args, world)
        print(figures["create_activity"], flush=True)
    if args.create_only:
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
    print("measuring ...", flush=True)
    figures["measure"] = m = measure(args, world)
    if "rep" in m:  # the target is a rep's
        figures["verdict"] = {"rep_p95_ms": m["rep"]["wall"]["p95_ms"], "rep_cpu_p95_ms": m["rep"]["cpu"]["p95_ms"],
                              "rep_queries": m["rep"]["queries"], "targets": TARGETS,
                              "load_average": [round(x, 2) for x in os.getloadavg()]}
        print(figures["verdict"], flush=True)
    path = common.write_results(f"{name}-{args.label}" if args.label else name, parameters=vars(args), figures=figures,
                                targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
