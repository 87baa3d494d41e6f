"""Import problems are stored as codes with their values and read in the reader's language:
the web report, the API (code, values and text), the error file and the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from rapport.imports import problems, services
from rapport.imports.models import ImportJob, RowError, Status
from rapport.imports.problems import Problem

FILE = "First Name,Last Name,E-mail Address,Mobile Phone\r\nAna,Ruiz,ana@ruiz,12\r\n"


def test_a_problem_is_stored_as_its_code_and_values_and_reads_in_english_for_old_readers(run: Any) -> None:
    job = run(FILE, region="ES")
    phone = RowError.objects.get(job=job, column="Mobile Phone")
    assert (phone.code, phone.params) == ("phone.not_valid", {"value": "'12'", "regions": "ES"})
    assert phone.reason.startswith("'12' is not a valid phone number for ES")


def test_another_apps_message_is_recognised_as_its_message_id_with_its_values(run: Any) -> None:
    job = run(FILE, region="ES")
    email = RowError.objects.get(job=job, column="E-mail Address")
    assert email.code == problems.MESSAGE
    assert email.params["msgid"] == "%(value)s is not a valid e-mail address: %(reason)s"
    assert email.params["args"]["value"] == "'ana@ruiz'"
    with translation.override("es"):
        assert email.reason_text.startswith("'ana@ruiz' no es")


@pytest.mark.parametrize("language, expected", [
    ("es", "no es un número de teléfono válido"), ("zh-hans", "不是有效的电话号码"), ("ro", "nu este un număr de telefon valid"),
    ("en", "is not a valid phone number"),
])
def test_the_same_stored_problem_reads_in_each_language(run: Any, language: str, expected: str) -> None:
    job = run(FILE, region="ES")
    phone = RowError.objects.get(job=job, column="Mobile Phone")
    with translation.override(language):
        assert expected in phone.reason_text and "'12'" in phone.reason_text


def test_rows_written_before_codes_read_as_they_were_written(run: Any) -> None:
    job = run(FILE, region="ES")
    RowError.objects.create(job=job, row=9, column="X", reason="Some old sentence.", value="v")
    old = RowError.objects.get(row=9)
    with translation.override("es"):
        assert old.reason_text == "Some old sentence."
    assert ImportJob(message="Old failure.").message_text == "Old failure."


def test_the_web_report_and_the_error_file_are_in_the_readers_language(run: Any, ana: Client) -> None:
    job = run(FILE, region="ES")
    page = ana.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "no es un número de teléfono válido para ES" in page
    content = ana.get(f"/imports/{job.pk}/errors.csv", HTTP_ACCEPT_LANGUAGE="es").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["fila", "columna", "motivo", "valor", "resultado"]
    assert any("no es un número de teléfono válido" in r[2] and r[4] == "valor omitido" for r in rows[1:])


def test_the_api_gives_code_values_and_the_text_in_the_request_language(run: Any, users: Any) -> None:
    from rapport.accounts.services import create_token

    job = run(FILE, region="ES")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'], name='t')}")
    answer = api.get(f"/api/v1/imports/{job.pk}/errors", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    phone = next(e for e in answer["items"] if e["column"] == "Mobile Phone")
    assert (phone["code"], phone["params"], phone["value"], phone["row_imported"]) == (
        "phone.not_valid", {"value": "'12'", "regions": "ES"}, "12", True)
    assert "不是有效的电话号码" in phone["reason"]
    assert answer["count"] == 1  # one row with problems


def test_a_failed_job_message_is_a_code_shown_in_the_readers_language(run: Any, users: Any, ana: Client) -> None:
    from rapport.accounts.services import create_token

    broken = "Company,Industry\r\nFrutas SL,retail\r\n" + '"Carnes, unclosed,retail\r\n' + "x,y\r\n" * 60_000
    job = run(broken, kind="organizations")
    assert (job.status, job.message_code) == (Status.FAILED, "csv.structural")
    assert job.message_params["line"] == 3 and job.message_params["row"] == 2
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'], name='t')}")
    answer = api.get(f"/api/v1/imports/{job.pk}", HTTP_ACCEPT_LANGUAGE="ro").json()
    assert answer["message_code"] == "csv.structural" and answer["message"].startswith("Rândul 3 (rândul de date 2)")
    assert "La línea 3 (fila de datos 2)" in ana.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()


def test_the_preview_lists_problems_with_their_codes(users: Any, tmp_path: Path) -> None:
    from rapport.accounts.services import create_token

    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'], name='t')}")
    from django.core.files.uploadedfile import SimpleUploadedFile

    job = api.post("/api/v1/imports", {"file": SimpleUploadedFile("a.csv", FILE.encode()), "region": "ES"}).json()
    preview = api.post(f"/api/v1/imports/{job['id']}/preview", HTTP_ACCEPT_LANGUAGE="es").json()
    found = {p["code"]: p for row in preview["rows"] for p in row["problems"]}
    assert found["phone.not_valid"]["reason"].startswith("'12' no es un número de teléfono válido")
    assert found["message"]["params"]["msgid"].startswith("%(value)s is not a valid e-mail address")


def test_a_dry_run_error_file_is_written_in_the_callers_language(users: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(FILE)
    errors = tmp_path / "errors.csv"
    job = services.create_job(user=users["rep_ana"], path=path, file_name="a.csv", region="ES")
    with translation.override("ro"):
        services.run_import(job=job, dry_run=True, error_file=errors)
    rows = list(csv.reader(io.StringIO(errors.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["rând", "coloană", "motiv", "valoare", "rezultat"]
    assert any("nu este un număr de telefon valid" in r[2] for r in rows[1:])


def test_the_command_line_speaks_the_terminals_language(users: Any, tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    from rapport.cli import main

    path = tmp_path / "a.csv"
    path.write_text(FILE)
    errors = tmp_path / "errors.csv"
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    code = main(["import", str(path), "--user", "rep_ana", "--region", "ES", "--errors", str(errors)])
    out = capsys.readouterr().out
    assert code == 0 and "Importadas 1 filas de a.csv" in out and "números de teléfono no se guardaron" in out
    assert "no es un número de teléfono válido" in errors.read_text(encoding="utf-8-sig")


def test_an_unknown_sentence_is_kept_as_written() -> None:
    text = problems.recognise("Something no catalog holds, 42.")
    assert text == Problem(problems.TEXT, {"text": "Something no catalog holds, 42."})
    assert str(text) == "Something no catalog holds, 42."
    json.dumps(text.params)
