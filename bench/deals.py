"""Deals at scale: a rep's board, a manager's team board, and the forecast and pipeline
reports for an admin, over 300,000 deals on 1,000,000 people.

    python -m bench.deals [--people 1000000] [--deals 300000] [--reuse] [--samples 50]
    python -m bench.deals --people 20000 --deals 6000          # a quick check that it works

Creates the people with the card bulk loader (no facts: they play no part here), then the
deals and their step moves with plain ``executemany``: about 60 % open spread over the first
five steps, 22 % won (in follow-up service), 18 % lost with a reason; three currencies;
expected close dates over ±12 months (a few without one); each deal's moves from its creation
to its current step (a few skip a step, a few go back one). Deals are worked by the reps of
the card's team; one rep who joined team 1 recently works a few hundred, so their board holds
fewer than 500 open deals. The boards are timed through the board selector the page calls, and as whole pages through
Django's test client.
Targets: rep board p95 ≤ 100 ms; team board p95 ≤ 200 ms; forecast and pipeline for an admin
p95 ≤ 300 ms each. Results: bench/results/deals.json (other sizes: deals-<db>-<deals>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from decimal import Decimal
from typing import Any

from bench import common

TARGETS = {"rep_board_p95_ms": 100, "team_board_p95_ms": 200, "forecast_admin_p95_ms": 300, "pipeline_admin_p95_ms": 300}
CURRENCIES = ("EUR",) * 14 + ("USD",) * 4 + ("RON",) * 2
OPEN_STEPS = {"analyse": 30, "build_trust": 24, "discover_needs": 19, "present_value": 15, "win_commitment": 12}
LOST_STEPS = {"analyse": 20, "build_trust": 25, "discover_needs": 25, "present_value": 18, "win_commitment": 12}
LOST_REASONS = {"price": 30, "competitor_relationship": 20, "product_fit": 12, "no_budget": 14, "no_decision": 12,
                "timing": 6, "lost_contact": 4, "other": 2}
WON_REASONS = {"value": 40, "relationship": 30, "price": 15, "service": 10, "other": 5}
AMOUNTS = (800, 1500, 3000, 6000, 12000, 25000, 60000, 150000)
TOPICS = ("Annual supply", "Fleet renewal", "Store fit-out", "Spare parts contract", "Service agreement",
          "New product line", "Pilot order", "Framework agreement", "Expansion", "Replacement")
NEWCOMER = "bench_rep_newcomer"
NEWCOMER_DEALS = 650


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _newcomer(world: Any) -> Any:
    from rapport.accounts.models import User
    from rapport.accounts.services import create_user

    team = world.teams[0][0]
    return User.objects.filter(username=NEWCOMER).first() or create_user(
        username=NEWCOMER, role="rep", teams=[team.name], password="x", validate=False
    )


def _path(rng: random.Random, last: str) -> list[str]:
    """The steps a deal went through to reach ``last``: from the first step (most deals) or a
    later one, sometimes skipping a step or going back one and forward again."""
    from rapport.deals.models import STEP_ORDER

    end = STEP_ORDER.index(last)
    first = 0 if rng.random() < 0.85 else min(end, rng.choice((1, 2)))
    path = [STEP_ORDER[first]]
    k = first
    while k < end:
        k += 2 if (k + 2 <= end and rng.random() < 0.05) else 1
        path.append(STEP_ORDER[k])
        if 0 < k < end and rng.random() < 0.04:  # back one step, then on again
            path += [STEP_ORDER[k - 1], STEP_ORDER[k]]
    return path


def create_deals(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.db import connection, transaction

    from rapport.cards.models import Card
    from rapport.deals.models import DEFAULT_PROBABILITY, STEP_ORDER

    rng = random.Random(args.seed)
    started = time.perf_counter()
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    cards = list(Card.objects.filter(kind="person").order_by("id").values_list("id", "owner_id", "team_id"))
    reps_of = {team.id: [r.id for r in reps] for team, _m, reps, _mgr in world.teams}
    newcomer = _newcomer(world)
    team0 = world.teams[0][0].id
    team0_cards = [c for c in cards if c[2] == team0]
    deal_sql = (
        "INSERT INTO deals_deal (id, card_id, name, amount, currency, expected_close, probability, weighted, step,"
        " step_entered_at, buying_stage, status, closed_at, close_reason, close_note, closed_by_id, followed_up_at,"
        " order_id, description, owner_id, team_id, card_owner_id, card_team_id, created_by_id, created_at, updated_at,"
        " version, steps_reached) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s, '', %s, %s, NULL, '', %s, %s,"
        " %s, %s, %s, %s, %s, 1, %s)"
    )
    move_sql = (
        "INSERT INTO deals_stepmove (deal_id, from_step, to_step, reason, override_reason, missing, seconds_in_previous,"
        " moved_by_id, moved_at) VALUES (%s, %s, %s, '', '', '[]', %s, %s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM deals_deal")
        next_id = cursor.fetchone()[0] + 1
    deals: list[tuple[Any, ...]] = []
    moves: list[tuple[Any, ...]] = []
    counts = {"open": 0, "won": 0, "lost": 0, "moves": 0}

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(deal_sql, deals)
            cursor.executemany(move_sql, moves)
        counts["moves"] += len(moves)
        deals.clear()
        moves.clear()

    for i in range(args.deals):
        deal_id = next_id + i
        if i % (args.deals // NEWCOMER_DEALS or 1) == 0 and team0_cards:  # the newcomer's few deals, spread out
            card_id, card_owner, card_team = rng.choice(team0_cards)
            owner = newcomer.id
        else:
            card_id, card_owner, card_team = rng.choice(cards)
            team_reps = reps_of.get(card_team) or [card_owner]
            owner = card_owner if rng.random() < 0.9 else rng.choice(team_reps)
        roll = rng.random()
        status = "open" if roll < 0.6 else "won" if roll < 0.82 else "lost"
        counts[status] += 1
        step = (_weighted(rng, OPEN_STEPS) if status == "open" else "follow_up" if status == "won"
                else _weighted(rng, LOST_STEPS))
        path = _path(rng, step)
        created = now - dt.timedelta(days=rng.uniform(5, 720))
        end = now if status == "open" else created + (now - created) * rng.uniform(0.3, 1.0)
        # Time in each step: random shares of the deal's life so far (the last one goes on).
        shares = [rng.expovariate(1.0) for _ in path]
        scale = (end - created).total_seconds() / sum(shares)
        at = created
        previous: str = ""
        entered = created
        for j, to_step in enumerate(path):
            if j:
                at = at + dt.timedelta(seconds=int(shares[j - 1] * scale))
            seconds = int((at - entered).total_seconds()) if previous else None
            moves.append((deal_id, previous, to_step, seconds, owner, str(at)))
            previous, entered = to_step, at
        amount = Decimal(rng.choice(AMOUNTS)) * Decimal(rng.randint(50, 150)) / 100
        amount = amount.quantize(Decimal("0.01"))
        probability = rng.choice((10, 25, 50, 75, 90)) if rng.random() < 0.2 else None
        effective = 100 if status == "won" else 0 if status == "lost" else (probability or DEFAULT_PROBABILITY[step])
        weighted = (amount * effective / 100).quantize(Decimal("0.01"))
        if status == "open":
            expected = None if rng.random() < 0.05 else today + dt.timedelta(days=rng.randint(-365, 365))
        else:
            expected = (end.date() + dt.timedelta(days=rng.randint(-30, 30)))
        closed_at = str(end) if status != "open" else None
        reason = (_weighted(rng, LOST_REASONS) if status == "lost" else
                  _weighted(rng, WON_REASONS) if status == "won" and rng.random() < 0.7 else "")
        followed = str(end + dt.timedelta(days=60)) if status == "won" and end < now - dt.timedelta(days=60) else None
        deals.append((
            deal_id, card_id, f"{rng.choice(TOPICS)} {deal_id}", str(amount), rng.choice(CURRENCIES),
            expected.isoformat() if expected else None, probability, str(weighted), step, str(entered), status,
            closed_at, reason, owner if status != "open" else None, followed, owner, card_team, card_owner or 0,
            card_team, owner, str(created), str(end), sum({1 << STEP_ORDER.index(s) for s in path}),
        ))
        if len(deals) == 10_000:
            flush()
            if (i + 1) % 100_000 == 0:
                print(f"  deals: {i + 1:,}", flush=True)
    if deals:
        flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE deals_deal")
        cursor.execute("ANALYZE deals_stepmove")
    return {**counts, "deals": args.deals, "seconds": round(time.perf_counter() - started, 2)}


# --- the boards, through the board selector the page calls -----------------------------------------


def rep_board(user: Any, rep_id: int) -> int:
    """A rep's kanban board: their open deals by step, soonest expected close first; the cards drawn."""
    from rapport.deals.selectors import board

    return sum(len(column.deals) for column in board(user, owner_id=rep_id))


