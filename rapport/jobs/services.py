"""Background jobs: putting one on the queue, running it in the worker with a heartbeat and
progress, and failing the jobs whose worker died.

A job's row is written before it is queued and the queue carries only its id, so the web
pages show a job the moment it is asked for, and the queue holds no customer data.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from rapport.core.errors import DomainError, ValidationError
from rapport.jobs.kinds import kind_of
from rapport.jobs.models import Job, Kind, Status

if TYPE_CHECKING:
    from rapport.accounts.models import User

log = logging.getLogger(__name__)

# Stored in English and translated when shown: the sweep runs in no one's language.
DIED_MESSAGE = gettext_noop(
    "The worker running this job stopped before the end (it was restarted or killed). Start the job again."
)
IMPORT_DIED_MESSAGE = gettext_noop(
    "The import stopped before the end (its worker was restarted or killed). Import the same file again to "
    "resume it: rows with an external id update the cards already imported. Or revert what it did."
)
UNEXPECTED_MESSAGE = gettext_noop("The job ended with an unexpected error; the server log has the details.")
RETRYING_MESSAGE = gettext_noop("A passing error (the database or the network was busy): it will be tried again.")


class Transient(Exception):
    """An error that may not happen on a second try; raised by a runner to ask for a retry."""


# Errors worth another try: the database busy or gone for a moment, the network.
TRANSIENT = (Transient, OperationalError, InterfaceError, ConnectionError, TimeoutError)


def enqueue(*, kind: str, user: User | None = None, params: dict[str, Any] | None = None, ref: int | None = None) -> Job:
    """Records a job and puts it on the queue once the caller's transaction commits (the worker
    must find the row and whatever the job works on)."""
    job_kind = kind_of(kind)
    if job_kind.needs_user and user is None:
        raise ValidationError.single("user", "This job runs for a user.")
    job = Job.objects.create(kind=kind, user=user, params=params or {}, ref=ref)
    transaction.on_commit(lambda: _put_on_queue(job.pk))
    return job


def _put_on_queue(job_id: int) -> None:
    from rapport.jobs.tasks import run_job

    run_job(job_id)


def run_here(*, kind: str, user: User | None = None, params: dict[str, Any] | None = None) -> Job:
    """Records a job and runs it in this process at once: the schedule's runs (already inside
    the worker) and ``rapport jobs run --here``."""
    kind_of(kind)
    job = Job.objects.create(kind=kind, user=user, params=params or {})
    execute(job.pk, retries_left=0)
    job.refresh_from_db()
    return job


def execute(job_id: int, *, retries_left: int) -> None:
    """Runs one job: claims it, beats its heartbeat while it runs and records how it ended.

    A passing error with ``retries_left`` puts the job back to waiting and raises, so that the
    queue runs it again later; any other error fails the job with a message its reader
    understands, and does not raise (the queue must not retry it).
    """
    claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), attempts=F("attempts") + 1, error="",
    )
    if not claimed:
        return  # gone, or already run (a queue may deliver a message twice)
    job = Job.objects.select_related("user").get(pk=job_id)
    job_kind = kind_of(job.kind)
    language = (job.user.language if job.user else "") or settings.LANGUAGE_CODE
    with translation.override(language), _heartbeat(job.pk):
        try:
            result = job_kind.run(job, _reporter(job.pk))
        except TRANSIENT as exc:
            if job_kind.retry and retries_left > 0:
                log.warning("job %s (%s) will be retried: %s", job.pk, job.kind, exc)
                Job.objects.filter(pk=job.pk).update(status=Status.QUEUED, error=RETRYING_MESSAGE)
                raise
            log.exception("job %s (%s) failed", job.pk, job.kind)
            _fail(job, gettext(UNEXPECTED_MESSAGE))
        except DomainError as exc:
            _fail(job, str(exc))
        except Exception:
            log.exception("job %s (%s) failed", job.pk, job.kind)
            _fail(job, gettext(UNEXPECTED_MESSAGE))
        else:
            Job.objects.filter(pk=job.pk).update(
                status=Status.DONE, result=_plain(result), finished_at=timezone.now(), error="",
                progress_done=Coalesce(F("progress_total"), F("progress_done")),
            )


def _plain(result: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in result.items() if isinstance(v, (int, float, str, bool)) or v is None}


def _fail(job: Job, message: str) -> None:
    if job.kind == Kind.IMPORT and job.ref is not None:
        from rapport.imports import services as imports

        imports.fail_killed_run(import_job_id=job.ref, message=message)
    Job.objects.filter(pk=job.pk).update(status=Status.FAILED, error=message[:2000], finished_at=timezone.now())


def _reporter(job_id: int) -> Any:
    """Writes progress at most once a second (an import reports every batch)."""
    last = [0.0]

    def report(done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and (total is None or done < total):
            return
        last[0] = now
        Job.objects.filter(pk=job_id).update(progress_done=done, progress_total=total, heartbeat_at=timezone.now())

    return report


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """Moves the job's ``heartbeat_at`` every few seconds from a thread of the worker, so a job
    busy inside one long statement still shows it is alive; no heartbeat means no worker.

    Not in immediate mode: the job runs inside its caller, which cannot die without it."""
    from rapport.jobs.queue import huey

    interval = settings.RAPPORT_JOB_HEARTBEAT_SECONDS
    if huey.immediate or interval <= 0:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    Job.objects.filter(pk=job_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
                except DatabaseError:  # busy for a moment: the next beat will do
                    log.warning("job %s: heartbeat not written", job_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def sweep(*, now: dt.datetime | None = None) -> int:
    """Fails the running jobs whose heartbeat stopped (their worker was killed or the machine
    restarted) and the imports they were running, and the imports run outside the worker (the
    command line) that wrote no batch for longer than any batch takes; returns how many. Run
    every minute by the worker's schedule, so nobody has to look at a job for it to be ended."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.RAPPORT_JOB_DEAD_AFTER_SECONDS)
    dead = list(Job.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).values_list("pk", "kind", "ref"))
    failed = 0
    for pk, kind, ref in dead:
        with transaction.atomic():
            message = IMPORT_DIED_MESSAGE if kind == Kind.IMPORT else DIED_MESSAGE
            # Checked again in the update: a late heartbeat means the worker is alive after all.
            if not Job.objects.filter(pk=pk, status=Status.RUNNING, heartbeat_at__lt=cutoff).update(
                status=Status.FAILED, error=message, finished_at=timezone.now(),
            ):
                continue
            if kind == Kind.IMPORT and ref is not None:
                from rapport.imports import services as imports

                imports.fail_killed_run(import_job_id=ref)
            failed += 1
    if failed:
        log.warning("%d background jobs lost their worker and were marked failed", failed)
    # An import run from the command line (or by a server that ran it in its request) has no
    # job of its own: it is ended by the imports' own allowance between batches.
    from rapport.imports import services as imports

    stalled = imports.fail_stalled_jobs()
    if stalled:
        log.warning("%d imports stopped writing batches and were marked failed", stalled)
    return failed + stalled


KEEP_FINISHED = dt.timedelta(days=90)  # a finished job's page is history after a quarter


def prune(*, now: dt.datetime | None = None) -> int:
    """Deletes the jobs that ended more than ``KEEP_FINISHED`` ago and the files of expired
    exports (daily, by the schedule); returns how many jobs. The imports they ran keep their
    own records and reports."""
    from rapport.imports import services as imports

    imports.forget_old_exports(now=now)  # the files of exports are kept for hours, not a quarter
    cutoff = (now or timezone.now()) - KEEP_FINISHED
    deleted, _ = Job.objects.filter(status__in=(Status.DONE, Status.FAILED), finished_at__lt=cutoff).delete()
    return deleted


def forget_connections() -> None:
    """Before and after each job in the worker: no connection left over from a fork or broken.
    Not in immediate mode, where the job runs inside its caller's connection and transaction."""
    from rapport.jobs.queue import huey

    if not huey.immediate:
        close_old_connections()
