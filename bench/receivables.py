"""Receivables at scale: the account statement of a customer with 2,000 invoices, and the
collection matrix over 1,000,000 open invoices, for an admin, a manager and a rep.

    python -m bench.receivables [--people 1000000] [--invoices 1000000] [--reuse] [--samples 50]

Creates the people with the card bulk loader (no facts: they play no part here), then the
open invoices with plain ``executemany`` (one per person, spread over currencies, due dates
from 200 days overdue to 30 days ahead, amounts from 20 to 20,000), and one distributor with
2,000 invoices and 800 payments for the statement. Timings are of the selectors the API and
the pages call, and of the API answer through Django's test client (no network).
Targets: statement p95 ≤ 50 ms; matrix p95 ≤ 500 ms for an admin, ≤ 100 ms for a rep.
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

TARGETS = {"statement_p95_ms": 50, "matrix_admin_p95_ms": 500, "matrix_rep_p95_ms": 100}
CURRENCIES = ("EUR",) * 16 + ("USD",) * 3 + ("RON",)


def create_invoices(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.db import connection, transaction

    from rapport.cards.models import Card

    rng = random.Random(args.seed)
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC).isoformat()
    started = time.perf_counter()
    cards = list(Card.objects.filter(kind="person").order_by("id").values_list("id", "owner_id", "team_id")[: args.invoices])
    sql = (
        "INSERT INTO commerce_invoice (card_id, kind, external_id, currency, issued_on, due_on, amount, open_amount, is_open,"
        " cancelled, non_payment, non_payment_note, note, created_at, version, owner_id, team_id)"
        " VALUES (%s, 'invoice', '', %s, %s, %s, %s, %s, %s, %s, '', '', '', %s, 1, %s, %s)"
    )
    batch: list[tuple[Any, ...]] = []
    done = 0
    with connection.cursor() as cursor:
        for i in range(args.invoices):
            card_id, owner_id, team_id = cards[i % len(cards)]
            due = today - dt.timedelta(days=rng.randint(-30, 200))
            amount = Decimal(rng.choice((20, 80, 150, 400, 900, 1500, 3000, 8000, 20000))) + Decimal(rng.randint(0, 99)) / 100
            batch.append((card_id, rng.choice(CURRENCIES), (due - dt.timedelta(days=30)).isoformat(), due.isoformat(),
                          str(amount), str(amount), True, False, now, owner_id, team_id))
            if len(batch) == 20_000:
                with transaction.atomic():
                    cursor.executemany(sql, batch)
                done += len(batch)
                batch = []
                if done % 200_000 == 0:
                    print(f"  invoices: {done:,}", flush=True)
        if batch:
            with transaction.atomic():
                cursor.executemany(sql, batch)
            done += len(batch)
    return {"count": done, "seconds": round(time.perf_counter() - started, 2)}


def create_big_customer(args: argparse.Namespace, world: Any) -> int:
    """A distributor with 2,000 invoices over five years and 800 payments, some allocated."""
    from rapport.cards.services import create_organization
    from rapport.commerce.models import Invoice, Payment

    team, _market, reps, _manager = world.teams[0]
    org = create_organization(user=reps[0], data={"name": "Distribuidora Grande S.A.", "owner": reps[0].pk})
    rng = random.Random(args.seed + 1)
    start = dt.date.today() - dt.timedelta(days=5 * 365)
    invoices = []
    for i in range(args.statement_invoices):
        issued = start + dt.timedelta(days=i * 5 * 365 // args.statement_invoices)
        amount = Decimal(rng.randint(200, 9000))
        paid = issued < dt.date.today() - dt.timedelta(days=90)
        invoices.append(Invoice(card=org, currency="EUR", issued_on=issued, due_on=issued + dt.timedelta(days=30), amount=amount,
                                open_amount=Decimal(0) if paid else amount, is_open=not paid, external_id=f"BIG-{i:05d}",
                                owner_id=org.owner_id, team_id=org.team_id))
    Invoice.objects.bulk_create(invoices, batch_size=1000)
    Payment.objects.bulk_create([
        Payment(card=org, currency="EUR", received_on=start + dt.timedelta(days=i * 5 * 365 // 800 + 20),
                amount=Decimal(rng.randint(500, 20000)), unallocated=Decimal(0), external_id=f"BIG-P{i:04d}")
        for i in range(800)
    ], batch_size=1000)
    return org.pk


def policies(world: Any) -> None:
    from rapport.commerce.services import set_collection_policy

    admin = world.admin
    set_collection_policy(user=admin, team=None, currency="EUR", long_after_days=30, large_from="1000")
    set_collection_policy(user=admin, team=None, currency="USD", long_after_days=45, large_from="1500")
    set_collection_policy(user=admin, team=world.teams[1][0], currency="EUR", long_after_days=60, large_from="5000")


def measure(args: argparse.Namespace, world: Any, big_id: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from rapport.cards.models import Card
    from rapport.commerce import selectors

    big = Card.objects.get(pk=big_id)
    users = {"admin": world.admin, "manager": world.teams[0][3], "rep": world.teams[0][2][1]}
    figures: dict[str, Any] = {}
    samples = args.samples
    for _ in range(3):  # warm the page cache
        selectors.account_statement(big, currency="EUR")
    figures["statement_ms"] = common.percentiles([common.timed(lambda: selectors.account_statement(big, currency="EUR"))[0]
                                                  for _ in range(samples)])
    lines = len(selectors.account_statement(big, currency="EUR").lines)
    figures["statement_lines"] = lines
    for role, user in users.items():
        selectors.receivables_matrix(user)
        figures[f"matrix_{role}_ms"] = common.percentiles([common.timed(lambda: selectors.receivables_matrix(user))[0]
                                                         for _ in range(samples)])
        cells = selectors.receivables_matrix(user).cells
        figures[f"matrix_{role}_invoices"] = sum(c.count for c in cells.values())
    # The drill-down: the first page (200) of each cell of the matrix, for the admin and the rep.
    for role in ("admin", "rep"):
        for cell in ("short_small", "short_large", "long_small", "long_large"):
            figures[f"drill_{role}_{cell}_ms"] = common.percentiles([
                common.timed(lambda: selectors.cell_invoices(users[role], cell))[0] for _ in range(max(10, samples // 4))
            ])
    if connection.vendor == "sqlite":
        figures["floor"] = floor(samples)
    # The same answers as a client gets them (JSON through the API, in-process).
    from rapport.accounts.services import create_token

    for role in ("admin", "rep"):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users[role])}")
        client.get("/api/v1/reports/receivables")
        figures[f"api_matrix_{role}_ms"] = common.percentiles([
            common.timed(lambda: client.get("/api/v1/reports/receivables"))[0] for _ in range(max(10, samples // 2))
        ])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep'])}")
    url = f"/api/v1/organizations/{big_id}/account"
    assert client.get(url).status_code == 200
    figures["api_statement_ms"] = common.percentiles([common.timed(lambda: client.get(url))[0] for _ in range(max(10, samples // 2))])
    return figures


def floor(samples: int) -> dict[str, Any]:
    """What any query reading every open invoice costs here: the same rows through bare sqlite3
    (no Rapport, no Django), counted and summed, then grouped as the matrix groups them."""
    import sqlite3

    from django.db import connection

    bare = sqlite3.connect(f"file:{connection.settings_dict['NAME']}?mode=ro", uri=True)
    bare.execute("PRAGMA cache_size=-1048576")
    today = dt.date.today().isoformat()
    queries = {
        "count_and_sum_ms": "SELECT COUNT(*), SUM(open_amount) FROM commerce_invoice INDEXED BY invoice_open_amount"
                            " WHERE is_open AND kind = 'invoice'",
        "grouped_ms": "SELECT currency, due_on, team_id, COUNT(*), SUM(open_amount) FROM commerce_invoice"
                      f" WHERE is_open AND kind = 'invoice' AND issued_on <= '{today}' GROUP BY 1, 2, 3",
    }
    out = {}
    for key, sql in queries.items():
        bare.execute(sql).fetchall()
        out[key] = common.percentiles([common.timed(lambda: bare.execute(sql).fetchall())[0] for _ in range(samples)])
    bare.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=0)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--statement-invoices", type=int, default=2000)
    parser.add_argument("--facts-per-card", type=int, default=0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    name = f"receivables-{args.db}-{args.people}"
    common.setup(name, db=args.db, reuse=args.reuse)
    from django.db import connection

    from bench import cards as card_bench
    from rapport.cards.models import Card

    world = card_bench.build_world()
    figures: dict[str, Any] = {"people": args.people, "invoices": args.invoices}
    if not args.reuse:
        print(f"creating {args.people:,} people ...", flush=True)
        figures["create_people"] = card_bench.create(args, world)
        print(f"creating {args.invoices:,} open invoices ...", flush=True)
        figures["create_invoices"] = create_invoices(args, world)
        big_id = create_big_customer(args, world)
        policies(world)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor == "postgresql" else "ANALYZE commerce_invoice")
    else:
        big_id = Card.objects.get(display_name="Distribuidora Grande S.A.").pk
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
    print("measuring ...", flush=True)
    figures["measure"] = measure(args, world, big_id)
    m = figures["measure"]
    figures["verdict"] = {
        "statement_p95_ms": m["statement_ms"]["p95_ms"], "matrix_admin_p95_ms": m["matrix_admin_ms"]["p95_ms"],
        "matrix_manager_p95_ms": m["matrix_manager_ms"]["p95_ms"], "matrix_rep_p95_ms": m["matrix_rep_ms"]["p95_ms"],
        "matrix_admin_to_grouped_floor": round(m["matrix_admin_ms"]["p95_ms"] / m["floor"]["grouped_ms"]["p95_ms"], 2)
        if "floor" in m else None,
        "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
        "met": m["statement_ms"]["p95_ms"] <= TARGETS["statement_p95_ms"]
        and m["matrix_admin_ms"]["p95_ms"] <= TARGETS["matrix_admin_p95_ms"]
        and m["matrix_rep_ms"]["p95_ms"] <= TARGETS["matrix_rep_p95_ms"],
    }
    print(figures["verdict"], flush=True)
    path = common.write_results(name, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
