"""Segments at scale: live member counts and pages of saved segments, and ``rapport segments refresh``.

    python -m bench.segments [--people 1000000] [--facts-per-card 2] [--reuse] [--samples 100]

Targets (from the issue): with 1M people on SQLite a segment of up to 5 conditions counts its
members in ≤ 200 ms (p95) and pages them in ≤ 100 ms (p95); the refresh of tiers and
dimensions for all cards takes ≤ 60 s. The people come from ``bench.cards`` (bulk loading,
five markets, ten teams); the benchmark then spreads prospecting methods and referrers over
them and registers an order-evidence provider with revenue and order dates for a fifth of
the cards, as an orders app would. Results: bench/results/segments-<db>-<people>.json.

Segment shapes, each measured for a rep, a manager and an admin (count, then one page at a
random depth below 10,000, read from the previous page's last card as the UI and API do): ``five_columns`` and ``four_columns_and_a_dimension`` are
narrowed to a team; the ``broad_*`` shapes are not, so they hold everything the user sees
that matches (a single stage; two tiers; five wide columns; four and a dimension) — the
worst case. Every figure has wall and CPU time and the load average seen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from typing import Any

from bench import common

TARGETS = {"count_p95_ms": 200, "page_p95_ms": 100, "refresh_s": 60}


class BenchOrders:
    """Order evidence for a fifth of the cards, derived from the card id (no storage needed)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.today = dt.date.today()

    def _has(self, card_id: int) -> bool:
        return (card_id * 2654435761 + self.seed) % 5 == 0

    def order_dates(self, card_ids: list[int]) -> dict[int, list[dt.date]]:
        out = {}
        for c in card_ids:
            if self._has(c):
                n = 1 + (c * 7) % 12
                out[c] = [self.today - dt.timedelta(days=20 + ((c + i * 37) % 700)) for i in range(n)]
        return out

    def revenue(self, card_ids: list[int]) -> dict[int, float]:
        return {c: float((c * 7919) % 100_000) for c in card_ids if self._has(c)}


