"""Import and export throughput.

    python -m bench.imports [--rows 100000] [--existing 20000] [--db sqlite|postgres] [--bad-every 50]

Writes a CSV of people (names, mobile phone, e-mail, birth date, external id; one row in
``--bad-every`` with a bad value) and imports it through the same service as ``rapport
import``: encoding and delimiter detection, mapping, validation, the duplicate check
(external id, E.164 phone, e-mail) against ``--existing`` cards already in the database,
facts with provenance, current values and the search index. Then exports the cards as CSV,
XLSX and vCard. Target (from the issue): CSV import ≥ 10,000 rows/s into SQLite.
Results: bench/results/imports-<db>-<rows>.json.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench import common

TARGETS = {"csv_import_rows_per_s": 10_000}


def write_csv(path: Path, rows: int, *, bad_every: int, seed: int, duplicates_of: int) -> None:
    rng = random.Random(seed)
    given = ["Lucía", "Andrei", "María", "José", "Ioana", "Wei", "Chen", "Ana", "Mihai", "Carmen", "Pedro", "Elena"]
    family = ["Martín", "Popescu", "García", "Ionescu", "Wang", "López", "Dumitru", "Zhang", "Sánchez", "Stan"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("external_id,First Name,Last Name,Mobile Phone,E-mail Address,Birthday,Company,Job Title\r\n")
        for i in range(rows):
            # Every 20th row repeats the phone of a card already in the database: a duplicate to skip.
            n = rng.randrange(duplicates_of) if duplicates_of and i % 20 == 0 else 1_000_000 + i
            phone = f"+34 6{n:08d}"
            email = f"contact{1_000_000 + i}@example-{i % 97}.es"
            birthday = f"19{50 + i % 50:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            if bad_every and i % bad_every == 7:
                email = "not-an-address"
            handle.write(
                f"imp-{i},{rng.choice(given)},{rng.choice(family)},{phone},{email},{birthday},"
                f"Distribuciones {i % 500},Compras\r\n"
            )


def seed_existing(user: Any, count: int) -> None:
    from rapport.cards.bulk import bulk_create_cards

    if count:
        bulk_create_cards(
            user=user,
            rows=({"kind": "person", "given_name": "Existing", "family_name": str(n), "phones": [f"+34 6{n:08d}"]} for n in range(count)),
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_import(user: Any, path: Path) -> dict[str, Any]:
    from rapport.imports import services

    from rapport.imports.models import RowError

    load_before = os.getloadavg()[0]
    started, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    job = services.create_job(user=user, path=path, file_name=path.name, kind="people", on_duplicate="skip")
    job = services.run_import(job=job).job
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    worker_cpu = _children_cpu() - children
    return {
        "rows": job.rows_read, "seconds": round(seconds, 2), "rows_per_s": round(job.rows_read / seconds),
        # CPU time of this process: on a shared machine wall time also counts other programs' turns.
        "cpu_seconds": round(cpu_seconds, 2), "rows_per_cpu_s": round(job.rows_read / cpu_seconds),
        # The worker process that reads and checks the file (0 when the import ran in one process).
        "worker_cpu_seconds": round(worker_cpu, 2),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # 1-minute, before and after
        "values_left_out": RowError.objects.filter(job=job, row_imported=True).count(),
        "created": job.created_count, "updated": job.updated_count, "skipped_duplicates": job.skipped_count,
        "rows_not_imported": job.error_count, "status": job.status,
    }


def run_export(user: Any, fmt: str) -> dict[str, Any]:
    from rapport.cards.selectors import CardFilter
    from rapport.imports import services

    sink = io.BytesIO()
    started, cpu = time.perf_counter(), time.process_time()
    result = services.export_cards(user=user, kind="people", flt=CardFilter(), fmt=fmt, stream=sink, channel="bench")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {"rows": result.rows, "seconds": round(seconds, 2), "rows_per_s": round(result.rows / seconds),
            "rows_per_cpu_s": round(result.rows / cpu_seconds), "bytes": len(sink.getvalue())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=20_000, help="cards in the database before the import")
    parser.add_argument("--bad-every", type=int, default=50, help="one row in N has a bad e-mail (0: none)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args(argv)
    name = f"imports-{args.db}-{args.rows // 1000}k"
    target = common.setup(name, db=args.db)
    print(f"database: {target}", flush=True)
    from rapport.accounts.services import create_user

    user = create_user(username="bench_importer", role="admin", password="x", validate=False)
    seed_existing(user, args.existing)
    path = Path(str(target)).with_suffix(".csv") if args.db == "sqlite" else Path(f"/tmp/{name}.csv")
    write_csv(path, args.rows, bad_every=args.bad_every, seed=args.seed, duplicates_of=args.existing)
    figures: dict[str, Any] = {"file_mb": round(path.stat().st_size / 1e6, 1)}
    figures["csv_import"] = run_import(user, path)
    print(f"import: {figures['csv_import']}", flush=True)
    if not args.skip_export:
        for fmt in ("csv", "xlsx", "vcard"):
            figures[f"export_{fmt}"] = run_export(user, fmt)
            print(f"export {fmt}: {figures[f'export_{fmt}']}", flush=True)
    value = figures["csv_import"]["rows_per_s"]
    print(f"import CPU: {figures['csv_import']['rows_per_cpu_s']} rows per CPU second", flush=True)
    figures["summary"] = {"csv_import_rows_per_s": {"value": value, "target": TARGETS["csv_import_rows_per_s"], "met": value >= TARGETS["csv_import_rows_per_s"]}}
    path.unlink(missing_ok=True)
    out = common.write_results(name, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"csv import: {value} rows/s (target {TARGETS['csv_import_rows_per_s']}) {'OK' if value >= TARGETS['csv_import_rows_per_s'] else 'MISSED'}")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
