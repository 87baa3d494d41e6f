"""The import wizard, the export downloads of the list pages, and the REST endpoints."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.cards.models import Card
from rapport.imports.models import ExportRecord, ImportJob, Status

FILE = "First Name,Last Name,E-mail Address,Mobile Phone\r\nLucía,Martín,lucia@x.es,612 345 678\r\nAndrei,Pop,bad-address,+40 721 123 456\r\n"


def upload(client: Client, content: str = FILE, name: str = "clientes.csv") -> ImportJob:
    response = client.post("/imports/", {"file": SimpleUploadedFile(name, content.encode()), "kind": ""})
    assert response.status_code == 302, response.content
    return ImportJob.objects.latest("id")


def test_the_wizard_goes_from_upload_to_report(ana: Client) -> None:
    job = upload(ana)
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    # Step 2: each column with its suggestion preselected.
    assert '<option value="given_name" selected>' in page and '<option value="email" selected>' in page
    form = {"kind": "people", "on_duplicate": "skip", "region": "", "col_0": "given_name", "col_1": "family_name",
            "col_2": "email", "col_3": "phone"}
    preview = ana.post(f"/imports/{job.pk}/", {**form, "preview": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing has been saved yet" in preview
    assert "<strong>E-mail Address</strong>" in preview  # the bad address of row 2, named by its column
    assert Card.objects.count() == 0
    response = ana.post(f"/imports/{job.pk}/", {**form, "run": "1"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count) == (Status.DONE, 2)
    assert job.stored_path and not Path(job.stored_path).exists()  # the uploaded file is gone once imported
    report = ana.get(f"/imports/{job.pk}/").content.decode()
    assert "Download the error file" in report and "Revert this import" in report
    errors = ana.get(f"/imports/{job.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "reason", "value", "outcome"] and rows[1][:2] == ["2", "E-mail Address"]
    ana.post(f"/imports/{job.pk}/revert/")
    assert Card.objects.count() == 0


def test_the_progress_fragment_polls_only_while_running(ana: Client) -> None:
    job = upload(ana)
    ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, rows_read=10)
    assert 'hx-trigger="every 1s"' in ana.get(f"/imports/{job.pk}/progress/").content.decode()
    ImportJob.objects.filter(pk=job.pk).update(status=Status.DONE)
    assert "every 1s" not in ana.get(f"/imports/{job.pk}/progress/").content.decode()


def test_another_users_import_answers_404(ana: Client, users: Any) -> None:
    job = upload(ana)
    ben = Client()
    ben.force_login(users["rep_ben"])
    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/errors.csv", f"/imports/{job.pk}/progress/"):
        assert ben.get(url).status_code == 404
    assert ben.post(f"/imports/{job.pk}/revert/").status_code == 404


def test_an_upload_over_the_size_limit_is_refused_and_nothing_kept(ana: Client, settings: Any, tmp_path: Any) -> None:
    settings.RAPPORT_IMPORT_MAX_BYTES = 1000
    response = ana.post("/imports/", {"file": SimpleUploadedFile("big.csv", b"Name\r\n" + b"x" * 2000)})
    assert response.status_code == 200 and "larger than" in response.content.decode()
    assert ImportJob.objects.count() == 0
    assert not any((tmp_path / "uploads").iterdir())


def test_the_list_page_offers_an_export_of_the_same_filters(ana: Client, make_person: Any) -> None:
    make_person(given_name="Lucía", family_name="Martín")
    make_person(given_name="Bruno", family_name="Díaz")
    page = ana.post("/people/", {"q": "bru"}).content.decode()
    # The export is a form carrying the list's filters in its body, not a link with them in the address.
    assert 'action="/exports/people/"' in page and '<input type="hidden" name="q" value="bru">' in page
    assert "?q=" not in page
    response = ana.post("/exports/people/", {"q": "bru", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(getattr(response, "streaming_content")).decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Bruno Díaz"]
    assert ExportRecord.objects.get().channel == "web"


def test_an_export_link_with_a_name_in_its_address_is_refused_rather_than_widened(ana: Client, make_person: Any) -> None:
    make_person(given_name="Bruno", family_name="Díaz")
    response = ana.get("/exports/people/?q=bru&format=csv")
    assert response.status_code == 400 and "POST" in response.content.decode()
    assert ExportRecord.objects.count() == 0
    assert ana.get("/exports/people/?tier=A&format=csv").status_code == 200  # filters that name no one may be linked


def test_an_export_with_a_filter_it_cannot_read_exports_nothing(ana: Client, make_person: Any) -> None:
    make_person()
    response = ana.get("/exports/people/?owner=999999&format=csv")
    assert response.status_code == 400
    assert ExportRecord.objects.count() == 0


@pytest.fixture
def api(users: Any) -> Client:
    from rapport.accounts.services import create_token

    token = create_token(user=users["rep_ana"], name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_runs_an_import_from_upload_to_revert(api: Client) -> None:
    response = api.post("/api/v1/imports", {"file": SimpleUploadedFile("c.csv", FILE.encode()), "kind": "people"})
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["mapping"]["First Name"] == "given_name" and job["status"] == "uploaded"
    mapping = {**job["mapping"], "Mobile Phone": ""}
    assert api.put(f"/api/v1/imports/{job['id']}/mapping", {"mapping": mapping}, content_type="application/json").status_code == 200
    preview = api.post(f"/api/v1/imports/{job['id']}/preview").json()
    assert [r["action"] for r in preview["rows"]] == ["created", "created"] and Card.objects.count() == 0
    done = api.post(f"/api/v1/imports/{job['id']}/run")
    assert done.status_code == 202 and done.json()["created"] == 2
    assert not Card.objects.filter(phones__isnull=False).exists()  # the phone column was ignored
    assert api.get(f"/api/v1/imports/{job['id']}/errors.csv").status_code == 200
    assert api.post(f"/api/v1/imports/{job['id']}/run").status_code == 412
    assert api.post(f"/api/v1/imports/{job['id']}/revert").json()["deleted"] == 2


def test_the_api_names_bad_input(api: Client) -> None:
    response = api.post("/api/v1/imports", {"file": SimpleUploadedFile("c.csv", FILE.encode()), "kind": "robots",
                                            "mapping": "{not json"})
    assert response.status_code == 422
    response = api.post("/api/v1/imports", {"file": SimpleUploadedFile("c.csv", FILE.encode()), "mapping": '{"Nope": "given_name"}'})
    assert response.status_code == 422 and "mapping.Nope" in response.json()["errors"]
    assert api.get("/api/v1/imports/999999").status_code == 404
    assert api.get("/api/v1/exports/people?format=pdf").status_code == 422
    assert api.get("/api/v1/exports/people?segment=4").status_code == 422
    assert ImportJob.objects.count() == 0


def test_the_api_exports_and_lists_the_records(api: Client, make_org: Any) -> None:
    make_org(name="Frutas SL")
    response = api.get("/api/v1/exports/organizations?format=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    records = api.get("/api/v1/exports").json()
    assert records["count"] == 1 and records["items"][0]["rows"] == 1 and records["items"][0]["channel"] == "api"
