"""Background jobs: what putting a job on the queue costs the web request, and how fast a real
``rapport worker`` empties the queue.

    python -m bench.jobs [--db sqlite|postgres] [--queue sqlite|redis] [--jobs 200] [--workers 2]

The jobs are the nightly funnel rules with no order evidence: a job that does almost nothing,
so the figures are the queue's and the worker's own cost (a row written, the message put on
the queue, taken, claimed, run, recorded). The job rows are written while no worker runs; the
worker is then started and timed until the last job is done.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--queue", choices=["sqlite", "redis"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    name = f"jobs-{args.db}-{args.queue}"
    os.environ["RAPPORT_QUEUE_NAME"] = f"bench-{os.getpid()}"
    if args.queue == "redis":
        os.environ["RAPPORT_QUEUE_URL"] = "redis://127.0.0.1:6379/14"
    else:
        os.environ.pop("RAPPORT_QUEUE_URL", None)
    os.environ.pop("RAPPORT_QUEUE_IMMEDIATE", None)
    common.setup(name, db=args.db)

    from django.db import connections

    from rapport.jobs import services
    from rapport.jobs.models import Job, Status

    samples: list[float] = []
    for _ in range(args.jobs):
        ms, _job = common.timed(lambda: services.enqueue(kind="funnel_rules"))
        samples.append(ms)
    connections.close_all()

    script = Path(sys.executable).with_name("rapport")
    started = time.perf_counter()
    worker = subprocess.Popen([str(script), "worker", "--workers", str(args.workers), "--no-beat"], env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while Job.objects.filter(status__in=(Status.QUEUED, Status.RUNNING)).exists():
            if time.perf_counter() - started > 300:
                raise SystemExit("the worker did not finish within 5 minutes")
            time.sleep(0.05)
        drained = time.perf_counter() - started
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    runs = [
        (j.finished_at - j.started_at).total_seconds() * 1000
        for j in Job.objects.filter(status=Status.DONE) if j.started_at and j.finished_at
    ]
    figures: dict[str, Any] = {
        "jobs": args.jobs, "workers": args.workers, "queue": args.queue,
        "enqueue_ms": common.percentiles(samples),
        "run_ms": common.percentiles(runs),
        "drain_seconds_with_worker_start": round(drained, 2),
        "jobs_per_second_with_worker_start": round(args.jobs / drained, 1),
        "done": Job.objects.filter(status=Status.DONE).count(),
        "failed": Job.objects.filter(status=Status.FAILED).count(),
    }
    print(figures, flush=True)
    path = common.write_results(name, parameters=vars(args), figures=figures)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