def spread_prospecting(seed: int) -> None:
    """Gives every card a prospecting method and one card in twenty a referrer, in a few statements."""
    from django.db import connection

    from rapport.catalog.models import InformationSource

    methods = list(InformationSource.objects.filter(group="method").order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cases = " ".join(f"WHEN {i} THEN {m}" for i, m in enumerate(methods))
        cursor.execute(f"UPDATE cards_card SET found_by_id = CASE ((id * 31 + {seed}) % {len(methods)}) {cases} END")
        cursor.execute("UPDATE cards_card SET referred_by_id = id - 17 WHERE id % 20 = 0 AND id > 17")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    import gc

    from rapport.segments import selectors, services

    gc.collect()
    gc.freeze()
    rng = random.Random(args.seed + 3)
    team, _market, reps, manager = world.teams[0]
    users = {"rep": reps[0], "manager": manager, "admin": world.admin}
    method_keys = ["referral_chain", "phone_prospecting", "meetings_events", "inbound_web", "agent", "directories_documents"]
    stages = ["suspect", "prospect", "target", "customer", "regular", "dormant"]

    def five_conditions(role: str) -> list[dict[str, Any]]:
        team_ids = [team.id] if role == "rep" else list(manager.managed_teams.values_list("id", flat=True)) if role == "manager" else [
            rng.choice(world.teams)[0].id
        ]
        since = (dt.date.today() - dt.timedelta(days=rng.randint(30, 400))).isoformat()
        return [
            {"field": "stage", "value": rng.sample(stages, 2)},
            {"field": "tier", "value": rng.sample(["A", "B", "C"], 2)},
            {"field": "team", "value": team_ids},
            {"field": "method", "value": rng.sample(method_keys, 3)},
            {"field": "created", "value": {"from": since}},
        ]

    def with_dimension(role: str) -> list[dict[str, Any]]:
        conds = five_conditions(role)[:4]
        return [*conds, {"field": rng.choice(["priority", "buying", "likely"]), "value": rng.random() < 0.5}]

    # Broad segments: no team, so their members are everything the user sees that matches —
    # 100,000s of cards for an admin at 1M people. The worst case for counts and pages.
    def broad_stage(role: str) -> list[dict[str, Any]]:
        return [{"field": "stage", "value": [rng.choice(["suspect", "prospect", "customer"])]}]

    def broad_tiers(role: str) -> list[dict[str, Any]]:
        return [{"field": "tier", "value": rng.sample(["A", "B", "C", ""], 2)}]

    def broad_five(role: str) -> list[dict[str, Any]]:
        since = (dt.date.today() - dt.timedelta(days=rng.randint(400, 2000))).isoformat()
        return [
            {"field": "stage", "value": rng.sample(stages, 4)},
            {"field": "tier", "value": rng.sample(["A", "B", "C", ""], 3)},
            {"field": "method", "value": rng.sample(method_keys, 5)},
            {"field": "created", "value": {"from": since}},
            {"field": "referred", "value": False},
        ]

    def broad_four_and_a_dimension(role: str) -> list[dict[str, Any]]:
        return [*broad_five(role)[:4], {"field": rng.choice(["likely", "buying", "priority"]), "value": True}]

    shapes = (
        ("five_columns", five_conditions), ("four_columns_and_a_dimension", with_dimension),
        ("broad_stage", broad_stage), ("broad_tiers", broad_tiers), ("broad_five_columns", broad_five),
        ("broad_four_columns_and_a_dimension", broad_four_and_a_dimension),
    )
    wanted = {name for name in args.shapes.split(",") if name}
    figures: dict[str, Any] = {}
    for shape, build in shapes:
        if wanted and shape not in wanted:
            continue
        for role, user in users.items():
            counts, pages, count_cpu, page_cpu, sizes = [], [], [], [], []
            load_before = os.getloadavg()
            for i in range(args.samples + 5):
                conds = build(role)
                segment = services.create_segment(user=user, data={"name": f"bench {shape} {role} {i}", "kind": "person", "conditions": conds})
                user = type(user).objects.get(pk=user.pk)  # a fresh request: no cached scope
                cpu_start, start = time.process_time(), time.perf_counter()
                n, _exact = selectors.count(user, segment.kind, segment.conditions)
                cpu_counted, counted = time.process_time(), time.perf_counter()
                # A page at a random depth, reached as the UI and the API reach it: from the
                # previous page's last card (found here, untimed, by offset).
                page = rng.randint(0, max(0, min(n, 10_000) - 1) // 50)
                after = None
                if page:
                    before_page = selectors.members(user, segment, offset=page * 50 - 1, limit=1)
                    after = before_page[0].pk if before_page else None
                user = type(user).objects.get(pk=user.pk)
                cpu_mid, mid = time.process_time(), time.perf_counter()
                selectors.member_page(user, segment, after=after, limit=50, known_count=(n, _exact))
                cpu_end, end = time.process_time(), time.perf_counter()
                if i >= 5:  # the first few warm caches and query plans
                    counts.append((counted - start) * 1000)
                    pages.append((end - mid) * 1000)
                    count_cpu.append((cpu_counted - cpu_start) * 1000)
                    page_cpu.append((cpu_end - cpu_mid) * 1000)
                    sizes.append(n)
                segment.delete()
            key = f"{shape}/{role}"
            figures[key] = {
                "count_ms": common.percentiles(counts), "page_ms": common.percentiles(pages),
                "count_cpu_ms": common.percentiles(count_cpu), "page_cpu_ms": common.percentiles(page_cpu),
                "members_median": sorted(sizes)[len(sizes) // 2], "members_max": max(sizes),
                "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
            }
            f = figures[key]
            print(f"  {key}: count p50 {f['count_ms']['p50_ms']} p95 {f['count_ms']['p95_ms']} ms (cpu p95 {f['count_cpu_ms']['p95_ms']})"
                  f"  page p50 {f['page_ms']['p50_ms']} p95 {f['page_ms']['p95_ms']} ms (cpu p95 {f['page_cpu_ms']['p95_ms']})"
                  f"  ~{f['members_median']:,} members (max {f['members_max']:,})  load {f['load_average'][3]}", flush=True)
    return figures


def refresh(args: argparse.Namespace) -> dict[str, Any]:
    from rapport.funnel import rules
    from rapport.segments import services

    from django.db import connection

    provider = BenchOrders(args.seed)
    rules.register_order_evidence(provider)
    figures: dict[str, Any] = {}
    try:
        # The first refresh re-tiers every valued card; later ones change only what moved.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cards_card SET tier = ''")
        for run in ("first", "again"):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = services.refresh()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            figures[run] = {
                "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "load_average": [round(x, 2) for x in os.getloadavg()],
                "cards": result.cards, "valued": result.valued, "tiers": result.tiers,
            }
            print(f"  refresh ({run}): {seconds:.1f} s (CPU {cpu:.1f} s, load {os.getloadavg()[0]:.1f}) for {result.cards:,} cards"
                  f" ({result.valued:,} valued, tiers {result.tiers})", flush=True)
    finally:
        rules.unregister_order_evidence(provider)
    figures["seconds"] = max(figures["first"]["seconds"], figures["again"]["seconds"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=0)
    parser.add_argument("--facts-per-card", type=int, default=2)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=100, help="per segment shape and user")
    parser.add_argument("--shapes", default="", help="comma-separated segment shapes to measure (default: all)")
    parser.add_argument("--skip-refresh", action="store_true", help="with --reuse: measure the segments only")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    name = f"segments-{args.db}-{args.people}"
    common.setup(name, db=args.db, reuse=args.reuse)
    from bench import cards as card_bench

    world = card_bench.build_world()
    figures: dict[str, Any] = {"people": args.people, "organizations": args.organizations}
    if not args.reuse:
        print(f"creating {args.people:,} people ...", flush=True)
        figures["create"] = card_bench.create(args, world)
        spread_prospecting(args.seed)
    if args.skip_refresh and args.reuse:
        figures["refresh"] = {"seconds": 0.0, "skipped": True}
    else:
        print("refresh (tiers and dimensions) ...", flush=True)
        figures["refresh"] = refresh(args)
    print("segments ...", flush=True)
    figures["segments"] = measure(args, world)
    worst_count = max((f["count_ms"]["p95_ms"] for f in figures["segments"].values()), default=0.0)
    worst_page = max((f["page_ms"]["p95_ms"] for f in figures["segments"].values()), default=0.0)
    by_shape: dict[str, dict[str, float]] = {}
    for key, f in figures["segments"].items():
        shape = by_shape.setdefault(key.split("/")[0], {"count_p95_ms": 0.0, "page_p95_ms": 0.0})
        shape["count_p95_ms"] = max(shape["count_p95_ms"], f["count_ms"]["p95_ms"])
        shape["page_p95_ms"] = max(shape["page_p95_ms"], f["page_ms"]["p95_ms"])
    figures["verdict"] = {
        "count_p95_ms": worst_count, "page_p95_ms": worst_page, "refresh_s": figures["refresh"]["seconds"],
        "by_shape": by_shape, "load_average": [round(x, 2) for x in os.getloadavg()],
        "targets": TARGETS,
        "met": worst_count <= TARGETS["count_p95_ms"] and worst_page <= TARGETS["page_p95_ms"]
        and figures["refresh"]["seconds"] <= TARGETS["refresh_s"],
    }
    print(figures["verdict"], flush=True)
    path = common.write_results(name, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
