"""Lists filtered on a catalog item: answered from the current-value index, kept in step with the cards."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards import services
from rapport.cards.selectors import CardFilter, list_cards


def _status(user: Any, card: Any, value: str) -> None:
    services.add_fact(user=user, card=card, item_key="operating_status", value=value, source_key="customer_stated")


def _names(user: Any, **kw: Any) -> list[str]:
    flt = CardFilter(kind="organization", item="operating_status", **kw)
    page, total = list_cards(user, flt, limit=50, count_limit=1000)
    assert total == len(page)
    return [c.display_name for c in page]


@pytest.fixture
def orgs(users: dict[str, Any], make_org: Any) -> dict[str, Any]:
    made = {
        "zeta": make_org(name="Zeta Growing"),
        "alfa": make_org(name="Alfa Growing"),
        "beta": make_org(name="Beta Stable"),
        "south": make_org(owner="rep_bo_other_team", name="South Growing"),
    }
    for key, value in (("zeta", "growing"), ("alfa", "growing"), ("beta", "stable")):
        _status(users["rep_ana"], made[key], value)
    _status(users["rep_bo_other_team"], made["south"], "growing")
    return made


def test_a_list_filtered_on_a_value_is_in_name_order_and_only_visible_cards(users: dict[str, Any], orgs: Any) -> None:
    assert _names(users["rep_ana"], value="growing") == ["Alfa Growing", "Zeta Growing"]
    assert _names(users["admin"], value="growing") == ["Alfa Growing", "South Growing", "Zeta Growing"]
    assert _names(users["rep_bo_other_team"], value="growing") == ["South Growing"]


def test_renaming_a_card_moves_it_in_the_filtered_list(users: dict[str, Any], orgs: Any) -> None:
    services.update_card(user=users["rep_ana"], card=orgs["zeta"], data={"name": "Aaa Growing"})
    assert _names(users["rep_ana"], value="growing") == ["Aaa Growing", "Alfa Growing"]


def test_archiving_and_reassigning_change_the_filtered_list(users: dict[str, Any], orgs: Any) -> None:
    from rapport.accounts.models import Team

    services.archive_card(user=users["rep_ana"], card=orgs["alfa"])
    assert _names(users["rep_ana"], value="growing") == ["Zeta Growing"]
    assert _names(users["rep_ana"], value="growing", archived=True) == ["Alfa Growing"]
    south = Team.objects.get(name="South")
    services.update_card(user=users["admin"], card=orgs["zeta"], data={"owner": users["rep_bo_other_team"].id, "team": south.id})
    assert _names(users["rep_ana"], value="growing") == []
    assert _names(users["rep_bo_other_team"], value="growing") == ["South Growing", "Zeta Growing"]


def test_a_value_that_changes_moves_the_card_between_filtered_lists(users: dict[str, Any], orgs: Any) -> None:
    _status(users["rep_ana"], orgs["beta"], "growing")
    assert _names(users["rep_ana"], value="growing") == ["Alfa Growing", "Beta Stable", "Zeta Growing"]
    assert _names(users["rep_ana"], value="stable") == []


def test_an_owner_filter_combines_with_the_item_filter(users: dict[str, Any], orgs: Any) -> None:
    assert _names(users["admin"], value="growing", owner=users["rep_bo_other_team"].id) == ["South Growing"]


def test_a_filter_on_an_item_plus_a_card_column_still_answers(users: dict[str, Any], orgs: Any) -> None:
    services.update_card(user=users["rep_ana"], card=orgs["alfa"], data={"tier": "A"})
    assert _names(users["rep_ana"], value="growing", tier="A") == ["Alfa Growing"]


def test_a_count_over_the_limit_is_capped(users: dict[str, Any], orgs: Any) -> None:
    page, total = list_cards(users["admin"], CardFilter(kind="organization", item="operating_status", value="growing"), limit=1, count_limit=2)
    assert [c.display_name for c in page] == ["Alfa Growing"] and total == 3


def test_a_confidential_item_filters_only_cards_where_the_user_reads_confidential_items(users: dict[str, Any], make_org: Any) -> None:
    from rapport.catalog import selectors as catalog

    item = next(i for i in catalog.items().values() if i.sensitivity == "confidential" and i.type == "choice" and i.applies_to in ("any", "organization"))
    value = item.choices[0]["key"]
    mine = make_org(name="Mine Confidential")
    bens = make_org(owner="rep_ben", name="Ben Confidential")
    for card, owner in ((mine, "rep_ana"), (bens, "rep_ben")):
        services.add_fact(user=users[owner], card=card, item_key=item.key, value=value, source_key="customer_stated")
    page, _ = list_cards(users["rep_ana"], CardFilter(kind="organization", item=item.key, value=value))
    assert [c.display_name for c in page] == ["Mine Confidential"]
    page, _ = list_cards(users["manager_mei"], CardFilter(kind="organization", item=item.key, value=value))
    assert [c.display_name for c in page] == ["Ben Confidential", "Mine Confidential"]
