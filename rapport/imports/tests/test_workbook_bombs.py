"""A workbook built to exhaust memory is refused with a clear message before it is expanded."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rapport.cards.models import Card
from rapport.core.errors import ValidationError
from rapport.imports import readers, services


def workbook(path: Path, strings: int, text: int = 40, table: bytes | None = None) -> Path:
    """A one-row sheet whose shared-strings table holds ``strings`` texts of ``text`` characters:
    a few hundred kB on disk, as large as wanted once expanded."""
    book = openpyxl.Workbook()
    book.active.append(["Company", "Industry"])
    book.active.append(["Frutas SL", "retail"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            out.writestr(item, data)
        entry = b"<si><t>" + b"x" * text + b"</t></si>"
        out.writestr("xl/sharedStrings.xml", table or b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main">' + entry * strings + b"</sst>")
    return path


def test_a_shared_strings_table_past_its_expanded_size_is_refused_unread(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_SHARED_STRINGS_BYTES", 2 * 1024 * 1024)
    bomb = workbook(tmp_path / "bomb.xlsx", strings=60_000)  # 3 MB of text in ~20 kB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(readers.FileRejected, match="text table is larger than 2 MB"):
        readers.open_file(bomb)


def test_too_many_shared_strings_are_refused_even_when_the_zip_header_lies(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_SHARED_STRINGS", 10_000)
    bomb = workbook(tmp_path / "bomb.xlsx", strings=10_001, text=1)
    with pytest.raises(readers.FileRejected, match="more than 10,000 different texts"):
        readers.open_file(bomb)


def test_a_part_that_would_inflate_past_its_limit_is_refused(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_MEMBER_BYTES", 1024 * 1024)
    bomb = workbook(tmp_path / "bomb.xlsx", strings=30_000)
    with pytest.raises(readers.FileRejected, match="xl/sharedStrings.xml would inflate to 1 MB: refused"):
        readers.open_file(bomb)


def test_a_workbook_that_needs_more_memory_than_allowed_fails_in_a_child_process(
    tmp_path: Path, settings: Any, monkeypatch: Any
) -> None:
    # 60 MB of texts, within the size limits (the ratio check is the layer before, set aside
    # here); the process that opens it may use 200 MB of address space, of which the
    # interpreter and openpyxl take about 160 MB.
    monkeypatch.setattr(readers, "MAX_XLSX_RATIO", 100_000)
    settings.RAPPORT_IMPORT_MEMORY_MB = 200
    bomb = workbook(tmp_path / "bomb.xlsx", strings=15_000, text=4_000)
    with pytest.raises(readers.FileRejected, match="needs more than 200 MB of memory to open"):
        readers.open_file(bomb)


def test_a_rep_uploading_a_bomb_gets_a_clear_refusal_and_nothing_is_kept(users: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_SHARED_STRINGS_BYTES", 1024 * 1024)
    bomb = workbook(tmp_path / "bomb.xlsx", strings=30_000).read_bytes()
    with pytest.raises(ValidationError) as refused:
        services.receive_upload(user=users["rep_ana"], name="clientes.xlsx", chunks=iter([bomb]))
    assert "text table is larger than 1 MB" in str(refused.value)
    assert list(services.import_folder().iterdir()) == []


def test_an_ordinary_workbook_still_imports(run: Any, tmp_path: Path) -> None:
    job = run(workbook(tmp_path / "ok.xlsx", strings=10).read_bytes(), name="ok.xlsx", kind="organizations")
    assert job.created_count == 1 and Card.objects.get().display_name == "Frutas SL"


def test_a_sheet_declaring_more_cells_than_allowed_is_refused(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_CELLS", 100)
    book = openpyxl.Workbook()
    for i in range(60):
        book.active.append([f"Empresa {i}", "retail"])
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(readers.FileRejected, match="60 rows × 2 columns, more than 100 cells"):
        readers.open_file(tmp_path / "wide.xlsx")


def test_shared_strings_written_with_a_namespace_prefix_are_counted_too(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_SHARED_STRINGS", 1_000)
    table = (b'<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + b"<x:si><x:t>x</x:t></x:si>" * 1_001 + b"</x:sst>")
    path = workbook(tmp_path / "prefixed.xlsx", strings=0, table=table)
    with pytest.raises(readers.FileRejected, match="more than 1,000 different texts"):
        readers.open_file(path)


@pytest.mark.parametrize("language, expected", [("es", "La hoja tiene 60 filas × 2 columnas"), ("zh-hans", "工作表有 60 行 × 2 列"),
                                                ("ro", "Foaia are 60 rânduri × 2 coloane")])
def test_a_refused_workbook_reads_in_the_readers_language(tmp_path: Path, monkeypatch: Any, language: str, expected: str) -> None:
    from django.utils import translation

    from rapport.imports import problems

    monkeypatch.setattr(readers, "MAX_XLSX_CELLS", 100)
    book = openpyxl.Workbook()
    for i in range(60):
        book.active.append([f"Empresa {i}", "retail"])
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(readers.FileRejected) as refused:
        readers.open_file(tmp_path / "wide.xlsx")
    stored = problems.recognise(str(refused.value))
    assert stored.code == problems.MESSAGE
    with translation.override(language):
        assert problems.render(stored.code, stored.params).startswith(expected)
