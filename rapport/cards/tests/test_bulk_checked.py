"""Rows checked ahead (``Loader.check``, the importer's worker) load exactly like the rows themselves."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from rapport.accounts.models import User
from rapport.cards.bulk import Checked, Loader, bulk_create_cards
from rapport.cards.models import Card
from rapport.core.errors import ValidationError


def _person(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "person", "given_name": "Ana", "family_name": f"Ruiz {n}", "phones": [f"+34 699 {n:06d}"],
        "emails": [f"ana{n}@example.es"], "external_id": f"a-{n}",
        "facts": [{"item": "birth_date", "value": "1980-04-12", "source": "import", "note": f"row {n}"}], **extra,
    }


def _cards() -> list[tuple[Any, ...]]:
    return [
        (c.display_name, c.external_id, c.completeness, {k: {f: v for f, v in e.items() if f not in ("f", "at")}
                                                        for k, e in c.profile.items()},
         [p.e164 for p in c.phones.all()], [e.address for e in c.emails.all()])
        for c in Card.objects.order_by("external_id")
    ]


def _errors_of(rows: list[Any], user: User, loader: Loader | None = None) -> list[tuple[int, dict[str, list[str]]]]:
    errors: list[tuple[int, dict[str, list[str]]]] = []

    def on_error(index: int, exc: ValidationError) -> None:
        errors.append((index, exc.errors))

    bulk_create_cards(user=user, rows=rows, on_error=on_error, loader=loader)
    return errors


def test_checked_rows_pickled_and_completed_load_the_same_cards_and_errors(users: dict[str, User]) -> None:
    rep = users["rep_ana"]
    rows = [_person(1), _person(2, emails=["not-an-address"]), _person(3), _person(4, given_name="", family_name="")]
    expected_errors = _errors_of([dict(r) for r in rows], rep)
    expected = _cards()
    Card.objects.all().delete()
    loader = Loader(rep)
    loader.warm()
    checked = [loader.check(dict(r)) for r in rows]
    assert [c is not None for c in checked] == [True, False, True, False]
    # A fact added after the check is validated when the row is loaded.
    extra = {"item": "nickname", "value": "Anita", "source": "import", "note": "row 3"}
    third = checked[2]
    assert third is not None
    third.row["facts"].append(extra)
    sent = pickle.loads(pickle.dumps([c if c is not None else dict(r) for c, r in zip(checked, rows)]))
    assert _errors_of(sent, rep, loader) == expected_errors
    added = _cards()
    Card.objects.all().delete()
    plain = [dict(r) for r in rows]
    plain[2]["facts"] = [*plain[2]["facts"], extra]
    _errors_of(plain, rep)
    assert added == _cards() != expected


def test_a_fact_added_after_the_check_that_fails_is_named_like_in_an_unchecked_row(users: dict[str, User]) -> None:
    rep = users["rep_ana"]
    loader = Loader(rep)
    checked = loader.check(_person(1))
    assert isinstance(checked, Checked)
    checked.row["facts"].append({"item": "birth_date", "value": "1980-02-30", "source": "import", "note": "x"})
    errors = _errors_of([checked], rep, loader)
    assert [index for index, _ in errors] == [0]
    assert list(errors[0][1]) == ["rows[0].facts[1].value"]
    assert not Card.objects.exists()


def test_a_loader_made_for_another_user_is_refused(users: dict[str, User]) -> None:
    with pytest.raises(ValueError):
        bulk_create_cards(user=users["rep_ana"], rows=[_person(1)], loader=Loader(users["admin"]))
