"""Search: any script, e-mails and phones in any format, prefixes, typos, visibility, ranking."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.search.selectors import search_cards


def names(user: Any, q: str, **kw: Any) -> list[str]:
    return [c.display_name for c in search_cards(user, q, **kw)]


@pytest.fixture
def people(make_person: Any, make_org: Any) -> dict[str, Any]:
    return {
        "maria": make_person(given_name="María José", family_name="Fernández", emails=["mj.fernandez@example.com"], phones=["+34 612 345 678"]),
        "wang": make_person(given_name="Xiaoming", family_name="Wang", local_name="王小明", phones=["+86 138 0013 8000"]),
        "stefan": make_person(given_name="Ștefan", family_name="Popescu", emails=["stefan@firma.ro"]),
        "other": make_person(owner="rep_bo_other_team", given_name="María", family_name="Fernández"),
        "org": make_org(name="Ferretería Hermanos Fernández"),
    }


def test_it_finds_names_regardless_of_accents_and_case(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert "María José Fernández" in names(users["rep_ana"], "maria fernandez")
    assert "Ștefan Popescu" in names(users["rep_ana"], "stefan")


def test_it_finds_prefixes(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert "Ștefan Popescu" in names(users["rep_ana"], "pope")


def test_it_tolerates_one_typo(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert "Ștefan Popescu" in names(users["rep_ana"], "popscu")
    assert "María José Fernández" in names(users["rep_ana"], "fernandes")


def test_it_finds_chinese_names_in_hanzi_and_pinyin(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "王小明") == ["Xiaoming Wang"]
    assert "Xiaoming Wang" in names(users["rep_ana"], "wang xiaoming")


@pytest.mark.parametrize("typed", ["612345678", "612 34 56 78", "+34 612-345-678", "0034612345678", "34612345678"])
def test_it_finds_phone_numbers_in_any_format(users: dict[str, Any], people: dict[str, Any], typed: str) -> None:
    assert names(users["rep_ana"], typed) == ["María José Fernández"]


def test_it_finds_e_mail_addresses(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "MJ.Fernandez@example.com") == ["María José Fernández"]


def test_it_never_returns_cards_the_user_cannot_see(users: dict[str, Any], people: dict[str, Any]) -> None:
    found = search_cards(users["rep_ana"], "fernandez")
    assert people["other"].id not in {c.id for c in found}
    assert people["other"].id in {c.id for c in search_cards(users["rep_bo_other_team"], "fernandez")}


def test_exact_matches_rank_above_typos(users: dict[str, Any], make_person: Any) -> None:
    make_person(given_name="Ana", family_name="Garcio")
    make_person(given_name="Ana", family_name="Garcia")
    assert names(users["rep_ana"], "garcia")[0] == "Ana Garcia"


def test_an_empty_or_junk_query_returns_nothing(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert search_cards(users["rep_ana"], "") == []
    assert search_cards(users["rep_ana"], "%%%___") == []
    assert search_cards(users["rep_ana"], "x" * 5000) == []


def test_an_archived_card_leaves_the_results_and_returns_when_restored(users: dict[str, Any], people: dict[str, Any]) -> None:
    from rapport.cards.services import archive_card

    ana = users["rep_ana"]
    archive_card(user=ana, card=people["stefan"])
    assert "Ștefan Popescu" not in names(ana, "popescu")
    assert "Ștefan Popescu" in names(ana, "popescu", include_archived=True)
    archive_card(user=ana, card=people["stefan"], archived=False)
    assert "Ștefan Popescu" in names(ana, "popescu")


def test_reassigning_a_card_to_another_team_changes_who_finds_it(users: dict[str, Any], people: dict[str, Any]) -> None:
    from rapport.accounts.models import Team
    from rapport.cards.services import update_card

    card = people["stefan"]
    south = Team.objects.get(name="South")
    update_card(user=users["admin"], card=card, data={"owner": users["rep_bo_other_team"].id, "team": south.id})
    assert "Ștefan Popescu" not in names(users["rep_ana"], "popescu")
    assert "Ștefan Popescu" in names(users["rep_bo_other_team"], "popescu")


def test_a_card_shared_with_a_user_is_found_by_them(users: dict[str, Any], people: dict[str, Any]) -> None:
    from rapport.cards.services import share_card

    assert "María Fernández" not in names(users["rep_ana"], "maria")
    share_card(user=users["rep_bo_other_team"], card=people["other"], with_user=users["rep_ana"])
    assert "María Fernández" in names(users["rep_ana"], "maria")


def test_a_kind_filter_keeps_only_that_kind(users: dict[str, Any], people: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "fernandez", kind="organization") == ["Ferretería Hermanos Fernández"]


def test_every_word_must_match_and_exact_words_rank_before_prefixes(users: dict[str, Any], people: dict[str, Any], make_person: Any) -> None:
    make_person(given_name="Mariana", family_name="Fernándezova")
    ana = users["rep_ana"]
    assert names(ana, "maria fernandez")[0] == "María José Fernández"
    assert "Mariana Fernándezova" in names(ana, "maria fernandez")
    assert names(ana, "maria popescu") == []


@pytest.mark.parametrize("max_names", [400, 2])
def test_a_one_word_search_ranks_as_the_general_scorer_ranks(
    users: dict[str, Any], make_person: Any, make_org: Any, max_names: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-word path (tier by tier: newest per name, then a bounded sort of one index range)
    answers what the scorer of several words (every matching row grouped) answers, in the same
    order, for exact words, prefixes, typos, e-mails and domains, for each role and page size,
    with cards already found skipped; also when a prefix starts too many names to read them one
    by one."""
    import random

    from rapport.search import selectors

    monkeypatch.setattr(selectors, "MAX_NAMES", max_names)

    from rapport.accounts.models import User
    from rapport.search.selectors import _Found, _one_word_matches, _ranked_matches, _scoped_rows, tokens_of

    rng = random.Random(5)
    family = ["Garcia", "Garrido", "Garza", "Gardner", "Marin", "Martin", "Martinez", "Marquez", "Popescu", "Popa"]
    given = ["Garbiñe", "Maria", "Marta", "Pablo", "Ion", "Gara", "Garcia"]
    owners = ["rep_ana", "rep_ben", "rep_bo_other_team", "manager_mei"]
    for i in range(70):
        first, last = rng.choice(given), rng.choice(family)
        make_person(owner=rng.choice(owners), given_name=first, family_name=last,
                    emails=[f"{rng.choice(family).lower()}.{i}@{rng.choice(['garcia.es', 'mar.ro', 'x.com'])}"] if i % 3 else [])
    for i in range(15):
        make_org(owner=rng.choice(owners), name=f"{rng.choice(family)} Hermanos {i}", website=f"https://{rng.choice(family).lower()}{i}.es")
    queries = ["ga", "gar", "garc", "garcia", "gardne", "mar", "mart", "martinez", "marquez", "popesku", "martn", "p", "x", "ion", "garcia.1@"]
    checked = 0
    for username in ["rep_ana", "manager_mei", "admin", "rep_bo_other_team"]:
        user = User.objects.get(username=username)
        found = _Found.of(_scoped_rows(user, None, False))
        for query in queries:
            (token,) = tokens_of(query)
            everything = _ranked_matches(found, [token], 100, set())
            for limit in (1, 3, 7, 20, 100):
                for skip in (set(), set(everything[:2]), set(everything[1::3])):
                    expected = _ranked_matches(found, [token], limit, skip)
                    assert _one_word_matches(found, token, limit, skip) == expected, (username, query, limit, sorted(skip))
                    checked += bool(expected)
    assert checked > 300


