"""How fast can cards be created at all on this machine? The floors under ``bench.cards``' creation.

    python -m bench.bulk_ceiling [--people 50000] [--organizations 10000] [--facts-per-card 5]
    python -m bench.bulk_ceiling --shape import [--people 50000]

``bench.cards`` creates its data set through ``rapport.cards.bulk.bulk_create_cards`` and the
issue asks for 20,000 cards/s, i.e. 50 µs per card. This benchmark splits that time into its
parts, on the same rows (``bench.cards.RowMaker``), and measures what each part costs when
nothing else is done:

1. ``validate``: ``Loader.prepare`` per card: parsing and checking every value, as the
   services do (phones, e-mails, facts, owner and team, search terms).
2. ``service_write``: ``_write`` per card into the application's database, indexes and all
   (building the row tuples, executemany, commit). The rows it inserts are captured.
3. ``replay_no_index``: the captured rows replayed with plain ``sqlite3.executemany`` into a
   fresh database holding the same tables without any secondary index: the cost of binding
   and storing the rows alone, with no Rapport code running.
4. ``index_build``: the project's indexes then created over those rows (a sorted build, the
   fastest way SQLite has to fill an index).
5. ``replay_with_indexes``: the same replay into tables whose indexes exist from the start.

The floor for one process is ``validate + min(replay_no_index + index_build,
replay_with_indexes)``; with validation moved to the second core and fully overlapped, the
floor is the larger of the two. Both are reported as cards/s next to the target.

``--shape import`` does the same with the rows the CSV importer hands to the bulk loader for
``bench.imports``' file (names, mobile phone, e-mail, birthday, employer, job title; target
10,000 rows/s): they are captured from a real import in a child process and then measured
as above. The importer's own work (reading and decoding the file, mapping, the duplicate
check, its per-row records) comes on top of these floors.
Results: bench/results/bulk-ceiling[-import]-<size>.json.
"""

from __future__ import annotations

import argparse
import enum
import gc
import os
import pickle
import random
import subprocess
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import common

TARGETS = {"cards": 20_000, "import": 10_000}  # cards/s (bench.cards), CSV rows/s (bench.imports)
PRAGMAS = (  # the application's own (rapport/settings.py), and the bench's larger cache
    "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-1048576", "PRAGMA temp_store=MEMORY",
)


def _per_card(seconds: float, cards: int) -> float:
    return round(1e6 * seconds / cards, 1)


def _schema(path: Path, tables: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """CREATE TABLE and CREATE INDEX statements of ``tables`` in the application's database."""
    with sqlite3.connect(path) as db:
        marks = ",".join("?" * len(tables))
        creates = [sql for (sql,) in db.execute(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", tables)]
        indexes = list(db.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})", tables
        ))
    return creates, indexes


def _replay(path: Path, creates: list[str], indexes: list[tuple[str, str]], batches: list[list[tuple[str, str, list[Any]]]],
            *, indexes_first: bool) -> dict[str, float]:
    """Inserts the captured batches as ``_write`` did (one transaction per batch) with no Rapport code."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        db.execute(pragma)
    for sql in creates:
        db.execute(sql)
    if indexes_first:
        for _name, sql in indexes:
            db.execute(sql)
    started, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        db.execute("BEGIN IMMEDIATE")
        for sql, _table, rows in batch:
            db.executemany(sql, rows)
        db.execute("COMMIT")
    inserted, inserted_cpu = time.perf_counter() - started, time.process_time() - cpu
    built = built_cpu = 0.0
    if not indexes_first:
        started, cpu = time.perf_counter(), time.process_time()
        for _name, sql in indexes:
            db.execute(sql)
        built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return {"insert_s": inserted, "insert_cpu_s": inserted_cpu, "index_s": built, "index_cpu_s": built_cpu}


def _plain(value: Any) -> Any:
    """``value`` with enum members as their values and model instances as their ids, for pickling."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return getattr(value, "pk", value)


