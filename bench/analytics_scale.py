"""Analytics at scale: the churn and RFM reports over 10,000,000 order lines of 1,000,000 customers.

    python -m bench.analytics_scale [--people 1000000] [--lines 10000000] [--db sqlite|postgres]
                                    [--reuse] [--samples 10]

Creates the people with the card bulk loader (no facts), 2,000 products, then orders of about
four lines each with plain ``executemany`` (customers buy at their own rhythm, from weekly to
twice a year, over five years; one in ten orders is in USD, with dated rates). Then, through
the selectors the API and the pages call (``churn_report`` and ``rfm_report`` plus the first
page of 50 rows and the row count, as ``GET /api/v1/reports/churn`` reads them):

* the admin's reports: the first one builds the analytics snapshot (timed apart), the next
  ``--samples`` are timed with the database unchanged;
* the same computation written directly in DuckDB, over the same rows in DuckDB tables of its
  own (no Django, no fingerprint, no Python rows): the floor of the admin's figures;
* the admin's first reports at a date not asked before (the per-customer measures of that
  date are computed: the cost of a report after each snapshot rebuild or on a new day);
* a rep's reports (the rep sees the cards of their team, about 94,000 customers at full size),
  through the engine with the ids the visibility function gives;
* a rep's dashboard (``rapport.analytics.dashboard.build_dashboard``), when there is one;
* the API answer of the admin's churn report through Django's test client.

Each figure is wall time with the CPU time of this process beside it (DuckDB's threads
included), and the load average before and after.

Targets (issue 15): RFM and churn for an admin p95 ≤ 2 s and ≤ 2× the DuckDB floor; a rep's
dashboard p95 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import common

TARGETS = {"admin_p95_ms": 2000, "admin_to_duckdb": 2.0, "rep_p95_ms": 300}
AS_OF = dt.date(2026, 6, 30)
START = AS_OF - dt.timedelta(days=5 * 365)
RHYTHMS = (7, 14, 30, 30, 45, 60, 90, 180)


def _template(model: Any, **fixed: Any) -> tuple[list[str], list[Any]]:
    """The columns of a model (primary key first) and a row of their defaults."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        columns.append(field.column)
        if field.name in fixed:
            values.append(fixed[field.name])
        elif field.has_default():
            values.append(field.get_default())
        elif field.null:
            values.append(None)
        else:
            values.append("")
    return columns, values


