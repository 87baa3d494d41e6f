"""The card picker: a field naming other customers is filled by typing a name, never a card
number; it offers only cards the user may see and keeps what was already chosen."""

from __future__ import annotations

from typing import Any

from django.test import Client

URL = "/cards/choices/"


def choose(client: Client, query: str, *, field: str = "referred", chosen: list[int] | None = None, kind: str = "",
           multiple: bool = True) -> Any:
    return client.post(URL, {"picker": "ref-1", "field": field, "kind": kind, "multiple": "1" if multiple else "0",
                             "ref-1-q": query, field: [str(c) for c in chosen or []]})


def test_typing_a_name_offers_the_matching_cards_the_user_may_see(ana: Client, make_person: Any, make_org: Any) -> None:
    mine = make_person(given_name="Lucía", family_name="Marín")
    theirs = make_person(owner="rep_bo_other_team", given_name="Lucía", family_name="Marín Sur")
    org = make_org(name="Marín Hermanos SL")
    html = choose(ana, "marin").content.decode()
    assert f'value="{mine.id}"' in html and f'value="{org.id}"' in html and "· organisation" in html
    assert f'value="{theirs.id}"' not in html and "Marín Sur" not in html


def test_what_was_chosen_stays_chosen_when_the_search_changes(ana: Client, make_person: Any) -> None:
    first = make_person(given_name="Ana", family_name="Ruiz")
    second = make_person(given_name="Bruno", family_name="Soto")
    html = choose(ana, "soto", chosen=[first.id]).content.decode()
    assert html.index(f'<option value="{first.id}" selected>') < html.index(f'<option value="{second.id}">')


def test_a_hidden_or_unknown_chosen_card_is_dropped_not_shown(ana: Client, make_person: Any) -> None:
    hidden = make_person(owner="rep_bo_other_team", given_name="Olga", family_name="Sur")
    html = choose(ana, "", chosen=[hidden.id, 999999]).content.decode()
    assert "Olga" not in html and f'<option value="{hidden.id}"' not in html and "999999" not in html


def test_a_single_picker_keeps_one_card_and_offers_none(ana: Client, make_person: Any) -> None:
    a = make_person(given_name="Ana", family_name="Ruiz")
    b = make_person(given_name="Berta", family_name="Ruiz")
    html = choose(ana, "", chosen=[a.id, b.id], multiple=False).content.decode()
    assert '<option value="">—</option>' in html and f'value="{a.id}" selected' in html and f'value="{b.id}"' not in html


def test_a_kind_narrows_the_choices(ana: Client, make_person: Any, make_org: Any) -> None:
    person = make_person(given_name="Vidal", family_name="Ruiz")
    org = make_org(name="Vidal SA")
    html = choose(ana, "vidal", kind="organization").content.decode()
    assert f'value="{org.id}"' in html and f'value="{person.id}"' not in html


def test_bad_picker_names_and_kinds_are_refused(ana: Client) -> None:
    for fields in ({"picker": "x\"><script>", "field": "f"}, {"picker": "p", "field": "f f"}, {"picker": "p", "field": "f", "kind": "robot"}):
        response = ana.post(URL, fields)
        assert response.status_code == 400 and b"<script>" not in response.content
    assert ana.get(URL).status_code == 405

