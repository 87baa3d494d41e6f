"""Order import throughput: a flat orders file (one row per line) into a database of customers.

    python -m bench.orders_import [--lines 1000000] [--cards 1000000] [--products 2000]
                                  [--lines-per-order 5] [--db sqlite|postgres] [--reuse]

Builds ``--cards`` person cards with external ids (through ``bulk_create_cards``, the loader
``bench.cards`` uses; ≈ 4 minutes for a million on SQLite) and ``--products`` products, writes
an orders file of ``--lines`` rows (``customer_external_id, order_external_id, ordered_on,
product_sku, quantity, amount, currency``; 1 to 2 × ``--lines-per-order`` - 1 lines per order,
adjacent, four lines in five with a SKU) and imports it through the same service as
``rapport import --kind orders``. ``--reuse`` keeps the cards and products of an earlier run
(the orders of earlier runs are deleted first).

Then the floor: the very rows the import stored (orders, lines, the import's records) taken out
and put back with bare ``sqlite3.executemany`` into the same database (same tables, indexes,
foreign keys and settings), one transaction per batch as the import commits them, and the file
read by the ``csv`` module alone. The import's rate against that floor says how much of the time
is Rapport's.
Target (from the issue): ≥ 10,000 lines/s into SQLite. Results:
bench/results/orders-import-<db>-<lines>.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bench import common

TARGETS = {"order_lines_per_s": 10_000}
BATCH = 2000  # the import's rows per transaction (rapport.imports.services.BATCH_ROWS)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_customers(user: Any, count: int) -> dict[str, Any]:
    """``count`` people with external ids ``C0000001``…, topped up to ``count`` on a reused database."""
    from rapport.cards.bulk import bulk_create_cards
    from rapport.cards.models import Card

    have = Card.objects.count()
    if have >= count:
        return {"existing": have, "created": 0}
    given = ["Lucía", "Andrei", "María", "José", "Ioana", "Wei", "Chen", "Ana", "Mihai", "Carmen", "Pedro", "Elena"]
    family = ["Martín", "Popescu", "García", "Ionescu", "Wang", "López", "Dumitru", "Zhang", "Sánchez", "Stan"]
    started = time.perf_counter()
    rows = ({"kind": "person", "given_name": given[n % 12], "family_name": family[n % 10], "external_id": f"C{n:07d}"}
            for n in range(have, count))
    created = 0
    while created < count - have:
        chunk = min(100_000, count - have - created)
        created += bulk_create_cards(user=user, rows=(next(rows) for _ in range(chunk)), batch_size=5000)
        print(f"  customers: {have + created:,}/{count:,}", flush=True)
    seconds = time.perf_counter() - started
    return {"existing": have, "created": created, "seconds": round(seconds, 1), "cards_per_s": round(created / seconds)}


def build_products(count: int) -> None:
    from rapport.commerce.models import Product

    have = set(Product.objects.values_list("sku", flat=True))
    Product.objects.bulk_create(
        [Product(sku=f"SKU-{n:05d}", name=f"Producto {n}") for n in range(count) if f"SKU-{n:05d}" not in have], batch_size=2000
    )


def write_orders(path: Path, *, lines: int, cards: int, products: int, per_order: int, seed: int) -> int:
    """The flat file; returns the number of orders in it."""
    rng = random.Random(seed)
    start = dt.date(2025, 1, 1)
    orders = written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("customer_external_id,order_external_id,ordered_on,product_sku,quantity,amount,currency\r\n")
        while written < lines:
            orders += 1
            customer = f"C{rng.randrange(cards):07d}"
            ordered_on = (start + dt.timedelta(days=rng.randrange(600))).isoformat()
            currency = "EUR" if rng.random() < 0.8 else "USD"
            for _ in range(min(rng.randint(1, 2 * per_order - 1), lines - written)):
                sku = f"SKU-{rng.randrange(products):05d}" if products and rng.random() < 0.8 else ""
                quantity = rng.randint(1, 40)
                amount = f"{quantity * rng.randint(100, 20000) / 100:.2f}"
                handle.write(f"{customer},ORD-{orders:08d},{ordered_on},{sku},{quantity},{amount},{currency}\r\n")
                written += 1
    return orders


def clear_orders() -> None:
    """Orders of earlier runs (``--reuse``) go, so every run imports into the same database."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("commerce_importedrecord", "commerce_orderline", "commerce_order", "imports_rowerror", "imports_importjob"):
            cursor.execute(f'DELETE FROM "{table}"')
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run_import(user: Any, path: Path) -> tuple[dict[str, Any], Any]:
    from rapport.imports import services

    load_before = os.getloadavg()
    started, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    job = services.create_job(user=user, path=path, file_name=path.name, kind="orders")
    job = services.run_import(job=job).job
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    worker_cpu = _children_cpu() - children
    return {
        "lines": job.rows_read, "orders_created": job.created_count, "orders_updated": job.updated_count,
        "rows_not_imported": job.error_count, "status": job.status, "message": job.message,
        "seconds": round(seconds, 2), "lines_per_s": round(job.rows_read / seconds),
        # CPU time of this process; on a shared machine the wall time also holds other programs' turns.
        "cpu_seconds": round(cpu_seconds, 2), "lines_per_cpu_s": round(job.rows_read / max(cpu_seconds, 1e-9)),
        # The worker process that reads and checks the file (0 when the import ran in one process).
        "worker_cpu_seconds": round(worker_cpu, 2),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
    }, job


