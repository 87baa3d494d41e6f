"""The web side: "Look for duplicates now" puts a scan on the queue and shows its page, which
polls while it waits or runs and says what it found; an import started on the web runs as a
background job and its report page still works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import Client

from rapport.jobs.models import Job, Status


def test_the_duplicate_button_queues_a_scan_whose_page_shows_it_waiting(users: Any, ana: Client, make_person: Any) -> None:
    make_person(given_name="María", family_name="García", emails=[{"address": "maria@norte.es"}])
    make_person(given_name="Maria", family_name="Garcia", emails=[{"address": "maria@norte.es"}])
    response = ana.post("/duplicates/scan/", {"kind": "person"})
    job = Job.objects.get(kind="dedup_scan")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Status.QUEUED and job.user == users["rep_ana"] and job.params == {"kind": "person"}
    page = ana.get(f"/jobs/{job.pk}/").content.decode()
    assert "Waiting for the background worker" in page and 'hx-trigger="every 2s"' in page


def test_the_scan_runs_and_its_page_stops_polling_and_links_to_the_queue(users: Any, ana: Client, make_person: Any,
                                                                        django_capture_on_commit_callbacks: Any) -> None:
    make_person(given_name="María", family_name="García", emails=[{"address": "maria@norte.es"}])
    make_person(given_name="Maria", family_name="Garcia", emails=[{"address": "maria@norte.es"}])
    with django_capture_on_commit_callbacks(execute=True):
        ana.post("/duplicates/scan/", {"kind": "person"})
    job = Job.objects.get(kind="dedup_scan")
    assert job.status == Status.DONE and job.result == {"found": 1, "new": 1}
    fragment = ana.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" not in fragment and "<html" not in fragment
    assert "Likely duplicate pairs found: 1, new in the queue: 1." in fragment
    assert "/duplicates/?kind=person" in fragment


def test_an_analyst_cannot_start_a_scan(users: Any) -> None:
    client = Client()
    client.force_login(users["analyst_al"])
    client.post("/duplicates/scan/", {"kind": "person"})
    assert not Job.objects.exists()


def test_an_import_started_on_the_web_runs_as_a_background_job(users: Any, ana: Client, settings: Any, tmp_path: Path,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    from rapport.imports import services as imports
    from rapport.imports.models import ImportJob
    from rapport.imports.models import Status as ImportStatus

    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = True
    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name,email\nAna,Ruiz,ana@ruiz.es\nLuis,Gómez,luis@gomez.es\n", encoding="utf-8")
    import_job = imports.create_job(user=users["rep_ana"], path=path, file_name="people.csv", kind="person")
    with django_capture_on_commit_callbacks(execute=True):
        imports.start(user=users["rep_ana"], job=import_job)
        assert ImportJob.objects.get(pk=import_job.pk).status == ImportStatus.RUNNING  # claimed in the request
    job = Job.objects.get(kind="import")
    import_job.refresh_from_db()
    assert import_job.status == ImportStatus.DONE and import_job.created_count == 2
    assert job.status == Status.DONE and job.ref == import_job.pk and job.user == users["rep_ana"]
    assert job.result["created"] == 2 and job.progress_done == 2
    report = ana.get(f"/imports/{import_job.pk}/")
    assert report.status_code == 200 and "Cards created:" in report.content.decode()
    assert f"/imports/{import_job.pk}/" in ana.get(f"/jobs/{job.pk}/").content.decode()


def test_an_import_still_on_the_queue_waits_for_the_worker_instead_of_reading_as_stopped(
    users: Any, ana: Client, settings: Any, tmp_path: Path
) -> None:
    import datetime as dt

    from django.utils import timezone

    from rapport.imports import services as imports
    from rapport.imports.models import ImportJob

    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = True
    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name\nAna,Ruiz\n", encoding="utf-8")
    import_job = imports.create_job(user=users["rep_ana"], path=path, file_name="people.csv", kind="person")
    imports.start(user=users["rep_ana"], job=import_job)  # no worker takes it: it stays on the queue
    long_ago = timezone.now() - dt.timedelta(hours=1)
    ImportJob.objects.filter(pk=import_job.pk).update(started_at=long_ago, created_at=long_ago)
    page = ana.get(f"/imports/{import_job.pk}/").content.decode()
    assert "Waiting for the background worker" in page and "stopped before the end" not in page
    Job.objects.filter(kind="import").update(status=Status.RUNNING)  # taken, then silent for an hour
    page = ana.get(f"/imports/{import_job.pk}/").content.decode()
    assert "Waiting for the background worker" not in page and "stopped before the end" in page
