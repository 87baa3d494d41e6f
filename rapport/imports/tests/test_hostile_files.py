"""Files that are broken or built to hurt: a clear error, bounded memory, nothing half-written."""

from __future__ import annotations

import io
import os
import socket
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rapport.cards.models import Card
from rapport.core.errors import ValidationError
from rapport.imports import readers
from rapport.imports.models import ImportJob, Status
from rapport.imports.tests.conftest import errors_of


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_binary_junk_is_refused_before_anything_is_recorded(users: Any, tmp_path: Path) -> None:
    from rapport.imports import services

    path = tmp_path / "contacts.csv"
    path.write_bytes(os.urandom(200_000))
    with pytest.raises(ValidationError) as caught:
        services.create_job(user=users["rep_ana"], path=path, file_name="contacts.csv")
    assert "file" in caught.value.errors
    assert ImportJob.objects.count() == 0 and Card.objects.count() == 0


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\xef\xbb\xbf\r\n", "empty"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, "not a text file")])
def test_empty_and_non_text_files_say_what_is_wrong(users: Any, tmp_path: Path, content: bytes, message: str) -> None:
    from rapport.imports import services

    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        services.create_job(user=users["rep_ana"], path=path, file_name="x.csv")


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(users: Any, tmp_path: Path) -> None:
    from rapport.imports import services

    path = tmp_path / "x.xlsx"
    path.write_bytes(b"Name\r\nAna\r\n")
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        services.create_job(user=users["rep_ana"], path=path, file_name="x.xlsx")


def test_formula_cells_of_a_csv_are_never_imported(run: Any) -> None:
    text = 'Company,Industry,Website\r\n"=HYPERLINK(""http://evil"",""x"")",retail,\r\nFrutas SL,"+cmd|\' /C calc\'!A0",\r\n'
    job = run(text, kind="organizations")
    assert job.created_count == 1 and job.error_count == 1
    card = Card.objects.get()
    assert (card.display_name, card.industry) == ("Frutas SL", "")
    reasons = {(row, column): reason for row, column, reason, _imported in errors_of(job)}
    assert "formula" in reasons[(1, "Company")] and "formula" in reasons[(2, "Industry")]


def test_formula_cells_of_a_workbook_are_reported_not_evaluated(run: Any) -> None:
    content = xlsx_bytes([["Company", "Industry"], ["Frutas SL", "=1+1"], ["Verduras SA", "retail"]])
    job = run(content, name="orgs.xlsx", kind="organizations")
    assert job.created_count == 2
    assert errors_of(job)[0][:2] == (1, "Industry")
    assert Card.objects.get(display_name="Frutas SL").industry == ""


def test_an_xml_bomb_inside_a_workbook_is_refused(users: Any, tmp_path: Path) -> None:
    from rapport.imports import services

    source = io.BytesIO(xlsx_bytes([["Company"], ["Frutas SL"]]))
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Company</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    )
    target = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as hostile:
        for member in original.infolist():
            data = bomb.encode() if member.filename == "xl/worksheets/sheet1.xml" else original.read(member.filename)
            hostile.writestr(member.filename, data)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(target.getvalue())
    with pytest.raises(ValidationError, match="XML bomb"):
        services.create_job(user=users["rep_ana"], path=path, file_name="bomb.xlsx", kind="organizations")
    assert ImportJob.objects.count() == 0 and Card.objects.count() == 0


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 30_000_000)
    with pytest.raises(readers.FileRejected, match="zip bomb"):
        readers.check_xlsx(path)


def test_a_vcard_photo_uri_is_never_fetched(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the import tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    vcard = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ana Ruiz\r\nN:Ruiz;Ana;;;\r\nPHOTO;VALUE=uri:http://127.0.0.1:9/track.jpg\r\n"
        "EMAIL:ana@ruiz.es\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Luis Gil\r\nN:Gil;Luis;;;\r\nPHOTO;VALUE=URL;TYPE=JPEG:https://example.com/x.jpg\r\n"
        "LOGO;ENCODING=b;TYPE=PNG:!!!not-base64!!!\r\nEND:VCARD\r\n"
    )
    job = run(vcard, name="contacts.vcf")
    assert job.created_count == 2
    assert set(Card.objects.values_list("display_name", flat=True)) == {"Ana Ruiz", "Luis Gil"}


def test_a_vcard_file_with_a_broken_card_imports_the_others(run: Any) -> None:
    vcard = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Ruiz\r\nN:Ruiz;Ana;;;\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nBEGIN:VCARD\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C8=98tefan;Ion;;;\r\nEND:VCARD\r\n"
    )
    job = run(vcard, name="contacts.vcf")
    assert job.created_count == 2
    assert Card.objects.filter(family_name="Ștefan").exists()


def test_a_huge_cell_is_one_bad_row_not_a_crash(run: Any) -> None:
    text = "Company,Industry\r\nFrutas SL,retail\r\n" + '"' + "x" * (readers.MAX_FIELD_CHARS + 10) + '",retail\r\nVerduras SA,retail\r\n'
    job = run(text, kind="organizations", keep_going=True)  # asked to go on past a line that is not CSV
    assert job.status == Status.DONE
    assert Card.objects.filter(display_name__in=["Frutas SL"]).exists()
    assert job.error_count >= 1


def test_a_large_csv_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = "Frutas y Verduras del Norte S.L.,retail,+34 612 345 678,info@frutas-norte.es,Calle Mayor 1,Madrid\r\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Company,Industry,Phone,Email,Street,City\r\n")
        for _ in range(40_000_000 // len(line)):  # 40 MB
            handle.write(line)
    tracemalloc.start()
    opened = readers.open_file(path)
    count = sum(1 for _row in opened.rows)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    opened.close()
    assert count > 400_000
    assert peak < 8_000_000, f"reading peaked at {peak / 1e6:.1f} MB"


def test_a_truncated_utf8_file_fails_clearly_and_keeps_what_was_read(run: Any) -> None:
    # Beyond the part read to detect the encoding, the file stops being UTF-8.
    good = "Company,Industry\r\n" + "".join(f"Empresa número {i},retail\r\n" for i in range(12_000))
    job = run(good.encode() + b"Caf\xe9 \xff\xfe Bar,retail\r\n", kind="organizations")
    assert job.status == Status.FAILED
    assert "not valid utf-8" in job.message
    # The rows before the problem were imported, never the row with the bad byte.
    assert Card.objects.count() == job.created_count
    assert Card.objects.count() % 2000 == 0 and 8000 <= Card.objects.count() <= 12_000


def test_a_contact_with_a_huge_photo_is_imported_without_holding_the_photo(run: Any) -> None:
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "QUJD" * 20 + "\r\n" + "".join(" " + "QUJD" * 18 + "\r\n" for _ in range(60_000))
    vcard = f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Ruiz;Ana;;;\r\nFN:Ana Ruiz\r\n{photo}TEL;TYPE=CELL:+34 612 345 678\r\nEND:VCARD\r\n"
    assert len(vcard) > 4_000_000
    job = run(vcard, name="big-photo.vcf")
    assert job.created_count == 1
    assert Card.objects.get().phones.get().e164 == "+34612345678"


def test_a_file_with_too_many_columns_is_refused(users: Any, tmp_path: Path) -> None:
    from rapport.imports import services

    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(readers.MAX_COLUMNS + 1)) + "\r\n" + "x," * readers.MAX_COLUMNS + "x\r\n")
    with pytest.raises(ValidationError, match="columns"):
        services.create_job(user=users["rep_ana"], path=path, file_name="wide.csv")
