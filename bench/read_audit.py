"""Audit entries of confidential reads: what logging them costs a request, written three ways.

    python -m bench.read_audit [--requests 1000] [--reads 3] [--lock-ms 2] [--gap-ms 2]

Each simulated request logs ``--reads`` confidential reads (one entry per card shown), as a
card page or an API answer showing several customers does:

- ``one_by_one``: each entry its own write transaction in autocommit (how reads were logged
  before they were batched);
- ``batched``: the request's entries written together in one transaction before the answer
  leaves (``rapport.privacy.read_audit``, what Rapport does);
- ``durable_queue``: the entries put on a durable queue (a Huey SQLite queue file of its own,
  committed before the answer leaves) and written to the audit log later by a worker. The
  request never takes the main database's write lock; the entries reach the log only when the
  queue is drained, which is timed separately.

Each is timed with the database idle and again while another process holds the database's
write lock ``--lock-ms`` out of every ``--lock-ms + --gap-ms`` (other users saving cards,
imports writing). Figures: wall p50/p95/p99 per request, CPU per request, and the queue's
drain rate. SQLite only: the contention it measures is SQLite's single writer.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench import common


def _writer(path: str, lock_ms: float, gap_ms: float, stop: Any) -> None:
    """Another writer: holds the write lock ``lock_ms`` at a time, then lets go for ``gap_ms``."""
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS bench_other_writes (id INTEGER PRIMARY KEY, at REAL)")
    while not stop.is_set():
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO bench_other_writes (at) VALUES (?)", (time.time(),))
        time.sleep(lock_ms / 1000)
        con.execute("COMMIT")
        time.sleep(gap_ms / 1000)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=3, help="confidential reads logged per request")
    parser.add_argument("--lock-ms", type=float, default=2.0)
    parser.add_argument("--gap-ms", type=float, default=2.0)
    args = parser.parse_args()
    database = common.setup("read-audit")
    assert isinstance(database, Path)

    from django.db import connection, transaction
    from huey import SqliteHuey

    from rapport.accounts.models import User
    from rapport.accounts.services import create_user
    from rapport.audit.models import AuditEntry
    from rapport.audit.services import record, record_many
    from rapport.cards import services as cards

    user = create_user(username="bench_reader", role="admin", password="x", validate=False)
    shown = [cards.create_person(user=user, data={"given_name": f"Reader{i}", "family_name": "Bench"}) for i in range(args.reads)]
    items = ["income_band", "personal_notes"]

    queue_file = database.with_name("bench-read-audit-queue.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{queue_file}{suffix}").unlink(missing_ok=True)
    queue = SqliteHuey("bench-read-audit", filename=str(queue_file))
    actors: dict[int, User] = {}

    @queue.task()
    def write_reads(payload: list[dict[str, Any]]) -> int:
        entries = []
        for p in payload:
            actor = actors.get(p["actor"]) or actors.setdefault(p["actor"], User.objects.get(pk=p["actor"]))
            entries.append({"action": "read", "record_type": "cards.card", "record_id": p["card"], "actor": actor,
                            "detail": {"items": p["items"]}})
        with transaction.atomic():
            record_many(entries)
        return len(entries)

    def one_by_one() -> None:
        for card in shown:
            record(action="read", record=card, actor=user, detail={"items": items})

    def batched() -> None:
        with transaction.atomic():
            record_many([{"action": "read", "record": card, "actor": user, "detail": {"items": items}} for card in shown])

    def durable_queue() -> None:
        write_reads([{"actor": user.pk, "card": card.pk, "items": items} for card in shown])

    methods = {"one_by_one": one_by_one, "batched": batched, "durable_queue": durable_queue}
    figures: dict[str, Any] = {}
    for load in ("idle", "other_writer"):
        stop = multiprocessing.Event()
        other = None
        if load == "other_writer":
            connection.close()
            other = multiprocessing.Process(target=_writer, args=(str(database), args.lock_ms, args.gap_ms, stop))
            other.start()
            time.sleep(0.5)
        try:
            for name, fn in methods.items():
                for _ in range(20):
                    fn()  # warm: connections, statements, the queue file
                samples: list[float] = []
                cpu = time.process_time()
                for _ in range(args.requests):
                    started = time.perf_counter()
                    fn()
                    samples.append((time.perf_counter() - started) * 1000)
                cpu_ms = (time.process_time() - cpu) * 1000 / args.requests
                figures[f"{load}.{name}"] = {**common.percentiles(samples), "cpu_ms_per_request": round(cpu_ms, 3)}
                got = figures[f"{load}.{name}"]
                print(f"{load:13s} {name:14s} p50 {got['p50_ms']:7.2f} ms  p95 {got['p95_ms']:7.2f} ms  "
                      f"p99 {got['p99_ms']:7.2f} ms  cpu {cpu_ms:6.3f} ms", flush=True)
        finally:
            stop.set()
            if other is not None:
                other.join(timeout=10)

    before = AuditEntry.objects.filter(action="read").count()
    pending = queue.pending_count()
    started, cpu = time.perf_counter(), time.process_time()
    drained = 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        drained += 1
    wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    written = AuditEntry.objects.filter(action="read").count() - before
    figures["queue_drain"] = {"tasks": drained, "pending_before": pending, "entries_written": written,
                              "wall_s": round(wall, 3), "cpu_s": round(cpu_s, 3),
                              "entries_per_s": round(written / wall, 1) if wall else None}
    print(f"drained {drained} queued requests ({written} entries) in {wall:.2f} s wall, {cpu_s:.2f} s CPU", flush=True)
    figures["load_average"] = list(os.getloadavg())
    path = common.write_results("read-audit-sqlite", parameters=vars(args), figures=figures)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
