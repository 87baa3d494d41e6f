"""The queue's tasks and the daily schedule, run by ``rapport worker``.

One task runs any job by its id (``services.execute``); the schedule records and runs the
nightly and morning jobs, and every minute fails the jobs whose worker died. Times come from
``RAPPORT_SCHEDULE`` (HH:MM in ``TIME_ZONE``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from huey import crontab
from huey.api import Task

from rapport.jobs import services
from rapport.jobs.models import Kind
from rapport.jobs.queue import daily_at, huey


@huey.task(
    retries=settings.RAPPORT_JOB_RETRIES, retry_delay=settings.RAPPORT_JOB_RETRY_DELAY, retry_backoff=2, context=True,
)
def run_job(job_id: int, task: Task | None = None) -> None:
    services.forget_connections()
    try:
        services.execute(job_id, retries_left=task.retries if task is not None else 0)
    finally:
        services.forget_connections()


def _scheduled(kind: str) -> Any:
    """A periodic task that records and runs a job of ``kind`` at its time of day. The lock keeps
    two workers started with the schedule from running the same job side by side; a lock left
    by a killed worker is cleared when the worker with the schedule starts (``flush_locks``)."""
    lock = huey.lock_task(f"schedule-{kind}")

    def run() -> None:
        services.forget_connections()
        try:
            with lock:
                services.run_here(kind=kind)
        finally:
            services.forget_connections()

    run.__name__ = f"scheduled_{kind}"
    return huey.periodic_task(daily_at(settings.RAPPORT_SCHEDULE.get(kind, "")), name=f"scheduled_{kind}")(run)


scheduled_funnel_rules = _scheduled(Kind.FUNNEL_RULES)
scheduled_segments_refresh = _scheduled(Kind.SEGMENTS_REFRESH)
scheduled_agenda_remind = _scheduled(Kind.AGENDA_REMIND)
scheduled_agenda_digest = _scheduled(Kind.AGENDA_DIGEST)


@huey.periodic_task(crontab(minute="*"), name="sweep_dead_jobs")
def sweep_dead_jobs() -> int:
    services.forget_connections()
    try:
        return services.sweep()
    finally:
        services.forget_connections()


@huey.periodic_task(crontab(minute="15", hour="4"), name="prune_old_jobs")
def prune_old_jobs() -> int:
    services.forget_connections()
    try:
        return services.prune()
    finally:
        services.forget_connections()