def team_board(user: Any, team_id: int) -> int:
    """A manager's team board: each step column's count and total and its first 200 deals."""
    from rapport.deals.selectors import board

    return sum(len(column.deals) for column in board(user, team_id=team_id))


def board_page(client: Any, query: str) -> None:
    response = client.get(f"/deals/?{query}")
    assert response.status_code == 200, response.status_code


def query_plans(users: dict[str, Any], rep_id: int, team_id: int) -> dict[str, list[str]]:
    from django.db import connection

    from rapport.deals.selectors import BOARD_COLUMN_LIMIT, board_base, column_q

    def column(user: Any, **narrow: Any) -> Any:
        base = board_base(user, **narrow)
        return base.filter(column_q("analyse")).order_by("expected_close", "id")[:BOARD_COLUMN_LIMIT]

    querysets = {
        "rep_board_column": column(users["rep"], owner_id=rep_id, team_id=None),
        "team_board_column": column(users["manager"], owner_id=None, team_id=team_id),
    }
    plans: dict[str, list[str]] = {}
    for key, qs in querysets.items():
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plans[key] = [row[-1] for row in cursor.fetchall()]
    return plans


def _series(fn: Any, n: int) -> dict[str, Any]:
    """Wall-clock percentiles, and the CPU time of this process for the same calls: on a shared
    machine the CPU time is what a call costs, the wall time adds what others took from it."""
    fn()  # warm the page cache
    wall, cpu = [], []
    for _ in range(n):
        started_cpu = time.process_time()
        wall.append(common.timed(fn)[0])
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {**common.percentiles(wall), "cpu": common.percentiles(cpu)}


