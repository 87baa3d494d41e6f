"""A CSV line that is not CSV stops the import there, naming the line, unless asked to go on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rapport.cards.models import Card
from rapport.imports import readers
from rapport.imports.models import Status
from rapport.imports.tests.conftest import errors_of

# Row 3 opens a quote that is never closed: everything after it is one endless cell.
UNCLOSED = (
    "Company,Industry\r\n"
    "Frutas SL,retail\r\n"
    "Verduras SA,retail\r\n"
    '"Carnes, unclosed,retail\r\n'
    + "".join(f"Empresa {i},retail\r\n" for i in range(2_000))
)


def test_an_unclosed_quote_stops_the_import_at_its_line_without_junk_cards(run: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 5_000)  # the swallowed rows pass the cell limit
    job = run(UNCLOSED, kind="organizations")
    assert job.status == Status.FAILED
    assert "Line 4 (data row 3)" in job.message and "quote" in job.message
    # The rows before it were imported, nothing read from inside the broken cell.
    assert sorted(Card.objects.values_list("display_name", flat=True)) == ["Frutas SL", "Verduras SA"]
    assert job.created_count == 2


def test_an_unclosed_quote_at_the_end_of_the_file_stops_there_too(run: Any) -> None:
    job = run('Company,Industry\r\nFrutas SL,retail\r\n"Carnes,retail\r\nVerduras SA,retail\r\n', kind="organizations")
    # The csv module reads to the end of the file inside the quote: either an error naming the
    # line, or one row whose company name holds the rest of the file; never one card per line.
    assert Card.objects.count() <= 2
    assert not Card.objects.filter(display_name="Verduras SA").exists()
    if job.status == Status.FAILED:
        assert "Line 3" in job.message


def test_asked_to_keep_going_the_broken_line_is_one_row_not_imported(run: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 5_000)
    text = "Company,Industry\r\nFrutas SL,retail\r\n\"" + "x" * 6_000 + "\",retail\r\nVerduras SA,retail\r\n"
    job = run(text, kind="organizations", keep_going=True)
    assert job.status == Status.DONE
    assert Card.objects.filter(display_name="Frutas SL").exists()
    assert job.error_count >= 1
    assert any("Line 3 cannot be read as CSV" in reason for _row, _col, reason, _imported in errors_of(job))


def test_the_command_line_names_the_line_and_can_be_told_to_keep_going(users: Any, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    from rapport.cli import main

    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 5_000)
    source = tmp_path / "orgs.csv"
    source.write_text(UNCLOSED, encoding="utf-8")
    code = main(["import", str(source), "--kind", "organizations", "--user", "rep_ana"])
    captured = capsys.readouterr()
    assert code == 1 and "Line 4 (data row 3)" in captured.err
    assert Card.objects.count() == 2
    Card.objects.all().delete()
    code = main(["import", str(source), "--kind", "organizations", "--user", "rep_ana", "--keep-going", "--dry-run"])
    assert code == 0 and "Would import" in capsys.readouterr().out


def test_an_api_upload_can_ask_to_keep_going(users: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rapport.imports.models import ImportJob
    from rapport.privacy.tests.factories import api_client

    api = api_client(users["rep_ana"])
    for flag, expected in (("true", True), ("false", False)):
        upload = SimpleUploadedFile("orgs.csv", b"Company\r\nFrutas SL\r\n", content_type="text/csv")
        answer = api.post("/api/v1/imports", {"file": upload, "kind": "organizations", "keep_going": flag})
        assert answer.status_code == 201, answer.content
        assert ImportJob.objects.get(pk=answer.json()["id"]).keep_going is expected
    upload = SimpleUploadedFile("orgs.csv", b"Company\r\nFrutas SL\r\n", content_type="text/csv")
    assert api.post("/api/v1/imports", {"file": upload, "keep_going": "perhaps"}).status_code == 422
