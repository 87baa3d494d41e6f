"""A running job whose worker died (no heartbeat for RAPPORT_JOB_DEAD_AFTER_SECONDS) is failed by
the worker's minute sweep, with the import it was running, without anyone looking at it; a job
whose worker is alive keeps beating and is left alone."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.utils import timezone

from rapport.jobs import services, tasks
from rapport.jobs.models import Job, Status


def test_the_sweep_fails_a_running_job_whose_heartbeat_stopped(queued: Any, settings: Any) -> None:
    settings.RAPPORT_JOB_DEAD_AFTER_SECONDS = 60
    old = timezone.now() - dt.timedelta(seconds=61)
    dead = queued(status=Status.RUNNING, started_at=old, heartbeat_at=old)
    alive = queued(status=Status.RUNNING, started_at=old, heartbeat_at=timezone.now() - dt.timedelta(seconds=20))
    waiting = queued(status=Status.QUEUED)
    assert services.sweep() == 1
    dead.refresh_from_db()
    assert dead.status == Status.FAILED and dead.finished_at is not None
    assert dead.error == services.DIED_MESSAGE
    assert Job.objects.get(pk=alive.pk).status == Status.RUNNING
    assert Job.objects.get(pk=waiting.pk).status == Status.QUEUED
    assert services.sweep() == 0


def test_a_killed_import_is_marked_failed_by_the_sweep_not_only_when_someone_opens_it(
    users: Any, queued: Any, tmp_path: Any, settings: Any,
) -> None:
    from rapport.imports import services as imports
    from rapport.imports.models import ImportJob
    from rapport.imports.models import Status as ImportStatus

    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")
    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name\nAna,Ruiz\n", encoding="utf-8")
    import_job = imports.create_job(user=users["rep_ana"], path=path, file_name="people.csv", kind="person")
    # Claimed and started a minute and a half ago: well inside the imports' own 10-minute allowance.
    started = timezone.now() - dt.timedelta(seconds=95)
    ImportJob.objects.filter(pk=import_job.pk).update(status=ImportStatus.RUNNING, started_at=started, progress_at=started)
    job = queued(kind="import", ref=import_job.pk, status=Status.RUNNING, started_at=started, heartbeat_at=started)

    assert tasks.sweep_dead_jobs.call_local() == 1

    import_job.refresh_from_db()
    job.refresh_from_db()
    assert import_job.status == ImportStatus.FAILED and "Import the same file again to resume it" in import_job.message
    assert job.status == Status.FAILED and "Import the same file again" in job.error


def _running_import(users: Any, tmp_path: Any, settings: Any, *, quiet_for: dt.timedelta) -> Any:
    from rapport.imports import services as imports
    from rapport.imports.models import ImportJob
    from rapport.imports.models import Status as ImportStatus

    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")
    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name\nAna,Ruiz\n", encoding="utf-8")
    import_job = imports.create_job(user=users["rep_ana"], path=path, file_name="people.csv", kind="person")
    last_batch = timezone.now() - quiet_for
    ImportJob.objects.filter(pk=import_job.pk).update(
        status=ImportStatus.RUNNING, started_at=last_batch, progress_at=last_batch,
    )
    return import_job


def test_a_command_line_import_whose_process_was_killed_is_marked_failed_by_the_sweep(
    users: Any, tmp_path: Any, settings: Any,
) -> None:
    from rapport.imports.models import Status as ImportStatus

    # Run by `rapport import`: no job of the queue, so no heartbeat; its last batch is 11 minutes old.
    killed = _running_import(users, tmp_path, settings, quiet_for=dt.timedelta(minutes=11))

    assert tasks.sweep_dead_jobs.call_local() == 1

    killed.refresh_from_db()
    assert killed.status == ImportStatus.FAILED and killed.finished_at is not None
    assert "Import the same file again to resume it" in killed.message
    assert services.sweep() == 0


def test_a_slow_import_whose_worker_still_beats_is_left_running_by_the_sweep(
    users: Any, queued: Any, tmp_path: Any, settings: Any,
) -> None:
    from rapport.imports.models import Status as ImportStatus

    settings.RAPPORT_JOB_DEAD_AFTER_SECONDS = 60
    slow = _running_import(users, tmp_path, settings, quiet_for=dt.timedelta(minutes=11))
    queued(kind="import", ref=slow.pk, status=Status.RUNNING, started_at=slow.started_at,
           heartbeat_at=timezone.now() - dt.timedelta(seconds=5))
    recent = _running_import(users, tmp_path, settings, quiet_for=dt.timedelta(minutes=2))

    assert services.sweep() == 0

    slow.refresh_from_db()
    recent.refresh_from_db()
    assert slow.status == ImportStatus.RUNNING and recent.status == ImportStatus.RUNNING


def test_the_sweep_runs_every_minute_on_the_schedule() -> None:
    from rapport.jobs.queue import huey

    moments = [dt.datetime(2026, 12, 4, 22, minute) for minute in range(3)]
    assert all(tasks.sweep_dead_jobs.name in {t.name for t in huey.read_periodic(m)} for m in moments)


@pytest.mark.django_db(transaction=True)
def test_a_running_job_beats_its_heartbeat_from_the_worker(users: Any, settings: Any, immediate_queue: Any) -> None:
    settings.RAPPORT_JOB_HEARTBEAT_SECONDS = 1
    immediate_queue.immediate = False  # as in the worker: a thread keeps the heartbeat going
    start = timezone.now() - dt.timedelta(minutes=5)
    job = Job.objects.create(kind="segments_refresh", status=Status.RUNNING, started_at=start, heartbeat_at=start)
    try:
        with services._heartbeat(job.pk):
            time.sleep(2.5)  # one long statement: no progress written meanwhile
    finally:
        immediate_queue.immediate = True
    job.refresh_from_db()
    assert job.heartbeat_at is not None and timezone.now() - job.heartbeat_at < dt.timedelta(seconds=3)
    assert services.sweep() == 0


def test_jobs_that_ended_a_quarter_ago_are_pruned_and_recent_or_unfinished_ones_kept(queued: Any) -> None:
    now = timezone.now()
    old = queued(status=Status.DONE, finished_at=now - dt.timedelta(days=91))
    old_failure = queued(status=Status.FAILED, finished_at=now - dt.timedelta(days=200))
    recent = queued(status=Status.DONE, finished_at=now - dt.timedelta(days=89))
    waiting = queued(status=Status.QUEUED)
    assert tasks.prune_old_jobs.call_local() == 2
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not Job.objects.filter(pk__in=[old.pk, old_failure.pk]).exists()
