"""CSV and XLSX exports keep phone numbers re-importable (no apostrophe before "+34…") while
every cell a spreadsheet would run stays neutralised."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest

from rapport.cards.selectors import CardFilter
from rapport.imports import services
from rapport.imports.writers import safe_cell


def export(user: Any, fmt: str = "csv") -> bytes:
    stream = io.BytesIO()
    services.export_cards(user=user, kind="people", flt=CardFilter(), fmt=fmt, stream=stream, channel="test")
    return stream.getvalue()


def test_exported_phones_have_no_apostrophe_in_csv_or_xlsx(users: Any, make_person: Any) -> None:
    make_person(given_name="Lucía", family_name="Martín", phones=["612 345 678", "+34 911 234 567"])
    row = next(csv.DictReader(io.StringIO(export(users["rep_ana"]).decode("utf-8-sig"))))
    assert row["phones"] == "+34612345678; +34911234567"
    book = openpyxl.load_workbook(io.BytesIO(export(users["rep_ana"], fmt="xlsx")))
    header = [c.value for c in book.active[1]]
    cell = book.active[2][header.index("phones")]
    assert (cell.value, cell.data_type) == ("+34612345678; +34911234567", "s")


def test_an_exported_file_is_imported_back_with_its_phones(users: Any, make_person: Any, run: Any) -> None:
    make_person(given_name="Lucía", family_name="Martín", phones=["612 345 678"], emails=["lucia@x.es"])
    content = export(users["rep_ana"]).decode("utf-8-sig").replace(",rep_ana,", ",rep_ben,")
    job = run(content.replace("Lucía", "Lucia"), user="rep_bo_other_team", on_duplicate="create")
    assert (job.created_count, job.phones_left_out, job.error_count) == (1, 0, 0)
    from rapport.cards.models import Card

    card = Card.objects.get(owner=users["rep_bo_other_team"])
    assert [p.e164 for p in card.phones.all()] == ["+34612345678"]


@pytest.mark.parametrize("cell", [
    "=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "+34612345678+cmd|x", "+34 612 345 678",
    "+34612345678;=1+1", "+SUM(1)", "-1", "\tx", "\rx",
])
def test_formula_cells_stay_neutralised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["+34612345678", "+34612345678; +34911234567", "+12125550100;+447911123456"])
def test_international_phone_numbers_are_written_as_they_are(cell: str) -> None:
    assert safe_cell(cell) == cell
