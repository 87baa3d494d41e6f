"""A job put on the queue runs, reports its progress and ends done with its counts; a passing
error is tried again; any other error fails the job with a message its reader understands."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from rapport.core.errors import ValidationError
from rapport.jobs import kinds, services
from rapport.jobs.models import Job, Status


@pytest.fixture
def fake_kind(monkeypatch: Any) -> Any:
    """Replaces the segment refresh runner by ``run`` for one test."""

    def use(run: Any, retry: bool = True) -> None:
        monkeypatch.setitem(kinds.KINDS, "segments_refresh", kinds.JobKind(run, retry=retry))

    return use


def test_a_queued_job_runs_after_commit_and_ends_done_with_its_counts(users: Any, make_org: Any, django_capture_on_commit_callbacks: Any) -> None:
    make_org(name="Distribuidora Norte")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enqueue(kind="segments_refresh", user=users["admin"])
        assert Job.objects.get(pk=job.pk).status == Status.QUEUED  # not before the commit
    job.refresh_from_db()
    assert job.status == Status.DONE
    assert job.result["cards"] == 1
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.started_at is not None and job.finished_at is not None and job.attempts == 1


def test_progress_reported_by_the_runner_is_on_the_job_while_it_runs(users: Any, fake_kind: Any) -> None:
    seen: list[tuple[int, int | None]] = []

    def run(job: Job, report: Any) -> dict[str, Any]:
        for done in (1, 2):
            report(done, 4)
            current = Job.objects.get(pk=job.pk)
            seen.append((current.progress_done, current.progress_total))
        assert current.status == Status.RUNNING
        return {"cards": 4}

    fake_kind(run)
    job = services.run_here(kind="segments_refresh")
    # The first report is written at once; the next within the same second waits.
    assert seen[0] == (1, 4)
    assert job.status == Status.DONE and job.progress_done == 4 and job.percent == 100


def test_a_passing_database_error_puts_the_job_back_and_the_retry_finishes_it(
    users: Any, fake_kind: Any, immediate_queue: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    calls: list[int] = []

    def run(job: Job, report: Any) -> dict[str, Any]:
        calls.append(job.attempts)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return {"cards": 0}

    fake_kind(run)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enqueue(kind="segments_refresh", user=users["admin"])
    job.refresh_from_db()
    assert job.status == Status.QUEUED and "tried again" in job.error
    retries = immediate_queue.read_schedule(_far_future())
    assert len(retries) == 1 and retries[0].retries == 2  # three tries by default, one used
    retry = retries[0]
    # Waits RAPPORT_JOB_RETRY_DELAY seconds, and twice as long before the next retry.
    assert job.started_at is not None
    assert (retry.eta - job.started_at.replace(tzinfo=None)).total_seconds() >= 14 and retry.retry_delay == 30
    immediate_queue.execute(retry, timestamp=retry.eta)
    job.refresh_from_db()
    assert job.status == Status.DONE and job.attempts == 2 and job.error == "" and calls == [1, 2]


def test_a_job_that_must_not_repeat_fails_at_once_on_a_passing_error(users: Any, fake_kind: Any, immediate_queue: Any,
                                                                      django_capture_on_commit_callbacks: Any) -> None:
    def run(job: Job, report: Any) -> dict[str, Any]:
        raise OperationalError("database is locked")

    fake_kind(run, retry=False)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enqueue(kind="segments_refresh", user=users["admin"])
    job.refresh_from_db()
    assert job.status == Status.FAILED and "unexpected error" in job.error
    assert immediate_queue.read_schedule(_far_future()) == []


def test_a_failed_job_keeps_its_message_and_shows_it_in_the_readers_language(users: Any, fake_kind: Any) -> None:
    def run(job: Job, report: Any) -> dict[str, Any]:
        raise ValidationError.single("kind", "Expected organizations or people.")

    fake_kind(run)
    job = services.run_here(kind="segments_refresh")
    assert job.status == Status.FAILED and job.error == "kind: Expected organizations or people."

    crashed = services.run_here(kind="segments_refresh", params={})
    Job.objects.filter(pk=crashed.pk).update(error=services.DIED_MESSAGE)
    users["admin"].language = "es"
    users["admin"].save(update_fields=["language"])
    client = Client()
    client.force_login(users["admin"])
    page = client.get(f"/jobs/{crashed.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "The worker running this job stopped" not in text
    assert "se detuvo" in text


def test_an_unexpected_error_is_logged_and_the_user_reads_a_plain_sentence(users: Any, fake_kind: Any, caplog: Any) -> None:
    def run(job: Job, report: Any) -> dict[str, Any]:
        raise KeyError("tier_a")

    fake_kind(run)
    job = services.run_here(kind="segments_refresh")
    assert job.status == Status.FAILED
    assert job.error == "The job ended with an unexpected error; the server log has the details."
    assert "tier_a" in caplog.text


def test_a_job_already_taken_is_not_run_a_second_time(users: Any, fake_kind: Any) -> None:
    calls: list[int] = []

    def run(job: Job, report: Any) -> dict[str, Any]:
        calls.append(job.pk)
        return {}

    fake_kind(run)
    job = services.run_here(kind="segments_refresh")
    services.execute(job.pk, retries_left=3)  # the queue delivered it twice
    assert calls == [job.pk]


def _far_future() -> Any:
    import datetime as dt

    return dt.datetime(2999, 1, 1)