def capture_import_rows(people: int, seed: int, out: Path) -> None:
    """Runs a real import of ``bench.imports``' CSV and pickles the rows it gives the bulk loader."""
    common.setup("bulk-ceiling-capture")
    from rapport.accounts.services import create_user
    from rapport.cards.bulk import Checked
    from rapport.imports import services

    from bench.imports import write_csv

    user = create_user(username="bench_importer", role="admin", password="x", validate=False)
    path = out.with_suffix(".csv")
    write_csv(path, people, bad_every=0, seed=seed, duplicates_of=0)
    captured: list[dict[str, Any]] = []
    load = services.bulk_create_cards

    def keep(*, rows: list[dict[str, Any] | Checked], **kwargs: Any) -> int:
        # As given, before the loader reads them (a row the importer checked ahead is its dict).
        captured.extend(_plain(row.row if isinstance(row, Checked) else row) for row in rows)
        return load(rows=rows, **kwargs)

    services.bulk_create_cards = keep  # type: ignore[assignment]
    job = services.create_job(user=user, path=path, file_name=path.name, kind="people", on_duplicate="skip")
    services.run_import(job=job)
    path.unlink(missing_ok=True)
    out.write_bytes(pickle.dumps(captured))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_ceiling", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--organizations", type=int, default=10_000)
    parser.add_argument("--facts-per-card", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shape", choices=["cards", "import"], default="cards",
                        help="the rows of bench.cards, or those the CSV importer builds from bench.imports' file")
    parser.add_argument("--capture-import", type=Path, help=argparse.SUPPRESS)  # the child process of --shape import
    args = parser.parse_args(argv)
    if args.capture_import:
        capture_import_rows(args.people, args.seed, args.capture_import)
        return 0
    load_before = os.getloadavg()
    imported: list[dict[str, Any]] = []
    if args.shape == "import":
        args.organizations = 0
        pickled = common.ROOT / "var" / "bench" / "bulk-ceiling-import-rows.pickle"
        pickled.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "bench.bulk_ceiling", "--capture-import", str(pickled),
                        "--people", str(args.people), "--seed", str(args.seed)], check=True, cwd=common.ROOT)
        imported = pickle.loads(pickled.read_bytes())
        pickled.unlink()
        args.people = len(imported)
    cards = args.people + args.organizations
    target_per_s = TARGETS[args.shape]
    name = f"bulk-ceiling{'-import' if args.shape == 'import' else ''}-{cards // 1000}k"
    target = common.setup(name)
    assert isinstance(target, Path)
    from django.db import connection, transaction

    from bench.cards import RowMaker, build_pools, build_world
    from rapport.cards import bulk
    from rapport.cards.models import Card

    world = build_world()
    maker = RowMaker(random.Random(args.seed), build_pools(random.Random(args.seed)), world, args.facts_per_card)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size=-1048576")
    loader = bulk.Loader(world.admin)
    captured: list[list[tuple[str, str, list[Any]]]] = []
    rows_per_table: dict[str, int] = defaultdict(int)
    write_insert = bulk.insert_rows

    def capture(model: Any, columns: list[str], rows: list[tuple[Any, ...]], *, ignore_conflicts: bool = False) -> None:
        write_insert(model, columns, rows, ignore_conflicts=ignore_conflicts)
        if rows:
            table = model._meta.db_table
            names = ", ".join(f'"{c}"' for c in columns)
            conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))}){conflict}'
            captured[-1].append((sql, table, rows))
            rows_per_table[table] += len(rows)

    bulk.insert_rows = capture
    validate_s = write_s = 0.0
    validate_cpu = write_cpu = 0.0
    gc.disable()
    try:
        for kind, count in (("organizations", args.organizations), ("people", args.people)):
            if kind == "people":
                for team, *_ in world.teams:
                    maker.org_ids[team.id] = list(Card.objects.filter(kind="organization", team=team).values_list("id", flat=True))
            if imported:
                source = iter(imported)
            else:
                source = maker.organizations(count) if kind == "organizations" else maker.people(count)
            done = 0
            while done < count:
                raw = [next(source) for _ in range(min(args.batch_size, count - done))]
                wall, cpu = time.perf_counter(), time.process_time()
                prepared = [loader.prepare(done + i, row) for i, row in enumerate(raw)]
                validate_s += time.perf_counter() - wall
                validate_cpu += time.process_time() - cpu
                captured.append([])
                wall, cpu = time.perf_counter(), time.process_time()
                with transaction.atomic():
                    bulk._write(loader, prepared)
                write_s += time.perf_counter() - wall
                write_cpu += time.process_time() - cpu
                done += len(raw)
            print(f"  {kind}: {done:,} validated and written", flush=True)
    finally:
        bulk.insert_rows = write_insert
        gc.enable()
    connection.close()

    tables = sorted(rows_per_table)
    creates, indexes = _schema(target, tables)
    replay_path = target.with_name(f"{target.stem}-replay.sqlite3")
    bare = _replay(replay_path, creates, indexes, captured, indexes_first=False)
    print(f"  replay without indexes: {bare['insert_s']:.1f} s, index build {bare['index_s']:.1f} s", flush=True)
    indexed = _replay(replay_path, creates, indexes, captured, indexes_first=True)
    print(f"  replay with indexes: {indexed['insert_s']:.1f} s", flush=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{replay_path}{suffix}").unlink(missing_ok=True)

    us = {
        "validate": _per_card(validate_s, cards),
        "validate_cpu": _per_card(validate_cpu, cards),
        "service_write": _per_card(write_s, cards),
        "service_write_cpu": _per_card(write_cpu, cards),
        "replay_no_index": _per_card(bare["insert_s"], cards),
        "index_build": _per_card(bare["index_s"], cards),
        "replay_with_indexes": _per_card(indexed["insert_s"], cards),
        "replay_no_index_cpu": _per_card(bare["insert_cpu_s"], cards),
        "index_build_cpu": _per_card(bare["index_cpu_s"], cards),
        "replay_with_indexes_cpu": _per_card(indexed["insert_cpu_s"], cards),
    }
    # Wall time where the machine was idle; CPU time counts only this process's own work, so on a
    # shared machine the CPU figures are the fairer floor (both are kept in the results).
    storing = min(us["replay_no_index"] + us["index_build"], us["replay_with_indexes"])
    storing_cpu = min(us["replay_no_index_cpu"] + us["index_build_cpu"], us["replay_with_indexes_cpu"])
    ceilings = {
        "service_as_is": round(1e6 / (us["validate"] + us["service_write"])),
        "one_process_no_rapport_write_code": round(1e6 / (us["validate"] + storing)),
        "validation_on_second_core": round(1e6 / max(us["validate"], storing)),
        "storing_alone": round(1e6 / storing),
        "storing_alone_cpu": round(1e6 / storing_cpu),
        "validation_on_second_core_cpu": round(1e6 / max(us["validate_cpu"], storing_cpu)),
    }
    figures = {
        "cards": cards,
        "rows_per_card": {t: round(n / cards, 2) for t, n in sorted(rows_per_table.items())},
        "rows_per_card_total": round(sum(rows_per_table.values()) / cards, 2),
        "indexes": len(indexes),
        "microseconds_per_card": us,
        "cards_per_s": ceilings,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "summary": {
            "best_possible_cards_per_s": {
                "value": max(ceilings["validation_on_second_core"], ceilings["validation_on_second_core_cpu"]),
                "target": target_per_s,
                "met": max(ceilings["validation_on_second_core"], ceilings["validation_on_second_core_cpu"]) >= target_per_s,
            },
        },
    }
    path = common.write_results(name, parameters=vars(args), figures=figures, targets={"cards_per_s": target_per_s})
    for key, value in us.items():
        print(f"{key}: {value} µs/card")
    for key, value in ceilings.items():
        print(f"{key}: {value:,} cards/s (target {target_per_s:,})")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
