"""What a job says about itself: the exact row of a bad byte, values left out, a killed run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.utils import timezone

from rapport.cards.models import Card
from rapport.imports import services
from rapport.imports.models import ImportJob, Status
from rapport.imports.tests.conftest import errors_of


def test_a_bad_byte_is_reported_at_its_own_row(run: Any) -> None:
    # Beyond the part read to detect the encoding (256 kB), a byte that is not UTF-8.
    good = "".join(f"Empresa número {i},retail\r\n" for i in range(12_000))
    job = run(b"Company,Industry\r\n" + good.encode() + b"Caf\xe9 Bar,retail\r\n" + b"Otra,retail\r\n", kind="organizations")
    assert job.status == Status.FAILED
    assert "Data row 12001 (line 12002) is not valid utf-8 text" in job.message
    assert Card.objects.count() == job.created_count == 12_000


def test_a_bad_byte_in_a_utf16_file_is_reported_at_its_own_row(run: Any) -> None:
    text = "Company,Industry\r\nFrutas SL,retail\r\nVerduras SA,retail\r\n".encode("utf-16")
    broken = text + b"\x00\xd8" + "X,retail\r\n".encode("utf-16-le")  # a lone surrogate code unit
    job = run(broken, kind="organizations")
    assert job.status == Status.FAILED and "Data row 3" in job.message
    assert job.created_count == 2


def test_values_left_out_are_counted_and_the_error_file_agrees(run: Any) -> None:
    job = run("Empresa,Teléfono,Sector\r\nFrutas SL,912 345 678,retail\r\nVerduras SA,bad,retail\r\n", kind="organizations")
    assert (job.created_count, job.error_count, job.left_out_count) == (2, 0, 1)
    assert job.problem_count == len(errors_of(job)) == 1
    assert ImportJob.objects.get(pk=job.pk).left_out_count == 1


def test_the_api_reports_values_left_out(run: Any, users: Any) -> None:
    from rapport.privacy.tests.factories import api_client

    job = run("Empresa,Teléfono\r\nVerduras SA,bad\r\nFrutas SL,also bad\r\n", kind="organizations")
    answer = api_client(users["rep_ana"]).get(f"/api/v1/imports/{job.pk}").json()
    assert (answer["errors"], answer["values_left_out"]) == (0, 2)


def test_a_killed_job_is_marked_failed_instead_of_running_forever(users: Any, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text("Company\r\nFrutas SL\r\n", encoding="utf-8")
    job = services.create_job(user=users["rep_ana"], path=path, file_name="orgs.csv", kind="organizations")
    long_ago = timezone.now() - dt.timedelta(hours=2)
    ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, started_at=long_ago, progress_at=long_ago)
    fresh = services.create_job(user=users["rep_ana"], path=path, file_name="orgs.csv", kind="organizations")
    ImportJob.objects.filter(pk=fresh.pk).update(status=Status.RUNNING, started_at=timezone.now(), progress_at=timezone.now())
    seen = services.get_job(users["rep_ana"], job.pk)
    assert seen.status == Status.FAILED and "stopped before the end" in seen.message and seen.finished_at
    # A run that wrote a batch a moment ago is still running.
    assert ImportJob.objects.get(pk=fresh.pk).status == Status.RUNNING


def test_a_new_import_ends_the_jobs_left_running_by_a_killed_process(users: Any, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text("Company\r\nFrutas SL\r\n", encoding="utf-8")
    job = services.create_job(user=users["rep_ana"], path=path, file_name="orgs.csv", kind="organizations")
    ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, started_at=timezone.now() - dt.timedelta(days=1))
    services.create_job(user=users["rep_ben"], path=path, file_name="orgs.csv", kind="organizations")
    assert ImportJob.objects.get(pk=job.pk).status == Status.FAILED
