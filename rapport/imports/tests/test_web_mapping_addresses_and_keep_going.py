"""The web mapping page: a vCard lists the fields its cards hold (addresses mapped, not
"ignore"), Google's numbered addresses keep their target, and "keep going" reaches the run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.cards.models import Card
from rapport.imports.models import ImportJob, Status

CORPORA = Path("/work/shared/corpora")
VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Ruiz;Ana;;;\r\nFN:Ana Ruiz\r\nORG:Talleres Ruiz\r\nTITLE:Gerente\r\n"
    "TEL;TYPE=CELL:+34 612 345 678\r\nADR;TYPE=HOME:;;Calle Mayor 1;Madrid;;28001;Spain\r\n"
    "ADR;TYPE=WORK:;;Polígono Sur 4;Getafe;;28901;ES\r\nEND:VCARD\r\n"
)


def upload(client: Client, content: bytes, name: str) -> ImportJob:
    response = client.post("/imports/", {"file": SimpleUploadedFile(name, content), "kind": ""})
    assert response.status_code == 302, response.content
    return ImportJob.objects.latest("id")


def selected(page: str) -> dict[str, str]:
    """Column label -> the target selected for it on the mapping page."""
    found = {}
    for label, select in re.findall(r'<label for="id_col_\d+">([^<]+)</label>.*?(<select.*?</select>)', page, re.S):
        choice = re.search(r'<option value="([^"]*)" selected>', select)
        found[label] = choice.group(1) if choice else ""
    return found


def test_a_vcard_mapping_page_lists_only_the_fields_its_cards_hold(ana: Client) -> None:
    job = upload(ana, VCARD.encode(), "ana.vcf")
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    columns = selected(page)
    # The reader's field names ("phone.1", "address.2.city") are shown in words.
    assert columns == {
        "Given name": "given_name", "Family name": "family_name", "Full name": "full_name", "Organisation": "organization",
        "Job title": "title", "Phone 1": "phone", "Address 1: street": "address:1.street", "Address 1: city": "address:1.city",
        "Address 1: postcode": "address:1.postal_code", "Address 1: country": "address:1.country",
        "Address 2: street": "address:2.street", "Address 2: city": "address:2.city",
        "Address 2: postcode": "address:2.postal_code", "Address 2: country": "address:2.country",
    }
    assert "phone.20" not in page and "email.1" not in page and "address.1" not in page.split("<main", 1)[1].split("<select", 1)[0]


def test_a_vcard_mapping_page_names_the_fields_in_the_readers_language(ana: Client) -> None:
    job = upload(ana, VCARD.encode(), "ana.vcf")
    page = ana.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Teléfono 1" in page and "Dirección 1: ciudad" in page


def test_a_vcard_imported_from_the_web_keeps_its_typed_addresses_and_employer(ana: Client) -> None:
    job = upload(ana, VCARD.encode(), "ana.vcf")
    form = {"kind": "people", "on_duplicate": "skip", "region": "ES", "run": "1"}
    assert ana.post(f"/imports/{job.pk}/", form).status_code == 302
    person = Card.objects.get(kind="person")
    assert list(person.addresses.values_list("kind", "city", "country")) == [("home", "Madrid", "ES"), ("office", "Getafe", "ES")]
    assert list(person.employments.values_list("organization__display_name", "title")) == [("Talleres Ruiz", "Gerente")]


def test_google_numbered_addresses_keep_their_target_on_the_web(ana: Client) -> None:
    job = upload(ana, (CORPORA / "csv" / "gmail.csv").read_bytes(), "google.csv")
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    columns = selected(page)
    assert columns["Address 1 - City"] == "address:1.city" and columns["Address 2 - Street"] == "address:2.street"
    assert columns["Organization 1 - Name"] == "organization" and columns["Organization 1 - Title"] == "title"
    form = {"kind": "people", "on_duplicate": "skip", "region": "ES", "run": "1"}
    labels = re.findall(r'<label for="id_col_(\d+)">([^<]+)</label>', page)
    for index, label in labels:
        form[f"col_{index}"] = columns[label]
    assert ana.post(f"/imports/{job.pk}/", form).status_code == 302
    person = Card.objects.get(kind="person")
    assert list(person.addresses.values_list("kind", "city")) == [("home", "home_city"), ("office", "work_city")]


# Row 2 opens a quote never closed: the rest of the file would be one cell past the size limit.
BROKEN = 'First Name,Last Name\r\nAna,Ruiz\r\n"Luis, unclosed,Gil\r\n' + "".join(f"Name{i},Family{i}\r\n" for i in range(300))


@pytest.fixture(autouse=True)
def _small_cells(monkeypatch: Any) -> None:
    from rapport.imports import readers

    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 1_000)


def test_the_keep_going_box_is_explained_and_reaches_the_run(ana: Client) -> None:
    job = upload(ana, BROKEN.encode(), "broken.csv")
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    assert 'name="keep_going"' in page and "quote that is never closed" in page
    form = {"kind": "people", "on_duplicate": "skip", "region": "", "col_0": "given_name", "col_1": "family_name",
            "keep_going": "on", "run": "1"}
    ana.post(f"/imports/{job.pk}/", form)
    job.refresh_from_db()
    assert (job.keep_going, job.status, job.error_count) == (True, Status.DONE, 1)
    assert job.created_count > 1 and Card.objects.filter(given_name="Ana").exists()


def test_without_the_keep_going_box_an_unreadable_line_stops_the_import(ana: Client) -> None:
    job = upload(ana, BROKEN.encode(), "broken.csv")
    form = {"kind": "people", "on_duplicate": "skip", "region": "", "col_0": "given_name", "col_1": "family_name", "run": "1"}
    ana.post(f"/imports/{job.pk}/", form)
    job.refresh_from_db()
    assert (job.keep_going, job.status, job.message_code) == (False, Status.FAILED, "csv.structural")


def test_the_keep_going_box_is_only_offered_for_csv(ana: Client) -> None:
    job = upload(ana, VCARD.encode(), "ana.vcf")
    assert 'name="keep_going"' not in ana.get(f"/imports/{job.pk}/").content.decode()


def test_the_api_sets_keep_going_with_the_mapping(users: Any, tmp_path: Path) -> None:
    from rapport.accounts.services import create_token

    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'], name='t')}")
    response = api.post("/api/v1/imports", {"file": SimpleUploadedFile("b.csv", BROKEN.encode())})
    job = response.json()
    assert job["keep_going"] is False
    answer = api.put(f"/api/v1/imports/{job['id']}/mapping", {"mapping": job["mapping"], "keep_going": True},
                     content_type="application/json")
    assert answer.status_code == 200 and answer.json()["keep_going"] is True
