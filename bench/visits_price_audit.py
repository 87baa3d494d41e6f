"""Price audits at scale: the comparison of one product's prices across customers.

    python -m bench.visits_price_audit [--observations 1000000] [--products 2000] [--customers 20000]
                                       [--years 3] [--db sqlite|postgres] [--reuse] [--samples 200]
    python -m bench.visits_price_audit --observations 50000 --customers 2000   # a quick check

Creates the customers (organisations, bulk loaded without facts, spread over the benchmark's
teams), 2,000 products (60 % ours, priced on two EUR price lists one after the other with a
retail policy band, and USD and RON lists; 40 % competitors'), visits to the customers over
``--years`` years, and on each visit about ten price observations (plain ``executemany``):
products drawn with a mild skew (a few are audited far more often than most), 80 % in EUR,
retail prices around the list price with some below the minimum or above the maximum, a
purchase price on most.

Then ``rapport.visits.audits.price_comparison`` is timed for a rep, a manager and an admin over
random products (uniform) and random periods of one to twelve months, and over the most
audited product for a whole year (the worst case a user can ask for in one click).
Target: p95 ≤ 300 ms. Results: bench/results/visits_price_audit.json (other sizes:
visits_price_audit-<db>-<observations>.json).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import random
import time
from decimal import Decimal
from typing import Any

from bench import common

TARGETS = {"comparison_p95_ms": 300}
CURRENCIES = ("EUR",) * 8 + ("USD",) + ("RON",)
CATEGORIES = ("Lubricants", "Filters", "Brakes", "Batteries", "Tyres", "Lighting", "Care", "Tools")
BRANDS_OURS = ("Rapport", "Rapport Pro")
BRANDS_RIVAL = ("Castrolux", "Motul-X", "Valvo", "Boschen", "Generic")
PER_VISIT = 10


def create_catalog(args: argparse.Namespace) -> dict[str, Any]:
    """Products and price lists; our products priced with a retail band on every list."""
    from rapport.commerce.models import Price, PriceList, Product

    rng = random.Random(args.seed)
    today = dt.date.today()
    start = today - dt.timedelta(days=int(365 * args.years))
    products = []
    for i in range(args.products):
        ours = i % 5 < 3
        products.append(Product(sku=f"B{'O' if ours else 'C'}-{i:05d}", name=f"{'Our' if ours else 'Rival'} product {i}",
                                category=rng.choice(CATEGORIES), brand=rng.choice(BRANDS_OURS if ours else BRANDS_RIVAL),
                                is_ours=ours))
    Product.objects.bulk_create(products, batch_size=2000)
    products = list(Product.objects.order_by("id"))
    middle = start + (today - start) / 2
    lists = [
        PriceList.objects.create(name="EUR old", currency="EUR", valid_from=start, valid_until=middle),
        PriceList.objects.create(name="EUR new", currency="EUR", valid_from=middle + dt.timedelta(days=1)),
        PriceList.objects.create(name="USD", currency="USD", valid_from=start),
        PriceList.objects.create(name="RON", currency="RON", valid_from=start),
    ]
    base = {p.pk: Decimal(rng.randint(300, 12000)) / 100 for p in products}
    prices = []
    for price_list in lists:
        factor = {"EUR old": Decimal("0.95"), "EUR new": Decimal(1), "USD": Decimal("1.08"), "RON": Decimal("4.97")}[price_list.name]
        for p in products:
            if not p.is_ours:
                continue
            list_price = (base[p.pk] * factor).quantize(Decimal("0.01"))
            prices.append(Price(price_list=price_list, product=p, list_price=list_price,
                                purchase_price=(list_price * Decimal("0.9")).quantize(Decimal("0.01")),
                                min_retail=(list_price * Decimal("1.1")).quantize(Decimal("0.01")),
                                max_retail=(list_price * Decimal("1.45")).quantize(Decimal("0.01")),
                                recommended_retail=(list_price * Decimal("1.25")).quantize(Decimal("0.01"))))
    Price.objects.bulk_create(prices, batch_size=5000)
    return {"products": len(products), "prices": len(prices), "base": base, "start": start, "today": today}


def create_observations(args: argparse.Namespace, world: Any, catalog: dict[str, Any]) -> dict[str, Any]:
    """Visits and their price observations, with plain ``executemany`` in batches."""
    from django.db import connection, transaction
    from django.utils import timezone

    from rapport.cards.models import Card
    from rapport.commerce.models import Product
    from rapport.visits.models import Visit

    rng = random.Random(args.seed + 7)
    started = time.perf_counter()
    cards = list(Card.objects.filter(kind="organization").order_by("id").values_list("id", "owner_id", "team_id"))
    products = list(Product.objects.order_by("id").values_list("id", flat=True))
    # A mild skew: weight 1 / rank^0.6, so the most audited product is seen about 40 times as
    # often as the median one (flagships are counted on most visits, niche items rarely).
    weights = [1 / (k + 1) ** 0.6 for k in range(len(products))]
    order = products[:]
    rng.shuffle(order)
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    base = catalog["base"]
    start, today = catalog["start"], catalog["today"]
    days = (today - start).days
    visits_needed = args.observations // PER_VISIT
    now = timezone.now()
    visit_rows: list[Visit] = []
    for _ in range(visits_needed):
        card_id, owner_id, team_id = rng.choice(cards)
        day = start + dt.timedelta(days=rng.randrange(days))
        visit_rows.append(Visit(card_id=card_id, planned_on=day, owner_id=owner_id, team_id=team_id, status="done",
                                card_owner_id=owner_id or 0, card_team_id=team_id, created_at=now, updated_at=now))
    batch = 5000
    for i in range(0, len(visit_rows), batch):
        Visit.objects.bulk_create(visit_rows[i:i + batch])
    visits = list(Visit.objects.order_by("id").values_list("id", "card_id", "planned_on", "card_owner_id", "card_team_id"))
    sql = ("INSERT INTO visits_priceobservation (visit_id, card_id, product_id, observed_on, currency, purchase_price,"
           " retail_price, on_promotion, note, card_owner_id, card_team_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', %s, %s)")
    rows: list[tuple[Any, ...]] = []
    written = 0

    def flush() -> None:
        nonlocal written
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        written += len(rows)
        rows.clear()

    for visit_id, visit_card, day, card_owner, card_team in visits:
        chosen: set[int] = set()
        while len(chosen) < PER_VISIT:
            chosen.add(order[bisect.bisect_left(cumulative, rng.random() * total)])
        currency = rng.choice(CURRENCIES)
        factor = {"EUR": Decimal(1), "USD": Decimal("1.08"), "RON": Decimal("4.97")}[currency]
        for product_id in chosen:
            list_price = base[product_id] * factor
            retail = (list_price * Decimal(rng.uniform(1.0, 1.55))).quantize(Decimal("0.01"))
            purchase = (list_price * Decimal(rng.uniform(0.85, 0.98))).quantize(Decimal("0.01")) if rng.random() < 0.8 else None
            rows.append((visit_id, visit_card, product_id, day.isoformat(), currency, str(purchase) if purchase is not None else None,
                         str(retail), rng.random() < 0.08, card_owner, card_team))
        if len(rows) >= 20_000:
            flush()
            if written % 200_000 < 20_000:
                print(f"  observations: {written:,}", flush=True)
    if rows:
        flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"visits": len(visits), "observations": written, "seconds": round(time.perf_counter() - started, 2)}


def _series(fn: Any, cases: list[Any]) -> dict[str, Any]:
    """Wall-clock and CPU percentiles of ``fn(case)`` over the cases (after one warm-up call)."""
    fn(cases[0])
    wall, cpu = [], []
    for case in cases:
        started_cpu = time.process_time()
        wall.append(common.timed(lambda: fn(case))[0])
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {**common.percentiles(wall), "cpu": common.percentiles(cpu)}


def measure(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    import gc

    from django.db.models import Count

    from rapport.commerce.models import Product
    from rapport.visits import audits
    from rapport.visits.models import PriceObservation

    gc.collect()
    gc.freeze()
    rng = random.Random(args.seed + 1)
    team, _market, reps, manager = world.teams[0]
    users = {"rep": reps[0], "manager": manager, "admin": world.admin}
    products = list(Product.objects.order_by("id"))
    today = dt.date.today()
    first = today - dt.timedelta(days=int(365 * args.years))

    def random_case() -> tuple[Product, str, dt.date, dt.date]:
        length = rng.randint(30, 365)
        end = first + dt.timedelta(days=rng.randint(length, (today - first).days))
        return rng.choice(products), rng.choice(CURRENCIES), end - dt.timedelta(days=length), end

    cases = [random_case() for _ in range(args.samples)]
    top_id = (PriceObservation.objects.values("product").annotate(n=Count("id")).order_by("-n").values_list("product", flat=True).first())
    top = Product.objects.get(pk=top_id or 0)
    year_cases = [(top, "EUR", today - dt.timedelta(days=365 + k), today - dt.timedelta(days=k)) for k in range(min(args.samples, 50))]
    figures: dict[str, Any] = {"most_audited_product_observations": PriceObservation.objects.filter(product=top).count(),
                               "median_product_observations": _median_count()}
    for role, user in users.items():
        def run(case: Any, user: Any = user) -> Any:
            product, currency, start, end = case
            return audits.price_comparison(user, product, currency, start, end)

        figures[f"comparison_{role}_ms"] = _series(run, cases)
        figures[f"comparison_{role}_most_audited_year_ms"] = _series(run, year_cases)
        sample = run(year_cases[0])
        figures[f"comparison_{role}_most_audited_year_rows"] = {"observations": sample.observations, "customers": sample.customer_count}
    return figures


def _median_count() -> int:
    from django.db.models import Count

    from rapport.visits.models import PriceObservation

    counts = sorted(PriceObservation.objects.values("product").annotate(n=Count("id")).values_list("n", flat=True))
    return counts[len(counts) // 2] if counts else 0


def query_plan(world: Any) -> list[str]:
    """SQLite's plan of the comparison's aggregate for a rep: the covering index, no table."""
    from django.db import connection

    from rapport.commerce.models import Product
    from rapport.visits.selectors import visible_prices

    rep = world.teams[0][2][0]
    product = Product.objects.order_by("id").first()
    qs = visible_prices(rep).filter(product=product, currency="EUR", observed_on__gte="2025-01-01", observed_on__lte="2025-12-31")
    sql, params = qs.values_list("retail_price", "purchase_price", "card_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return [str(row[-1]) for row in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.visits_price_audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=512)
    parser.add_argument("--seed", type=int, default=47)
    args = parser.parse_args()
    # What bench.cards' loader reads: organisations only, without facts.
    args.organizations, args.people, args.facts_per_card, args.profile = args.customers, 0, 0, False
    name = f"visits_price_audit-{args.db}-{args.observations}"
    common.setup(name, db=args.db, reuse=args.reuse)
    results = "visits_price_audit" if (args.db, args.observations, args.customers) == ("sqlite", 1_000_000, 20_000) else name
    from django.db import connection

    from bench import cards as card_bench
    from rapport.visits.models import PriceObservation

    world = card_bench.build_world()
    figures: dict[str, Any] = {}
    if not (args.reuse and PriceObservation.objects.exists()):
        print(f"creating {args.customers:,} customers ...", flush=True)
        figures["create_customers"] = card_bench.create(args, world)
        print(f"creating {args.products:,} products and price lists ...", flush=True)
        catalog = create_catalog(args)
        figures["create_catalog"] = {k: v for k, v in catalog.items() if k in ("products", "prices")}
        print(f"creating {args.observations:,} price observations ...", flush=True)
        figures["create_observations"] = create_observations(args, world, catalog)
        print(figures["create_observations"], flush=True)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
        figures["query_plan_rep"] = query_plan(world)
    else:
        card_bench.settle(args.db)
    print("measuring ...", flush=True)
    figures["measure"] = m = measure(args, world)
    worst = max(m[f"comparison_{role}_ms"]["p95_ms"] for role in ("rep", "manager", "admin"))
    worst_top = max(m[f"comparison_{role}_most_audited_year_ms"]["p95_ms"] for role in ("rep", "manager", "admin"))
    figures["verdict"] = {
        **{f"comparison_{role}_p95_ms": m[f"comparison_{role}_ms"]["p95_ms"] for role in ("rep", "manager", "admin")},
        **{f"most_audited_year_{role}_p95_ms": m[f"comparison_{role}_most_audited_year_ms"]["p95_ms"]
           for role in ("rep", "manager", "admin")},
        "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
        "met": worst <= TARGETS["comparison_p95_ms"], "met_for_most_audited_product": worst_top <= TARGETS["comparison_p95_ms"],
    }
    print(figures["verdict"], flush=True)
    path = common.write_results(results, parameters={k: v for k, v in vars(args).items()}, figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
