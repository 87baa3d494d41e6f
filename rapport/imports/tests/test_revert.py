"""Reverting a whole import: what it created goes, what it changed comes back."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards import services as cards
from rapport.cards.models import Card, Fact
from rapport.core.errors import Conflict, NotFound
from rapport.imports import services
from rapport.imports.models import Status
from rapport.search.models import Term

FILE = "external_id,First Name,Last Name,Mobile Phone,Birthday\r\nc-1,Lucía,Martín,612 345 678,1980-04-12\r\nc-2,Andrei,Pop,+40 721 123 456,\r\n"


def test_reverting_deletes_the_cards_the_import_created(run: Any, users: Any) -> None:
    job = run(FILE)
    report = services.revert_import(user=users["rep_ana"], job=job)
    assert report.deleted == 2
    assert Card.objects.count() == 0 and Fact.objects.count() == 0 and Term.objects.count() == 0
    job.refresh_from_db()
    assert job.status == Status.REVERTED


def test_reverting_an_update_restores_the_card_and_removes_the_imported_facts(run: Any, users: Any, make_person: Any) -> None:
    card = make_person(given_name="Lucía", family_name="Martín", external_id="c-1", phones=["600 000 000"], industry="retail")
    job = run(FILE.replace("Martín", "Martín López"))
    card.refresh_from_db()
    assert card.family_name == "Martín López" and card.phones.count() == 2 and "birth_date" in card.profile
    report = services.revert_import(user=users["rep_ana"], job=job)
    card.refresh_from_db()
    assert (report.restored, report.deleted) == (1, 1)
    assert card.family_name == "Martín" and card.display_name == "Lucía Martín"
    assert [p.e164 for p in card.phones.all()] == ["+34600000000"]
    assert "birth_date" not in card.profile
    assert not Fact.objects.filter(card=card).exists()


def test_a_card_edited_after_the_import_keeps_the_edit(run: Any, users: Any) -> None:
    job = run(FILE)
    lucia = Card.objects.get(external_id="c-1")
    cards.update_card(user=users["rep_ana"], card=lucia, data={"industry": "retail"})
    report = services.revert_import(user=users["rep_ana"], job=job)
    assert (report.deleted, report.kept) == (1, 1)
    lucia.refresh_from_db()
    assert lucia.industry == "retail" and lucia.archived_at is not None


def test_an_import_is_reverted_once_and_only_by_its_owner_or_an_admin(run: Any, users: Any) -> None:
    job = run(FILE)
    with pytest.raises(NotFound):
        services.get_job(users["rep_ben"], job.pk)
    with pytest.raises(NotFound):
        services.revert_import(user=users["rep_ben"], job=job)
    services.revert_import(user=users["admin"], job=job)
    with pytest.raises(Conflict):
        services.revert_import(user=users["rep_ana"], job=job)


def test_a_killed_import_is_shown_as_stopped_and_can_be_reverted(run: Any, users: Any, ana: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from rapport.imports.models import ImportJob

    job = run(FILE)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, progress_at=long_ago)
    page = ana.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "stopped before the end" in page and "every 1s" not in page
    job.refresh_from_db()
    assert services.revert_import(user=users["rep_ana"], job=job).deleted == 2
    # A run that is merely slow is not revertible while it runs.
    ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, progress_at=timezone.now())
    job.refresh_from_db()
    with pytest.raises(Conflict):
        services.revert_import(user=users["rep_ana"], job=job)
