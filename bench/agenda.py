"""The agenda at scale: a rep's Today page, and the day's reminder run for every user.

    python -m bench.agenda [--people 1000000] [--rep-cards 2000] [--years 5] [--reuse] [--samples 50]

Creates the people with the card bulk loader (tiers from the demo's mix, no facts), then with
plain bulk inserts: an address with the market's country on every card, a date of birth on
``--birthdays`` of the people (a third by default), about ``--activities-per-card`` logged
activities per card over the years, and for one rep (``bench_today_rep``) exactly
``--rep-cards`` customers with ``--years`` of history: activities, done and open tasks,
promises, open invoices and deals. Then:

- the Today page of that rep through Django's test client (HTML, signed in), the
  ``/api/v1/agenda/today`` answer (every line) and the same cut like the page
  (``?overdue_limit=30``): p50/p95 wall and CPU time per request over ``--samples`` requests,
  with the load average seen (``--skip-remind``: only these, written to ``…-today.json``);
- ``rapport agenda remind`` for everyone: the first run (every keep-in-touch clock built from
  all activities ever logged) and the next day's run (only the activities logged since).

Targets (issue 16): Today p95 ≤ 100 ms with 2,000 cards and 5 years of history; the day's
reminders for all users ≤ 60 s at 1,000,000 people.
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

TARGETS = {"today_p95_ms": 100, "remind_seconds": 60}


def _bulk(model: Any, rows: list[Any]) -> None:
    model.objects.bulk_create(rows, batch_size=5000)


def add_addresses_and_birthdays(args: argparse.Namespace, world: Any, rng: random.Random) -> dict[str, Any]:
    from rapport.cards.models import Address, Card
    from rapport.catalog import selectors as catalog

    started = time.perf_counter()
    region_of = {team.id: market.region for team, market, *_ in world.teams}
    item = catalog.items()["birth_date"]
    source = catalog.sources()["customer_stated"]
    now = dt.datetime.now(dt.UTC)
    addresses: list[Any] = []
    facts: list[Any] = []
    births = 0
    rows = Card.objects.filter(kind="person").values_list("id", "team_id", "owner_id", "sort_name").iterator(chunk_size=20_000)
    for card_id, team_id, owner_id, sort_name in rows:
        addresses.append(Address(card_id=card_id, kind="office", city="", country=region_of.get(team_id, "ES")))
        if rng.random() < args.birthdays:
            born = dt.date(rng.randint(1950, 2000), 1, 1) + dt.timedelta(days=rng.randint(0, 365))
            facts.append((card_id, owner_id, team_id, sort_name, born.isoformat()))
        if len(addresses) >= 20_000:
            _bulk(Address, addresses)
            addresses = []
        if len(facts) >= 5_000:
            births += _store_birthdays(facts, item, source, world.admin, now)
            facts = []
    _bulk(Address, addresses)
    births += _store_birthdays(facts, item, source, world.admin, now)
    return {"addresses": Address.objects.count(), "birthdays": births, "seconds": round(time.perf_counter() - started, 1)}


def _store_birthdays(rows: list[tuple[Any, ...]], item: Any, source: Any, admin: Any, now: dt.datetime) -> int:
    from rapport.cards.models import CurrentValue, Fact

    made = Fact.objects.bulk_create([Fact(card_id=c, item=item, value=v, value_text=v, source=source, recorded_by=admin, observed_at=now)
                                     for c, _o, _t, _s, v in rows], batch_size=5000)
    CurrentValue.objects.bulk_create([
        CurrentValue(card_id=c, item=item, fact=f, value_text=v, kind="person", sort_name=s, owner_id=o, team_id=t)
        for (c, o, t, s, v), f in zip(rows, made)], batch_size=5000)
    return len(rows)


def add_activities(groups: list[tuple[list[int], float]], years: int, user_id: int, rng: random.Random) -> int:
    """Activities spread over the years, each with one participant card from one of the groups
    (cards, activities per card), bulk inserted in the order they happened, as a live system
    logs them: the activity ids follow the time they were recorded."""
    from django.db import connection

    from rapport.activities.models import Activity, Participant

    now = dt.datetime.now(dt.UTC)
    span = years * 365 * 86400
    plan = [(now - dt.timedelta(seconds=rng.randint(0, span)), g) for g, (ids, per_card) in enumerate(groups)
            for _ in range(int(len(ids) * per_card))]
    plan.sort(key=lambda pair: pair[0])
    kinds = ("call", "visit", "email", "meeting", "message")
    done = 0
    for start in range(0, len(plan), 20_000):
        part = plan[start:start + 20_000]
        made = Activity.objects.bulk_create([Activity(kind=rng.choice(kinds), occurred_at=at, summary="Bench", recorded_by_id=user_id,
                                                      recorded_at=at) for at, _g in part], batch_size=5000)
        if made and made[0].pk is None:  # a backend that does not return ids (not SQLite 3.35+ or PostgreSQL)
            raise SystemExit("bulk_create returned no ids")
        Participant.objects.bulk_create([Participant(activity_id=a.pk, card_id=rng.choice(groups[g][0])) for a, (_at, g) in zip(made, part)],
                                        batch_size=5000)
        done += len(part)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE activities_participant")
    return done


def build_rep(args: argparse.Namespace, world: Any, rng: random.Random) -> dict[str, Any]:
    """One rep with exactly ``--rep-cards`` customers and ``--years`` of tasks, promises,
    invoices and deals (their activities come with everyone's, in ``add_activities``)."""
    from django.utils import timezone

    from rapport.accounts.services import create_user
    from rapport.agenda.models import Task
    from rapport.cards.models import Card, CurrentValue
    from rapport.commerce.models import Invoice
    from rapport.deals.models import Deal
    from rapport.visits.models import Promise

    team, market, reps, _manager = world.teams[0]
    rep = create_user(username="bench_today_rep", role="rep", teams=[team.name], password="x", validate=False)
    ids = list(Card.objects.filter(team=team).exclude(owner=rep).order_by("id").values_list("id", flat=True)[:args.rep_cards])
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        Card.objects.filter(pk__in=part).update(owner=rep)
        CurrentValue.objects.filter(card_id__in=part).update(owner_id=rep.pk)
    started = time.perf_counter()
    today = timezone.localdate()
    tasks = []
    for n in range(args.years * 365 * 4):  # four follow-ups a day, done, over the years
        due = today - dt.timedelta(days=rng.randint(1, args.years * 365))
        tasks.append(Task(owner=rep, card_id=rng.choice(ids), title=f"Follow-up {n}", due_on=due,
                          done_at=timezone.make_aware(dt.datetime.combine(due, dt.time(17)))))
    for n in range(60):  # what is open now: some overdue, some today, most in the next days
        tasks.append(Task(owner=rep, card_id=rng.choice(ids), title=f"Open follow-up {n}", due_on=today + dt.timedelta(days=rng.randint(-10, 7))))
    _bulk(Task, tasks)
    promises = [Promise(card_id=c, owner=rep, by=rng.choice(("us", "them")), text="Send the samples",
                        due_on=today + dt.timedelta(days=rng.randint(-400, 20)), card_owner_id=rep.pk, card_team_id=team.pk,
                        kept_on=None if rng.random() < 0.05 else today - dt.timedelta(days=rng.randint(1, 400)))
                for c in rng.sample(ids, min(len(ids), 1000))]
    _bulk(Promise, promises)
    invoices = []
    for c in rng.sample(ids, min(len(ids), 1500)):
        issued = today - dt.timedelta(days=rng.randint(0, args.years * 365))
        is_open = rng.random() < 0.1
        amount = Decimal(rng.randint(100, 20000))
        invoices.append(Invoice(card_id=c, currency=market.currency, issued_on=issued, due_on=issued + dt.timedelta(days=30),
                                amount=amount, open_amount=amount if is_open else Decimal(0), is_open=is_open,
                                owner_id=rep.pk, team_id=team.pk))
    _bulk(Invoice, invoices)
    deals = [Deal(card_id=c, name=f"Deal {i}", currency=market.currency, owner=rep, team=team, card_owner_id=rep.pk,
                  card_team_id=team.pk, status="open" if rng.random() < 0.3 else "won",
                  expected_close=today + dt.timedelta(days=rng.randint(-60, 90)))
             for i, c in enumerate(rng.sample(ids, min(len(ids), 400)))]
    _bulk(Deal, deals)
    return {"rep": rep.username, "card_ids": ids, "cards": len(ids), "tasks": len(tasks), "promises": len(promises),
            "invoices": len(invoices), "deals": len(deals), "seconds": round(time.perf_counter() - started, 1)}


def measure_today(samples: int) -> dict[str, Any]:
    """p50/p95 wall time and CPU time (this process) per request of the rep's Today page, of
    ``/api/v1/agenda/today`` (every line) and of the same answer cut like the page
    (``overdue_limit=30``), interleaved so that each sees the same machine load."""
    from django.test import Client

    from rapport.accounts.models import User
    from rapport.agenda.views import OVERDUE_SHOWN

    rep = User.objects.get(username="bench_today_rep")
    client = Client()
    client.force_login(rep)
    urls = {"page": "/today/", "api": "/api/v1/agenda/today", "api_as_page": f"/api/v1/agenda/today?overdue_limit={OVERDUE_SHOWN}"}
    for url in urls.values():  # warm the caches
        for _ in range(3):
            assert client.get(url).status_code == 200
    wall: dict[str, list[float]] = {k: [] for k in urls}
    cpu: dict[str, list[float]] = {k: [] for k in urls}
    loads = []
    for _ in range(samples):
        loads.append(os.getloadavg()[0])
        for key, url in urls.items():
            started = time.process_time()
            ms, response = common.timed(lambda url=url: client.get(url))
            cpu[key].append((time.process_time() - started) * 1000)
            assert response.status_code == 200, response.content[:200]
            wall[key].append(ms)
    body = client.get(urls["api"]).json()
    cut = client.get(urls["api_as_page"]).json()
    html = client.get(urls["page"]).content.decode()
    return {
        **{f"{key}_ms": common.percentiles(wall[key]) for key in urls},
        **{f"{key}_cpu_ms": common.percentiles(cpu[key]) for key in urls},
        "load_average": {"min": round(min(loads), 2), "max": round(max(loads), 2)},
        "items": {k: len(body[k]) for k in ("overdue", "due_today", "upcoming")} | {"overdue_total": body["overdue_total"]},
        "items_as_page": {k: len(cut[k]) for k in ("overdue", "due_today", "upcoming")} | {"overdue_total": cut["overdue_total"]},
        "page_lines": html.count('<li class="agenda-item'),
    }


def measure_remind(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from rapport.agenda import reminders
    from rapport.agenda.models import Task

    today = timezone.localdate()
    figures: dict[str, Any] = {}
    for label, day in (("first_run", today), ("same_day_again", today), ("next_day", today + dt.timedelta(days=1))):
        load = os.getloadavg()[0]
        cpu = time.process_time()
        started = time.perf_counter()
        counts = reminders.generate(as_of=day)
        figures[label] = {"seconds": round(time.perf_counter() - started, 2), "cpu_seconds": round(time.process_time() - cpu, 2),
                          "load_before": round(load, 2), "counts": counts}
        print(f"  remind {label}: {figures[label]}", flush=True)
    figures["open_reminders"] = Task.objects.open().made().count()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=0)
    parser.add_argument("--rep-cards", type=int, default=2000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--birthdays", type=float, default=0.33, help="share of people with a date of birth")
    parser.add_argument("--activities-per-card", type=float, default=1.0, help="activities over the years, all customers")
    parser.add_argument("--facts-per-card", type=int, default=0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--skip-remind", action="store_true", help="time only Today (the reminder runs take a minute at full size)")
    args = parser.parse_args()
    name = f"agenda-{args.db}-{args.people}"
    common.setup(name, db=args.db, reuse=args.reuse)
    from django.db import connection

    from bench import cards as card_bench
    from rapport.cards.models import Card

    rng = random.Random(args.seed)
    world = card_bench.build_world()
    figures: dict[str, Any] = {"people": args.people}
    if not args.reuse:
        print(f"creating {args.people:,} people ...", flush=True)
        figures["create_people"] = card_bench.create(args, world)
        print("addresses and birthdays ...", flush=True)
        figures["addresses_birthdays"] = add_addresses_and_birthdays(args, world, rng)
        print("the rep's history ...", flush=True)
        figures["rep"] = build_rep(args, world, rng)
        rep_ids = figures["rep"].pop("card_ids")
        print("activities ...", flush=True)
        started = time.perf_counter()
        ids = list(Card.objects.values_list("id", flat=True))
        # Everyone's, and the rep's customers a call or a visit every other week for the years asked.
        count = add_activities([(ids, args.activities_per_card), (rep_ids, args.years * 26)], args.years, world.admin.pk, rng)
        figures["activities"] = {"count": count, "seconds": round(time.perf_counter() - started, 1)}
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
    if not args.skip_remind:
        print("reminders for everyone ...", flush=True)
        figures["remind"] = measure_remind(args)
    print("the rep's Today ...", flush=True)
    figures["today"] = measure_today(args.samples)
    today = figures["today"]
    figures["verdict"] = {
        "today_page_p95_ms": today["page_ms"]["p95_ms"], "today_page_cpu_p95_ms": today["page_cpu_ms"]["p95_ms"],
        "today_api_p95_ms": today["api_ms"]["p95_ms"], "today_api_as_page_p95_ms": today["api_as_page_ms"]["p95_ms"],
        "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
    }
    met = today["page_ms"]["p95_ms"] <= TARGETS["today_p95_ms"]
    if "remind" in figures:
        first, daily = figures["remind"]["first_run"]["seconds"], figures["remind"]["next_day"]["seconds"]
        figures["verdict"] |= {"remind_first_run_seconds": first, "remind_next_day_seconds": daily}
        met = met and max(first, daily) <= TARGETS["remind_seconds"]
    figures["verdict"]["met"] = met
    print(figures["verdict"], flush=True)
    # A run timing only Today keeps its own file, so the reminder figures of a full run stay.
    path = common.write_results(f"{name}-today" if args.skip_remind else name, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