def measure_reports(args: argparse.Namespace, world: Any, users: dict[str, Any]) -> dict[str, Any]:
    from rapport.deals import reports

    team = world.teams[0][0]
    figures: dict[str, Any] = {}
    for role in ("admin", "manager", "rep"):
        user = users[role]
        figures[f"forecast_{role}_ms"] = _series(lambda: reports.forecast(user), args.samples)
        figures[f"pipeline_{role}_ms"] = _series(lambda: reports.pipeline(user), args.samples)
    figures["forecast_admin_team_ms"] = _series(lambda: reports.forecast(world.admin, team_id=team.id), args.samples)
    year_ago = dt.date.today() - dt.timedelta(days=365)
    figures["pipeline_admin_last_year_ms"] = _series(lambda: reports.pipeline(world.admin, since=year_ago), args.samples)
    return figures


def measure(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.db import connection

    from rapport.deals.models import Deal

    team, _market, reps, manager = world.teams[0]
    newcomer = _newcomer(world)
    busy = reps[1]
    users = {"admin": world.admin, "manager": manager, "rep": newcomer}
    samples = args.samples
    figures: dict[str, Any] = {
        "open_deals": {
            "newcomer_rep": Deal.objects.filter(owner=newcomer, status="open").count(),
            "busy_rep": Deal.objects.filter(owner=busy, status="open").count(),
            "team": Deal.objects.filter(team=team, status="open").count(),
            "all": Deal.objects.filter(status="open").count(),
        },
    }
    figures["rep_board_ms"] = _series(lambda: rep_board(newcomer, newcomer.id), samples)
    figures["rep_board_rows"] = rep_board(newcomer, newcomer.id)
    busy_user = type(busy).objects.get(pk=busy.pk)
    figures["busy_rep_board_ms"] = _series(lambda: rep_board(busy_user, busy.id), samples)
    figures["busy_rep_board_rows"] = rep_board(busy_user, busy.id)
    figures["team_board_ms"] = _series(lambda: team_board(manager, team.id), samples)
    figures["team_board_rows"] = team_board(manager, team.id)
    # The whole page as the browser gets it (Django's test client: no network, no server).
    from django.test import Client

    rep_client, manager_client = Client(), Client()
    rep_client.force_login(newcomer)
    manager_client.force_login(manager)
    figures["rep_board_page_ms"] = _series(lambda: board_page(rep_client, f"owner={newcomer.id}"), samples)
    figures["team_board_page_ms"] = _series(lambda: board_page(manager_client, f"team={team.id}"), samples)
    figures.update(measure_reports(args, world, users))
    if connection.vendor == "sqlite":
        figures["query_plans"] = query_plans(users, newcomer.id, team.id)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.deals", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=0)
    parser.add_argument("--deals", type=int, default=300_000)
    parser.add_argument("--facts-per-card", type=int, default=0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    name = f"deals-{args.db}-{args.deals}"
    common.setup(name, db=args.db, reuse=args.reuse)
    # The full size on SQLite is the reference run: bench/results/deals.json.
    results = "deals" if (args.db, args.people, args.deals) == ("sqlite", 1_000_000, 300_000) else name
    from django.db import connection

    from bench import cards as card_bench
    from rapport.deals.models import Deal

    world = card_bench.build_world()
    figures: dict[str, Any] = {"people": args.people, "deals": args.deals}
    if not (args.reuse and Deal.objects.exists()):
        print(f"creating {args.people:,} people ...", flush=True)
        figures["create_people"] = card_bench.create(args, world)
        print(f"creating {args.deals:,} deals ...", flush=True)
        figures["create_deals"] = create_deals(args, world)
        print(figures["create_deals"], flush=True)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
    else:
        card_bench.settle(args.db)
    print("measuring ...", flush=True)
    figures["measure"] = m = measure(args, world)
    figures["verdict"] = {
        "rep_board_p95_ms": m["rep_board_ms"]["p95_ms"], "team_board_p95_ms": m["team_board_ms"]["p95_ms"],
        "forecast_admin_p95_ms": m["forecast_admin_ms"]["p95_ms"], "pipeline_admin_p95_ms": m["pipeline_admin_ms"]["p95_ms"],
        "forecast_admin_cpu_p95_ms": m["forecast_admin_ms"]["cpu"]["p95_ms"],
        "pipeline_admin_cpu_p95_ms": m["pipeline_admin_ms"]["cpu"]["p95_ms"],
        "rep_board_page_p95_ms": m["rep_board_page_ms"]["p95_ms"], "team_board_page_p95_ms": m["team_board_page_ms"]["p95_ms"],
        "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
        "met": m["rep_board_ms"]["p95_ms"] <= TARGETS["rep_board_p95_ms"]
        and m["team_board_ms"]["p95_ms"] <= TARGETS["team_board_p95_ms"]
        and m["forecast_admin_ms"]["p95_ms"] <= TARGETS["forecast_admin_p95_ms"]
        and m["pipeline_admin_ms"]["p95_ms"] <= TARGETS["pipeline_admin_p95_ms"],
    }
    print(figures["verdict"], flush=True)
    for key, plan in m.get("query_plans", {}).items():
        print(f"{key}: {' | '.join(plan)}", flush=True)
    path = common.write_results(results, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