def read_floor(path: Path) -> dict[str, Any]:
    """The file read by the csv module and nothing else."""
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        count = sum(1 for _ in csv.reader(handle)) - 1
    seconds = time.perf_counter() - started
    return {"lines": count, "seconds": round(seconds, 2), "lines_per_s": round(count / seconds)}


APP_PRAGMAS = (  # the application's own (rapport/settings.py) and the import's checkpoint setting
    "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY", "PRAGMA mmap_size=268435456", "PRAGMA wal_autocheckpoint=20000",
)


def write_floor(database: Path, job_id: int) -> dict[str, Any]:
    """The rows the import stored, taken out and put back with bare ``sqlite3.executemany``: the
    same database (1M cards, the same tables, indexes and foreign keys, the same settings), one
    transaction per batch of ``BATCH`` lines as the import commits them, and no Rapport code."""
    db = sqlite3.connect(database, isolation_level=None)
    for pragma in APP_PRAGMAS:
        db.execute(pragma)

    def rows_of(sql: str) -> tuple[list[str], list[Any]]:
        cursor = db.execute(sql, [job_id])
        return [d[0] for d in cursor.description], cursor.fetchall()

    order_columns, orders = rows_of("SELECT * FROM commerce_order WHERE import_job_id = ? ORDER BY id")
    line_columns, line_rows = rows_of(
        "SELECT l.* FROM commerce_orderline l JOIN commerce_order o ON o.id = l.order_id WHERE o.import_job_id = ? ORDER BY l.id")
    record_columns, records = rows_of("SELECT * FROM commerce_importedrecord WHERE job_id = ? ORDER BY id")
    db.execute("BEGIN IMMEDIATE")
    db.execute("DELETE FROM commerce_importedrecord WHERE job_id = ?", [job_id])
    db.execute("DELETE FROM commerce_orderline WHERE order_id IN (SELECT id FROM commerce_order WHERE import_job_id = ?)", [job_id])
    db.execute("DELETE FROM commerce_order WHERE import_job_id = ?", [job_id])
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Batches as the import made them: the orders whose lines fall in each run of BATCH lines.
    order_at = {row[0]: i for i, row in enumerate(orders)}
    line_order = line_columns.index("order_id")
    batches: list[tuple[list[Any], list[Any], list[Any]]] = []
    done_orders = 0
    for start in range(0, len(line_rows), BATCH):
        chunk = line_rows[start : start + BATCH]
        last = order_at[chunk[-1][line_order]] + 1
        batches.append((orders[done_orders:last], chunk, records[done_orders:last]))
        done_orders = last

    def insert(table: str, columns: list[str], rows: list[Any]) -> None:
        if rows:
            db.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})', rows)

    started, cpu = time.perf_counter(), time.process_time()
    for batch_orders, batch_lines, batch_records in batches:
        db.execute("BEGIN IMMEDIATE")
        insert("commerce_order", order_columns, batch_orders)
        insert("commerce_orderline", line_columns, batch_lines)
        insert("commerce_importedrecord", record_columns, batch_records)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return {"lines": len(line_rows), "orders": len(orders), "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
            "lines_per_s": round(len(line_rows) / seconds) if line_rows else 0,
            "lines_per_cpu_s": round(len(line_rows) / cpu_seconds) if line_rows else 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_import", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--cards", type=int, default=1_000_000, help="person cards (customers) in the database")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--lines-per-order", type=int, default=5)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep the cards and products of an earlier run")
    parser.add_argument("--prepare-only", action="store_true", help="build the customers and products, import nothing")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    name = f"orders-import-{args.db}-{args.cards // 1000}k"
    target = common.setup(name, db=args.db, reuse=args.reuse)
    print(f"database: {target}", flush=True)
    from rapport.accounts.models import User
    from rapport.accounts.services import create_user

    user = User.objects.filter(username="bench_orders").first() or create_user(
        username="bench_orders", role="admin", password="x", validate=False)
    figures: dict[str, Any] = {"customers": build_customers(user, args.cards)}
    build_products(args.products)
    if args.prepare_only:
        print(f"prepared: {figures['customers']}")
        return 0
    clear_orders()
    path = (Path(str(target)).with_suffix(".csv") if args.db == "sqlite" else Path(f"/tmp/{name}.csv"))
    path = path.with_name(f"{path.stem}-{args.lines}.csv")
    orders = write_orders(path, lines=args.lines, cards=args.cards, products=args.products, per_order=args.lines_per_order,
                          seed=args.seed)
    figures["file"] = {"lines": args.lines, "orders": orders, "mb": round(path.stat().st_size / 1e6, 1)}
    print(f"file: {figures['file']}", flush=True)
    figures["import"], job = run_import(user, path)
    print(f"import: {figures['import']}", flush=True)
    figures["read_floor"] = read_floor(path)
    if args.db == "sqlite":
        assert isinstance(target, Path)
        from django.db import connection

        connection.close()
        figures["write_floor"] = write_floor(target, job.pk)
        print(f"write floor: {figures['write_floor']}", flush=True)
        floor_s = figures["write_floor"]["seconds"] + figures["read_floor"]["seconds"]
        # The floor of one process: reading the file and storing its rows, nothing else; the
        # import's ratio to it, in wall and in CPU time of the importing process.
        figures["floor"] = {
            "seconds": round(floor_s, 2), "lines_per_s": round(args.lines / floor_s),
            "import_over_floor": round(figures["import"]["seconds"] / floor_s, 2),
            "import_cpu_over_write_floor_cpu": round(figures["import"]["cpu_seconds"] / figures["write_floor"]["cpu_seconds"], 2),
        }
    path.unlink(missing_ok=True)
    value = figures["import"]["lines_per_s"]
    figures["summary"] = {"order_lines_per_s": {"value": value, "target": TARGETS["order_lines_per_s"],
                                                "met": value >= TARGETS["order_lines_per_s"]}}
    out = common.write_results(f"orders-import-{args.db}-{args.lines // 1000}k", parameters=vars(args), figures=figures,
                               targets=TARGETS)
    print(f"order import: {value} lines/s (target {TARGETS['order_lines_per_s']}) "
          f"{'OK' if value >= TARGETS['order_lines_per_s'] else 'MISSED'}")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
