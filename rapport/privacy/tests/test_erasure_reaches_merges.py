"""An erasure reaches the cards merged into the person and every snapshot of them; no undo
brings them back; their name goes from other records that quote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from rapport.cards import services as cards
from rapport.cards.models import Card, Fact
from rapport.dedup import services as dedup
from rapport.dedup.models import Merge
from rapport.privacy import services as privacy
from rapport.privacy.tests.factories import api_client, database_bytes
from rapport.search.selectors import search_cards


@pytest.fixture
def merged(users: dict[str, Any], make_person: Any) -> dict[str, Any]:
    """Zenobia (A) absorbed her duplicate (B) in a merge; B itself had absorbed C earlier."""
    a = make_person(given_name="Zenobia", family_name="Villarreal-Okonkwo", emails=["zenobia@example.org"])
    b = make_person(given_name="Zenobia", family_name="Villareal Okonkwo", phones=["+34 699 555 111"], external_id="OLD-9931")
    c = make_person(given_name="Zenobia", family_name="V. Okonkwo", emails=["zeno.v@example.org"])
    first = dedup.merge_cards(user=users["rep_ana"], survivor=b, loser=c)
    second = dedup.merge_cards(user=users["rep_ana"], survivor=a, loser=b)
    return {"a": a, "b": b, "c": c, "merges": [first, second]}


def test_erasing_a_person_erases_the_cards_merged_into_them(users: dict[str, Any], merged: dict[str, Any]) -> None:
    result = privacy.erase_person(user=users["admin"], card_id=merged["a"].id)
    assert result.summary["merged-away cards"] == 2
    for key in ("a", "b", "c"):
        card = Card.objects.get(pk=merged[key].pk)
        assert (card.display_name, card.given_name, card.family_name, card.external_id) == (privacy.ERASED_NAME, "", "", "")
    for merge in Merge.objects.all():
        assert merge.record == {"erased": True}
    assert search_cards(users["admin"], "Zenobia") == [] or all(
        c.display_name == privacy.ERASED_NAME for c in search_cards(users["admin"], "Zenobia")
    )
    assert search_cards(users["admin"], "Okonkwo") == [] or all(
        c.display_name == privacy.ERASED_NAME for c in search_cards(users["admin"], "Okonkwo")
    )


def test_a_merge_touching_an_erased_card_cannot_be_undone(users: dict[str, Any], merged: dict[str, Any]) -> None:
    privacy.erase_person(user=users["admin"], card_id=merged["a"].id)
    second = merged["merges"][1]
    answer = api_client(users["admin"]).post(f"/api/v1/dedup/merges/{second.pk}/undo")
    assert answer.status_code in (409, 412)
    assert "erased at the person's request" in answer.json()["detail"]
    b = Card.objects.get(pk=merged["b"].pk)
    assert b.archived_at is not None and b.display_name == privacy.ERASED_NAME
    assert Merge.objects.get(pk=second.pk).undone_at is None


@pytest.mark.django_db(transaction=True)
def test_nothing_of_the_merged_away_cards_is_left_in_the_database(users: dict[str, Any], merged: dict[str, Any]) -> None:
    privacy.erase_person(user=users["admin"], card_id=merged["a"].id)
    dump = database_bytes()
    for text in ("Villareal", "Okonkwo", "zenobia@example.org", "zeno.v@example.org", "OLD-9931", "34699555111"):
        assert text.encode() not in dump, text


def test_other_cards_notes_and_activities_lose_the_erased_name(users: dict[str, Any], merged: dict[str, Any], make_person: Any) -> None:
    from rapport.activities.services import log_activity

    friend = make_person(given_name="Ulises", family_name="Marroquín")
    cards.add_fact(user=users["rep_ana"], card=friend, item_key="hobbies", value="Chess",
                   source_key="customer_stated", note="Introduced by Zenobia Villarreal-Okonkwo at the fair")
    log_activity(user=users["rep_ana"], data={"kind": "call", "summary": "Asked about zenobia villarreal-okonkwo",
                                              "cards": [friend.id]})
    privacy.erase_person(user=users["admin"], card_id=merged["a"].id)
    note = Fact.objects.get(card=friend, item__key="hobbies").note
    assert "Zenobia" not in note and "Introduced by" in note and "at the fair" in note
    assert Fact.objects.get(card=friend, item__key="hobbies").value == "Chess"
    from rapport.activities.models import Activity

    assert "zenobia" not in Activity.objects.get(participants__card=friend).summary.lower()


def test_export_filters_and_import_error_rows_lose_the_erased_values(
    users: dict[str, Any], merged: dict[str, Any], tmp_path: Path
) -> None:
    from rapport.imports import services as imports
    from rapport.imports.models import ExportRecord, RowError

    ExportRecord.objects.create(user=users["rep_ana"], kind="people", format="csv", filters={"q": "zenobia villarr"})
    source = tmp_path / "people.csv"
    source.write_text("First Name,Last Name,Mobile Phone\r\nZenobia,Villarreal-Okonkwo,not a phone\r\n", encoding="utf-8")
    job = imports.create_job(user=users["rep_ana"], path=source, file_name="people.csv", kind="person",
                             on_duplicate="create", strict=True)
    imports.run_import(job=job)
    assert RowError.objects.filter(job_id=job.pk).exists()
    privacy.erase_person(user=users["admin"], card_id=merged["a"].id)
    assert "villarr" not in str(ExportRecord.objects.get().filters)
    for error in RowError.objects.filter(job_id=job.pk):
        assert "Okonkwo" not in error.value + error.reason


def test_short_first_names_alone_are_not_scrubbed_from_other_cards(users: dict[str, Any], make_person: Any) -> None:
    ana = make_person(given_name="Ana", family_name="Li")
    other = make_person(given_name="Bruno", family_name="Castellanos")
    cards.add_fact(user=users["rep_ana"], card=other, item_key="hobbies", value="Chess", source_key="customer_stated",
                   note="Banana plantation owner")
    privacy.erase_person(user=users["admin"], card_id=ana.id)
    assert Fact.objects.get(card=other, item__key="hobbies").note == "Banana plantation owner"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite setting")
def test_sqlite_overwrites_deleted_rows(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