def create_orders(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from rapport.cards.models import Card
    from rapport.commerce.models import ExchangeRate, Order, OrderLine, Product

    rng = random.Random(args.seed)
    Product.objects.bulk_create([Product(sku=f"SKU-{i:05d}", name=f"Producto {i}", category=f"Categoría {i % 20}")
                                 for i in range(2000)], batch_size=1000)
    product_ids = list(Product.objects.values_list("id", flat=True))
    ExchangeRate.objects.bulk_create([ExchangeRate(currency="USD", valid_from=dt.date(year, 1, 1), rate=Decimal(rate))
                                      for year, rate in ((2021, "0.84"), (2022, "0.95"), (2023, "0.92"), (2024, "0.93"),
                                                         (2025, "0.90"), (2026, "0.86"))])
    now = timezone.now()
    order_columns, order_row = _template(Order, status="confirmed", currency="EUR", total=0, created_at=now,
                                         updated_at=now, version=1)
    line_columns, line_row = _template(OrderLine, discount=Decimal(0))
    oc = {c: i for i, c in enumerate(order_columns)}
    lc = {c: i for i, c in enumerate(line_columns)}
    order_sql = (f"INSERT INTO {Order._meta.db_table} ({', '.join(order_columns)}) "
                 f"VALUES ({', '.join(['%s'] * len(order_columns))})")
    line_sql = (f"INSERT INTO {OrderLine._meta.db_table} ({', '.join(line_columns[1:])}) "
                f"VALUES ({', '.join(['%s'] * (len(line_columns) - 1))})")
    card_ids = list(Card.objects.filter(kind="person").order_by("id").values_list("id", flat=True))
    next_id = (Order.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    lines_per_card = args.lines / max(len(card_ids), 1)
    lines = orders = 0
    started = time.perf_counter()
    order_batch: list[list[Any]] = []
    line_batch: list[list[Any]] = []

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(order_sql, order_batch)
            cursor.executemany(line_sql, line_batch)
        order_batch.clear()
        line_batch.clear()

    for card_id in card_ids:
        every = rng.choice(RHYTHMS)
        n_orders = max(1, round(rng.expovariate(1.0) * lines_per_card / 4 * 1.0) or 1)
        last = AS_OF - dt.timedelta(days=int(rng.expovariate(1 / (every * 2))))
        for k in range(n_orders):
            day = last - dt.timedelta(days=every * k + rng.randint(0, max(every // 4, 1)))
            if day < START:
                break
            row = list(order_row)
            row[oc["id"]] = next_id
            row[oc["card_id"]] = card_id
            row[oc["ordered_on"]] = day
            row[oc["currency"]] = "USD" if rng.random() < 0.1 else "EUR"
            total = Decimal(0)
            for position in range(rng.randint(2, 6)):
                quantity = Decimal(rng.randint(1, 20))
                price = Decimal(rng.randint(100, 20000)) / 100
                line = list(line_row)
                line[lc["order_id"]] = next_id
                line[lc["position"]] = position
                line[lc["product_id"]] = rng.choice(product_ids)
                line[lc["quantity"]] = quantity
                line[lc["unit_price"]] = price
                line[lc["amount"]] = quantity * price
                line_batch.append(line[1:])
                total += quantity * price
                lines += 1
            row[oc["total"]] = total
            order_batch.append(row)
            orders += 1
            next_id += 1
        if len(line_batch) >= 50_000:
            flush()
            if orders % 200_000 < 12_500:
                print(f"  {orders:,} orders, {lines:,} lines  {lines / (time.perf_counter() - started):,.0f} lines/s",
                      flush=True)
        if lines >= args.lines:
            break
    if order_batch:
        flush()
    return {"orders": orders, "lines": lines, "seconds": round(time.perf_counter() - started, 1)}


def duckdb_floor(samples: int, months: int = 12) -> dict[str, Any]:
    """The churn and RFM computations written directly in DuckDB over its own copy of the rows."""
    from rapport.analytics import churn, engine, rfm

    con = engine.open_snapshot()
    con.execute("CREATE TABLE o AS SELECT * FROM snap.orders")
    con.execute("CREATE TABLE c AS SELECT id, name, archived FROM snap.cards")
    con.execute("DETACH snap")
    prior = None
    churn_ms, rfm_ms = [], []
    start = rfm.window_start(AS_OF, months)
    for _ in range(samples):
        t = time.perf_counter()
        con.execute("""CREATE OR REPLACE TEMP TABLE h AS
            SELECT card_id, count(DISTINCT ordered_on) AS n, min(ordered_on) AS f, max(ordered_on) AS l
            FROM o JOIN c ON c.id = o.card_id AND NOT c.archived WHERE ordered_on <= ? GROUP BY card_id""", [AS_OF])
        groups = con.execute("SELECT n - 1, date_diff('day', f, l), count(*) FROM h WHERE n > 1 GROUP BY ALL").fetchall()
        prior = churn.fit_prior_counts({(int(a), int(b)): int(w) for a, b, w in groups})
        con.execute("""CREATE OR REPLACE TEMP TABLE s AS
            SELECT h.card_id, c.name, 1 - pow((? + date_diff('day', f, l)) / (? + date_diff('day', f, l)
                   + greatest(date_diff('day', l, ?::DATE), 0)), ? + n - 1) AS risk
            FROM h JOIN c ON c.id = h.card_id""", [prior.alpha, prior.alpha, AS_OF, prior.r])
        con.execute("SELECT count(*), count(*) FILTER (WHERE risk >= 0.8) FROM s").fetchall()
        con.execute("SELECT * FROM s ORDER BY risk >= 0.8 DESC, round(risk, 4) DESC NULLS LAST, lower(name), card_id "
                    "LIMIT 50").fetchall()
        churn_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        con.execute("""CREATE OR REPLACE TEMP TABLE m AS
            WITH p AS (
                SELECT card_id, max(ordered_on) AS l, count(DISTINCT ordered_on) FILTER (WHERE ordered_on >= ?) AS fr,
                       coalesce(sum(total * CASE WHEN currency = 'EUR' THEN 1 ELSE 0.9 END)
                                FILTER (WHERE ordered_on >= ?), 0) AS mo
                FROM o JOIN c ON c.id = o.card_id AND NOT c.archived WHERE ordered_on <= ? GROUP BY card_id)
            SELECT card_id, ntile(5) OVER (ORDER BY l) AS r, ntile(5) OVER (ORDER BY fr) AS f,
                   ntile(5) OVER (ORDER BY mo) AS m FROM p""", [start, start, AS_OF])
        con.execute("SELECT r, f, m, count(*) FROM m GROUP BY ALL").fetchall()
        con.execute("SELECT * FROM m JOIN c ON c.id = m.card_id ORDER BY r DESC, f DESC, m DESC, lower(name), card_id "
                    "LIMIT 50").fetchall()
        rfm_ms.append((time.perf_counter() - t) * 1000)
    con.close()
    return {"churn_ms": common.percentiles(churn_ms), "rfm_ms": common.percentiles(rfm_ms)}


def sampled(fn: Any, n: int) -> tuple[dict[str, float], dict[str, float], Any]:
    """``n`` timings of ``fn``: wall and CPU (this process, DuckDB's threads included) percentiles."""
    walls, cpus, result = [], [], None
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return common.percentiles(walls), common.percentiles(cpus), result


def once(fn: Any) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return {"wall_ms": round((time.perf_counter() - wall) * 1000, 1), "cpu_ms": round((time.process_time() - cpu) * 1000, 1)}


def measure(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.test import Client

    from rapport.accounts.models import User
    from rapport.accounts.services import create_token
    from rapport.analytics import engine, selectors

    admin = User.objects.get(username=world.admin.username)
    figures: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}

    def churn_page(user: Any, as_of: dt.date = AS_OF) -> tuple[int, int]:
        report = selectors.churn_report(user, as_of=as_of)
        return len(report.rows), len(report.rows[:50])

    def rfm_page(user: Any, as_of: dt.date = AS_OF) -> tuple[int, int]:
        report = selectors.rfm_report(user, as_of=as_of)
        return len(report.rows), len(report.segments()) + len(report.rows[:50])

    figures["fingerprint"] = once(engine.fingerprint)
    figures["first_admin_churn_with_snapshot_build"] = once(lambda: churn_page(admin))
    figures["admin_rows"] = churn_page(admin)[0]
    figures["first_admin_rfm"] = once(lambda: rfm_page(admin))
    # A report at a date not asked before: the per-customer measures of that date are computed.
    other = AS_OF - dt.timedelta(days=1)
    figures["admin_churn_at_a_new_date"] = once(lambda: churn_page(admin, other))
    figures["admin_rfm_at_a_new_date"] = once(lambda: rfm_page(admin, other))
    print(f"  first reports: { {k: v for k, v in figures.items() if isinstance(v, dict)} }", flush=True)
    for name, fn in (("admin_churn_ms", churn_page), ("admin_rfm_ms", rfm_page)):
        figures[name], figures[name.replace("_ms", "_cpu_ms")], _ = sampled(lambda: fn(admin), args.samples)
        print(f"  {name}: {figures[name]} cpu {figures[name.replace('_ms', '_cpu_ms')]}", flush=True)
    figures["duckdb_floor"] = duckdb_floor(args.samples)
    print(f"  duckdb floor: {figures['duckdb_floor']}", flush=True)
    rep_id = world.teams[0][2][0].pk

    def signed_in() -> Any:  # a fresh user object, as each request has: nothing read for it before
        return User.objects.get(pk=rep_id)

    for name, fn in (("rep_churn_ms", churn_page), ("rep_rfm_ms", rfm_page)):
        figures[name], figures[name.replace("_ms", "_cpu_ms")], (count, _page) = sampled(lambda: fn(signed_in()),
                                                                                           args.samples * 3)
        figures["rep_rows"] = count
        print(f"  {name}: {figures[name]} cpu {figures[name.replace('_ms', '_cpu_ms')]} ({count:,} customers)",
              flush=True)
    def both() -> Any:  # what a rep's dashboard asks of the engine in one request
        user = signed_in()
        return churn_page(user), rfm_page(user)

    figures["rep_churn_and_rfm_ms"], figures["rep_churn_and_rfm_cpu_ms"], _ = sampled(both, args.samples * 3)
    print(f"  rep churn and RFM in one request: {figures['rep_churn_and_rfm_ms']} "
          f"cpu {figures['rep_churn_and_rfm_cpu_ms']}", flush=True)
    try:
        from rapport.analytics import dashboard
    except ImportError:
        dashboard = None  # type: ignore[assignment]
    if dashboard is not None and hasattr(dashboard, "build_dashboard"):
        def board() -> Any:
            return dashboard.build_dashboard(signed_in(), as_of=AS_OF)

        figures["rep_dashboard_first"] = once(board)
        figures["rep_dashboard_ms"], figures["rep_dashboard_cpu_ms"], _ = sampled(board, args.samples * 3)
        print(f"  rep dashboard: {figures['rep_dashboard_ms']} cpu {figures['rep_dashboard_cpu_ms']}", flush=True)
    token = create_token(user=admin, name="bench", scope="read")
    if token:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

        def api() -> Any:
            response = client.get(f"/api/v1/reports/churn?as_of={AS_OF}&limit=50")
            assert response.status_code == 200, response.content[:300]
            return response

        try:
            figures["api_first_request"] = once(api)  # the first request of the process loads the URLs and the API
            figures["api_admin_churn_ms"], figures["api_admin_churn_cpu_ms"], _ = sampled(api, args.samples)
        except Exception as exc:  # noqa: BLE001 - the other figures stand without this one
            figures["api_admin_churn_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=0)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--facts-per-card", type=int, default=0)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    name = f"analytics-{args.db}-{args.people}"
    os.environ["RAPPORT_API_RATE"] = "1000000/m"  # the benchmark's own requests are not an attack
    common.setup(name, db=args.db, reuse=args.reuse)
    from django.conf import settings
    from django.db import connection

    from bench import cards as card_bench

    settings.RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS = 0  # the engine at any size: its figures are measured
    settings.RAPPORT_ANALYTICS_DIR = str(Path(os.environ["RAPPORT_HOME"]) / name)  # a snapshot per data set
    world = card_bench.build_world()
    figures: dict[str, Any] = {"people": args.people, "lines": args.lines}
    if not args.reuse:
        print(f"creating {args.people:,} people ...", flush=True)
        figures["create_people"] = card_bench.create(args, world)
        print(f"creating {args.lines:,} order lines ...", flush=True)
        figures["create_orders"] = create_orders(args, world)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
    print("measuring ...", flush=True)
    figures["measure"] = m = measure(args, world)
    floor = m["duckdb_floor"]
    figures["verdict"] = {
        "admin_churn_p95_ms": m["admin_churn_ms"]["p95_ms"], "admin_rfm_p95_ms": m["admin_rfm_ms"]["p95_ms"],
        "admin_churn_to_duckdb": round(m["admin_churn_ms"]["p95_ms"] / floor["churn_ms"]["p95_ms"], 2),
        "admin_rfm_to_duckdb": round(m["admin_rfm_ms"]["p95_ms"] / floor["rfm_ms"]["p95_ms"], 2),
        "rep_churn_p95_ms": m["rep_churn_ms"]["p95_ms"], "rep_rfm_p95_ms": m["rep_rfm_ms"]["p95_ms"],
        "rep_dashboard_p95_ms": m.get("rep_dashboard_ms", {}).get("p95_ms"),
        "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
    }
    print(figures["verdict"], flush=True)
    path = common.write_results(name, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
