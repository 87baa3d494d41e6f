"""``rapport worker``: runs the background jobs (imports, duplicate scans, segment refresh) and,
with ``--beat`` (the default), the daily schedule: the nightly funnel rules and segment
refresh, the morning reminders and digest, and the minute check for jobs whose worker died.
``rapport jobs list|run|sweep``: see, start and tidy jobs from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rapport.cli import EXIT_OK, UsageError, out, viewer


def cmd_worker(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.db import connections

    import importlib

    from rapport.jobs.queue import describe, huey

    importlib.import_module("rapport.jobs.tasks")  # puts the tasks and the schedule on the queue

    if huey.immediate:
        raise UsageError("RAPPORT_QUEUE_IMMEDIATE is on: every job runs where it is asked, so a worker has nothing to do.")
    workers = args.workers or int(str(settings.HUEY.get("workers") or 1))
    if workers < 1:
        raise UsageError("--workers takes a number of 1 or more.")
    # Forked worker processes must not share the connection this process opened to prepare the database.
    connections.close_all()
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread" if args.threads else "process", periodic=args.beat,
        check_worker_health=True, health_check_interval=10, flush_locks=args.beat,
    )
    unit = ("thread" if args.threads else "process") + ("" if workers == 1 else ("s" if args.threads else "es"))
    schedule = "with the daily schedule" if args.beat else "without the schedule (another worker runs it)"
    out.print(f"Rapport's worker: {workers} {unit}, {schedule}; queue in {describe(huey)}  (Ctrl+C stops it)", markup=False)
    consumer.run()
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from rapport.jobs import selectors

    user = viewer(args.user)
    rows = [
        {"id": j.pk, "kind": j.kind, "status": j.status, "user": j.user.get_username() if j.user else None,
         "progress": [j.progress_done, j.progress_total], "created_at": j.created_at.isoformat(),
         "finished_at": j.finished_at.isoformat() if j.finished_at else None, "result": j.result, "error": j.error}
        for j in selectors.recent_jobs(user, limit=args.limit)
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return EXIT_OK
    for row in rows:
        tail = row["error"] or (json.dumps(row["result"], sort_keys=True) if row["result"] else "")
        out.print(f"{row['id']:>6}  {row['created_at'][:19]}  {row['kind']:<17} {row['status']:<8} {row['user'] or '-':<12} {tail}", markup=False)
    if not rows:
        out.print("No background jobs yet.", markup=False)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from rapport.jobs import services
    from rapport.jobs.kinds import kind_of
    from rapport.jobs.models import Kind

    kind = args.kind_name.replace("-", "_")
    job_kind = kind_of(kind)
    user = viewer(args.user) if (job_kind.needs_user or args.user) else None
    params = {"kind": args.card_kind} if kind == Kind.DEDUP_SCAN else {}
    if args.here:
        job = services.run_here(kind=kind, user=user, params=params)
        print(json.dumps({"id": job.pk, "status": job.status, "result": job.result, "error": job.error_text}, sort_keys=True))
        return EXIT_OK if job.status == "done" else 1
    job = services.enqueue(kind=kind, user=user, params=params)
    out.print(f"Job {job.pk} is waiting for the worker (rapport worker).", markup=False)
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from rapport.jobs import services

    out.print(f"{services.sweep()} jobs whose worker died were marked failed.", markup=False)
    return EXIT_OK


# The kinds a person may start here (imports start from `rapport import` or the web); the
# same values as ``rapport.jobs.models.Kind``, spelled out because Django is not set up yet.
RUNNABLE = ("dedup-scan", "segments-refresh", "funnel-rules", "agenda-remind", "agenda-digest")


def register(subparsers: Any, command: Any) -> None:
    worker = command("worker", cmd_worker, "Run background jobs (imports, duplicate scans, refreshes) and the daily schedule.")
    worker.add_argument("--workers", type=int, default=None, metavar="N",
                        help="jobs run side by side (default: RAPPORT_WORKER_PROCESSES, else 2)")
    worker.add_argument("--threads", action="store_true", help="run them in threads of one process rather than in processes")
    worker.add_argument("--beat", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the daily schedule and the check for dead jobs (default); "
                             "with several workers, give --no-beat to all but one")
    jobs = subparsers.add_parser("jobs", help="Background jobs: list them, start one, fail those whose worker died.")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    listing = command("list", cmd_list, "The newest background jobs a user may see.", jobs_sub)
    listing.add_argument("--user", metavar="USERNAME", help="whose view (default: the first administrator)")
    listing.add_argument("--limit", type=int, default=20, metavar="N")
    listing.add_argument("--json", action="store_true", help="print JSON")
    run = command("run", cmd_run, "Put a job on the queue now (or run it here with --here).", jobs_sub)
    run.add_argument("kind_name", metavar="KIND", choices=RUNNABLE, help=", ".join(RUNNABLE))
    run.add_argument("--user", metavar="USERNAME", help="who asks (a duplicate search looks at the cards this user sees)")
    run.add_argument("--card-kind", choices=["person", "organization"], default="person", help="for dedup-scan")
    run.add_argument("--here", action="store_true", help="run it in this process and wait for the end")
    command("sweep", cmd_sweep, "Mark failed the running jobs whose worker died (the worker does it every minute).", jobs_sub)
