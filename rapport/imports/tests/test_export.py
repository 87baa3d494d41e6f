"""Exports: only what the user may see, safe in a spreadsheet, and recorded."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
import vobject

from rapport.cards import services as cards
from rapport.cards.selectors import CardFilter
from rapport.core.errors import ValidationError
from rapport.imports import services
from rapport.imports.models import ExportRecord


def export(user: Any, fmt: str = "csv", kind: str = "people", **filters: Any) -> bytes:
    stream = io.BytesIO()
    services.export_cards(user=user, kind=kind, flt=CardFilter(**filters), fmt=fmt, stream=stream, channel="test")
    return stream.getvalue()


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def people(users: Any, make_person: Any) -> dict[str, Any]:
    users["rep_ana"].can_see_special = True
    users["rep_ana"].save()
    ana = make_person(owner="rep_ana", given_name="Lucía", family_name="Martín", phones=["612 345 678"], emails=["lucia@x.es"])
    cards.add_fact(user=users["rep_ana"], card=ana, item_key="nickname", value="Lu", source_key="rep_observation")
    cards.add_fact(user=users["rep_ana"], card=ana, item_key="health", value="Asthma", source_key="customer_stated",
                    legal_basis={"basis": "explicit_consent", "obtained_at": "2024-03-01", "wording": "I agree."})
    cards.add_fact(user=users["rep_ana"], card=ana, item_key="birth_date", value="1980-04-12", source_key="customer_stated")
    ben = make_person(owner="rep_ben", given_name="Bruno", family_name="Díaz")
    cards.add_fact(user=users["rep_ben"], card=ben, item_key="nickname", value="Bru", source_key="rep_observation")
    bo = make_person(owner="rep_bo_other_team", given_name="Olga", family_name="Sur")
    return {"ana": ana, "ben": ben, "bo": bo}


def test_a_rep_exports_only_the_cards_they_can_see(users: Any, people: Any) -> None:
    rows = rows_of(export(users["rep_ben"]))
    assert {r["name"] for r in rows} == {"Lucía Martín", "Bruno Díaz"}


def test_items_above_the_clearance_have_no_column_at_all(users: Any, people: Any) -> None:
    analyst = rows_of(export(users["analyst_al"]))
    assert len(analyst) == 3
    assert "item:nickname" not in analyst[0] and "item:health" not in analyst[0]
    assert "item:birth_date" in analyst[0]
    ben = rows_of(export(users["rep_ben"]))
    assert "item:health" not in ben[0]
    # Ben reads confidential items on his own card, not on his teammate's.
    by_name = {r["name"]: r for r in ben}
    assert by_name["Bruno Díaz"]["item:nickname"] == "Bru" and by_name["Lucía Martín"]["item:nickname"] == ""
    ana = {r["name"]: r for r in rows_of(export(users["rep_ana"]))}
    assert ana["Lucía Martín"]["item:health"] == "Asthma"


def test_cells_a_spreadsheet_would_run_are_neutralised(users: Any, make_org: Any) -> None:
    make_org(name='=HYPERLINK("http://evil","click")', industry="@SUM(1+1)")
    row = rows_of(export(users["rep_ana"], kind="organizations"))[0]
    assert row["name"] == "'=HYPERLINK(\"http://evil\",\"click\")" and row["industry"] == "'@SUM(1+1)"
    book = openpyxl.load_workbook(io.BytesIO(export(users["rep_ana"], fmt="xlsx", kind="organizations")))
    cells = {c.value: c.data_type for c in book.active[2]}
    assert "'=HYPERLINK(\"http://evil\",\"click\")" in cells
    assert all(kind != "f" for kind in cells.values())


def test_the_xlsx_export_has_a_header_and_one_row_per_card(users: Any, people: Any) -> None:
    book = openpyxl.load_workbook(io.BytesIO(export(users["rep_ana"], fmt="xlsx")))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "external_id", "name") and len(rows) == 3


def test_the_vcard_export_is_valid_vcard_4(users: Any, people: Any) -> None:
    text = export(users["rep_ana"], fmt="vcard").decode()
    parsed = list(vobject.readComponents(text))
    assert len(parsed) == 2
    lucia = next(c for c in parsed if c.fn.value == "Lucía Martín")
    assert lucia.version.value == "4.0"
    assert lucia.tel.value == "tel:+34612345678" and lucia.email.value == "lucia@x.es"
    assert lucia.bday.value == "19800412" and lucia.nickname.value == "Lu"
    assert "Asthma" not in text  # special items never go into a vCard


def test_list_filters_narrow_the_export(users: Any, people: Any) -> None:
    assert [r["name"] for r in rows_of(export(users["rep_ana"], q="bru"))] == ["Bruno Díaz"]
    assert [r["name"] for r in rows_of(export(users["rep_ana"], item="birth_date"))] == ["Lucía Martín"]


def test_every_export_is_recorded(users: Any, people: Any) -> None:
    export(users["rep_ben"], q="lu")
    record = ExportRecord.objects.get()
    assert (record.user, record.kind, record.format, record.rows, record.filters) == (users["rep_ben"], "person", "csv", 1, {"q": "lu"})


def test_every_export_is_in_the_audit_log_with_its_rows_and_sensitive_items(users: Any, people: Any) -> None:
    from rapport.audit.models import AuditEntry

    export(users["rep_ana"])
    entry = AuditEntry.objects.filter(action="export").get()
    assert entry.actor_id == users["rep_ana"].id
    assert entry.detail["rows"] == 2 and "health" in entry.detail["items"]


@pytest.mark.parametrize("change, field", [({"fmt": "pdf"}, "format"), ({"kind": "deals"}, "kind"), ({"segment": 3}, "segment")])
def test_bad_export_requests_name_the_field(users: Any, change: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"user": users["rep_ana"], "kind": "people", "flt": CardFilter(), "fmt": "csv",
                                 "stream": io.BytesIO()}
    arguments.update(change)
    with pytest.raises(ValidationError) as caught:
        services.export_cards(**arguments)
    assert field in caught.value.errors
    assert ExportRecord.objects.count() == 0


def test_an_export_reimports_as_the_same_cards(users: Any, people: Any, run: Any) -> None:
    content = export(users["rep_ana"])
    job = run(content.replace(b"Bruno", b"Bruno Jr."), name="export.csv")
    # The id column of the export names the cards: the rows update them.
    assert (job.created_count, job.updated_count) == (0, 2)
    people["ben"].refresh_from_db()
    assert people["ben"].given_name == "Bruno Jr."


def test_an_export_of_a_segment_holds_only_its_members_the_user_can_see(users: Any, make_person: Any) -> None:
    from rapport.cards.services import update_card
    from rapport.segments.models import Segment

    tier_a = make_person(given_name="Ana", family_name="Alta")
    make_person(given_name="Bea", family_name="Baja")
    hidden = make_person(owner="rep_bo_other_team", given_name="Olga", family_name="Alta")
    for card, owner in ((tier_a, "rep_ana"), (hidden, "rep_bo_other_team")):
        update_card(user=users[owner], card=card, data={"tier": "A"})
    segment = Segment.objects.create(name="A", kind="person", owner=users["rep_ana"], conditions=[{"field": "tier", "value": ["A"]}])
    stream = io.BytesIO()
    services.export_cards(user=users["rep_ana"], kind="people", flt=CardFilter(), fmt="csv", stream=stream, segment=segment.id)
    assert [r["name"] for r in rows_of(stream.getvalue())] == ["Ana Alta"]


def test_an_export_of_someone_elses_private_segment_is_refused(users: Any, make_person: Any) -> None:
    from rapport.segments.models import Segment

    make_person(given_name="Ana", family_name="Alta")
    segment = Segment.objects.create(name="Bo's", kind="person", owner=users["rep_bo_other_team"], conditions=[])
    with pytest.raises(ValidationError) as caught:
        services.export_cards(user=users["rep_ana"], kind="people", flt=CardFilter(), fmt="csv", stream=io.BytesIO(), segment=segment.id)
    assert "segment" in caught.value.errors
