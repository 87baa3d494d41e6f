"""Exports of long lists: written by the background worker, offered on the job's page to the
person who asked for it alone, whole or not at all, and forgotten after a while."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.imports import services
from rapport.imports.models import ExportRecord
from rapport.jobs.models import Job, Status


@pytest.fixture(autouse=True)
def _queue_runs_at_once(settings: Any, tmp_path: Path) -> Iterator[None]:
    from rapport.jobs.queue import huey

    settings.RAPPORT_EXPORT_DIR = str(tmp_path / "exports")
    settings.RAPPORT_EXPORT_INLINE_ROWS = 2
    before = huey.immediate
    huey.immediate = True  # in memory: nothing reaches the real queue file
    yield
    huey.immediate = before


@pytest.fixture
def north(make_person: Any) -> dict[str, Any]:
    return {
        "lucia": make_person(owner="rep_ana", given_name="Lucía", family_name="Martín", phones=["612 345 678"]),
        "bruno": make_person(owner="rep_ben", given_name="Bruno", family_name="Díaz"),
        "carla": make_person(owner="rep_ana", given_name="Carla", family_name="Vidal"),
        "olga": make_person(owner="rep_bo_other_team", given_name="Olga", family_name="Sur"),
    }


def _names(content: bytes) -> set[str]:
    return {row["name"] for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}


def _export_on_the_web(client: Client, capture: Any, **fields: str) -> Any:
    with capture(execute=True):
        return client.post("/exports/people/", {"format": "csv", **fields})


def test_a_long_list_is_exported_in_the_background_and_offered_on_its_page(
    ana: Client, north: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = _export_on_the_web(ana, django_capture_on_commit_callbacks)
    job = Job.objects.get(kind="export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Status.DONE and job.result["rows"] == 3 and job.progress_done == 3
    page = ana.get(f"/jobs/{job.pk}/").content.decode()
    assert "Cards exported: 3." in page and f'href="/exports/files/{job.pk}/"' in page
    assert "exported in the background" in page  # the message that explains the redirect
    download = ana.get(f"/exports/files/{job.pk}/")
    assert download.status_code == 200 and 'filename="rapport-people.csv"' in download["Content-Disposition"]
    assert _names(download.getvalue()) == {"Lucía Martín", "Bruno Díaz", "Carla Vidal"}
    assert ExportRecord.objects.get().rows == 3  # recorded as any export


def test_a_short_list_is_still_downloaded_at_once(ana: Client, north: Any, settings: Any,
                                                  django_capture_on_commit_callbacks: Any) -> None:
    settings.RAPPORT_EXPORT_INLINE_ROWS = 3
    response = _export_on_the_web(ana, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and _names(response.getvalue()) == {
        "Lucía Martín", "Bruno Díaz", "Carla Vidal"}
    assert not Job.objects.exists()


def test_the_filters_of_the_list_go_with_the_export(ana: Client, users: Any, north: Any,
                                                    django_capture_on_commit_callbacks: Any, settings: Any) -> None:
    settings.RAPPORT_EXPORT_INLINE_ROWS = 1
    _export_on_the_web(ana, django_capture_on_commit_callbacks, owner=str(users["rep_ana"].pk))
    job = Job.objects.get(kind="export")
    assert _names(ana.get(f"/exports/files/{job.pk}/").getvalue()) == {"Lucía Martín", "Carla Vidal"}


def test_nobody_but_the_asker_downloads_the_file_not_even_an_administrator(
    ana: Client, users: Any, north: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _export_on_the_web(ana, django_capture_on_commit_callbacks)
    job = Job.objects.get(kind="export")
    for name in ("admin", "manager_mei", "rep_ben", "rep_bo_other_team"):
        other = Client()
        other.force_login(users[name])
        assert other.get(f"/exports/files/{job.pk}/").status_code == 404, name
        assert f"/exports/files/{job.pk}/" not in other.get(f"/jobs/{job.pk}/").content.decode()


def test_an_expired_export_is_refused_and_its_file_forgotten(ana: Client, north: Any,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    _export_on_the_web(ana, django_capture_on_commit_callbacks)
    job = Job.objects.get(kind="export")
    path = services.export_dir() / job.result["file"]
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    Job.objects.filter(pk=job.pk).update(finished_at=three_days_ago)
    response = ana.get(f"/exports/files/{job.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == f"/jobs/{job.pk}/"
    assert "no longer kept" in response.content.decode()
    os.utime(path, (three_days_ago.timestamp(), three_days_ago.timestamp()))
    assert services.forget_old_exports() == 1 and not path.exists()


def test_the_daily_prune_forgets_old_export_files(ana: Client, north: Any, django_capture_on_commit_callbacks: Any) -> None:
    from rapport.jobs import services as jobs

    _export_on_the_web(ana, django_capture_on_commit_callbacks)
    path = services.export_dir() / Job.objects.get(kind="export").result["file"]
    jobs.prune(now=timezone.now() + dt.timedelta(hours=47))
    assert path.exists()
    jobs.prune(now=timezone.now() + dt.timedelta(hours=49))
    assert not path.exists()


def test_a_run_that_fails_half_way_leaves_no_file(ana: Client, north: Any, monkeypatch: Any,
                                                  django_capture_on_commit_callbacks: Any) -> None:
    from rapport.imports import writers

    def broken(self: Any, values: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writers.CsvWriter, "row", broken)
    _export_on_the_web(ana, django_capture_on_commit_callbacks)
    job = Job.objects.get(kind="export")
    assert job.status == Status.FAILED
    assert list(services.export_dir().iterdir()) == []
    assert ana.get(f"/exports/files/{job.pk}/").status_code == 302  # not ready: back to the job's page


def test_the_api_queues_an_export_and_serves_its_file(users: Any, north: Any,
                                                      django_capture_on_commit_callbacks: Any) -> None:
    from rapport.accounts.services import create_token

    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/exports/people?format=xlsx&tier=")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "export" and body["status"] == "queued"
    job = Job.objects.get(pk=body["id"])
    assert job.status == Status.DONE and job.result["rows"] == 3
    download = api.get(f"/api/v1/exports/files/{job.pk}")
    assert download.status_code == 200 and download["Content-Disposition"].endswith('filename="rapport-people.xlsx"')
    assert api.post("/api/v1/exports/people?format=pdf").status_code == 422
    assert api.post("/api/v1/exports/robots?format=csv").status_code == 422
    assert api.get("/api/v1/exports/files/999999").status_code == 404
    assert api.get("/api/v1/exports/files/abc").status_code == 422


def test_the_api_answers_409_while_the_export_waits_for_the_worker(users: Any, north: Any) -> None:
    from rapport.accounts.services import create_token

    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    job_id = api.post("/api/v1/exports/people").json()["id"]  # no commit in the test: the queue never gets it
    response = api.get(f"/api/v1/exports/files/{job_id}")
    assert response.status_code == 409 and "not ready" in response.json()["detail"]


def test_the_export_holds_what_the_asker_may_see_when_it_runs(users: Any, north: Any) -> None:
    from rapport.cards.selectors import CardFilter
    from rapport.jobs import services as jobs

    job = services.queue_export(user=users["rep_bo_other_team"], kind="people", flt=CardFilter(), fmt="csv")
    jobs.execute(job.pk, retries_left=0)
    job.refresh_from_db()
    exported = services.export_file(user=users["rep_bo_other_team"], job=job)
    assert _names(exported.path.read_bytes()) == {"Olga Sur"}


def test_stored_filters_that_are_not_filters_are_ignored_and_a_bad_format_fails_the_job(users: Any, north: Any) -> None:
    from rapport.jobs import services as jobs

    job = Job.objects.create(kind="export", user=users["rep_ana"], params={"kind": "people", "format": "pdf"})
    jobs.execute(job.pk, retries_left=0)
    job.refresh_from_db()
    assert job.status == Status.FAILED and "csv, xlsx or vcard" in job.error
    job = Job.objects.create(kind="export", user=users["rep_ana"],
                             params={"kind": "people", "format": "csv", "filters": {"owner": users["rep_ana"].pk, "drop": 1}})
    jobs.execute(job.pk, retries_left=0)
    job.refresh_from_db()
    assert job.status == Status.DONE and job.result["rows"] == 2