def test_a_search_follows_a_change_of_teams_and_a_new_share_at_once(users: dict[str, Any], make_person: Any) -> None:
    """The visibility condition a search compiles is kept per scope; a user whose teams change,
    or who is given a share, searches with the new scope on the next request."""
    from rapport.accounts.models import Team, User
    from rapport.cards.services import share_card

    bos = make_person(owner="rep_bo_other_team", given_name="Quintiliano", family_name="Zubizarreta")
    shared = make_person(owner="rep_bo_other_team", given_name="Quintina", family_name="Zubiri")
    ana = User.objects.get(pk=users["rep_ana"].pk)
    assert names(ana, "zubi") == []
    share_card(user=users["admin"], card=shared, with_user=ana)
    assert names(User.objects.get(pk=ana.pk), "zubi") == ["Quintina Zubiri"]
    User.objects.get(pk=ana.pk).teams.add(bos.team or Team.objects.get(members=users["rep_bo_other_team"]))
    assert sorted(names(User.objects.get(pk=ana.pk), "zubi")) == ["Quintiliano Zubizarreta", "Quintina Zubiri"]
    User.objects.get(pk=ana.pk).teams.clear()
    assert names(User.objects.get(pk=ana.pk), "zubi") == ["Quintina Zubiri"]


@pytest.mark.parametrize("query, expected", [
    ("%", []), ("_", []), ("'", []), ("\\", []), ('"', []), ("\uffff", []), ("zz\uffffzz", []), ("a" * 199, []),
    ("ga%", ["Gara Garcia"]), ("%ga", ["Gara Garcia"]), ("o'ne", ["Oscar O'Neill"]), ("oneill", ["Oscar O'Neill"]),
    ("g_r", []), ("gar'", ["Gara Garcia"]),
])
def test_a_one_word_query_of_odd_characters_is_read_as_its_letters(
    users: dict[str, Any], make_person: Any, query: str, expected: list[str]
) -> None:
    """Characters SQL or LIKE would read as wildcards or quotes are not wildcards to the search:
    a query of them alone finds nothing, one with letters finds what its letters find, and none
    fails."""
    make_person(given_name="Gara", family_name="Garcia")
    make_person(given_name="Oscar", family_name="O'Neill")
    assert names(users["admin"], query) == expected
