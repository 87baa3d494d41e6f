"""The visibility policy: who sees which cards and which items on them."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards import selectors, services
from rapport.cards.selectors import CardFilter
from rapport.core.errors import NotFound, ValidationError
from rapport.core.visibility import visible_to


def ids(user: Any) -> set[int]:
    return set(visible_to(user).values_list("id", flat=True))


def test_a_rep_sees_own_and_team_cards_but_not_other_teams(users: dict[str, Any], make_org: Any) -> None:
    mine = make_org(owner="rep_ana", name="Mine")
    teammate = make_org(owner="rep_ben", name="Teammate's")
    other = make_org(owner="rep_bo_other_team", name="Other team's")
    assert ids(users["rep_ana"]) == {mine.id, teammate.id}
    assert ids(users["rep_bo_other_team"]) == {other.id}


def test_a_card_shared_with_a_user_or_team_becomes_visible(users: dict[str, Any], make_org: Any) -> None:
    other = make_org(owner="rep_bo_other_team")
    assert other.id not in ids(users["rep_ana"])
    services.share_card(user=users["rep_bo_other_team"], card=other, with_user=users["rep_ana"])
    assert other.id in ids(users["rep_ana"])
    from rapport.accounts.models import Team

    second = make_org(owner="rep_bo_other_team", name="Second")
    services.share_card(user=users["rep_bo_other_team"], card=second, with_team=Team.objects.get(name="North"))
    assert second.id in ids(users["rep_ben"])


def test_a_manager_sees_what_the_members_of_managed_teams_own(users: dict[str, Any], make_org: Any) -> None:
    north = make_org(owner="rep_ben")
    south = make_org(owner="rep_bo_other_team")
    assert north.id in ids(users["manager_mei"])
    assert south.id not in ids(users["manager_mei"])


def test_admins_and_analysts_see_every_card(users: dict[str, Any], make_org: Any) -> None:
    cards = {make_org(owner="rep_ben").id, make_org(owner="rep_bo_other_team").id}
    assert ids(users["admin"]) == cards
    assert ids(users["analyst_al"]) == cards


def test_get_card_answers_not_found_for_a_card_out_of_reach(users: dict[str, Any], make_org: Any) -> None:
    other = make_org(owner="rep_bo_other_team")
    with pytest.raises(NotFound):
        selectors.get_card(users["rep_ana"], other.id)
    with pytest.raises(NotFound):
        selectors.get_card(users["rep_ana"], "1 OR 1=1")


def test_an_inactive_user_sees_nothing(users: dict[str, Any], make_org: Any) -> None:
    make_org(owner="rep_ana")
    ana = users["rep_ana"]
    ana.is_active = False
    ana.save()
    from rapport.accounts.models import User

    assert ids(User.objects.get(pk=ana.pk)) == set()


def _confidential_item() -> str:
    from rapport.catalog import selectors as catalog

    return next(k for k, i in catalog.items().items() if i.sensitivity == "confidential" and i.applies_to in ("organization", "any") and i.type == "text")


def _special_item() -> str:
    from rapport.catalog import selectors as catalog

    return next(k for k, i in catalog.items().items() if i.sensitivity == "special" and i.type == "text")


def test_confidential_items_are_visible_to_owner_managers_and_admins_only(users: dict[str, Any], make_org: Any) -> None:
    key = _confidential_item()
    card = make_org(owner="rep_ana")
    services.add_fact(user=users["rep_ana"], card=card, item_key=key, value="owes 20k to a competitor", source_key="rep_observation")
    card.refresh_from_db()
    seen = {name: key in {v.item.key for v in selectors.profile_of(users[name], card)} for name in users}
    assert seen == {
        "rep_ana": True,
        "rep_ben": False,
        "rep_bo_other_team": False,
        "manager_mei": True,
        "admin": True,
        "analyst_al": False,
    }


def test_special_items_need_the_sensitive_data_clearance(users: dict[str, Any], make_person: Any) -> None:
    key = _special_item()
    person = make_person(owner="rep_ana")
    with pytest.raises(ValidationError):
        services.add_fact(user=users["rep_ana"], card=person, item_key=key, value="x", source_key="customer_stated")
    ana = users["rep_ana"]
    ana.can_see_special = True
    ana.save()
    consent = {"basis": "explicit_consent", "obtained_at": "2024-01-01", "wording": "I agree that Rapport keeps this."}
    services.add_fact(user=ana, card=person, item_key=key, value="x", source_key="customer_stated", legal_basis=consent)
    person.refresh_from_db()
    assert key in {v.item.key for v in selectors.profile_of(ana, person)}
    assert key not in {v.item.key for v in selectors.profile_of(users["admin"], person)}


def test_filtering_on_an_item_above_clearance_is_refused_like_an_unknown_item(users: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        selectors.list_cards(users["rep_ana"], CardFilter(kind="person", item=_special_item(), value="x"))
    with pytest.raises(ValidationError) as unknown:
        selectors.list_cards(users["rep_ana"], CardFilter(kind="person", item="no_such_item", value="x"))
    assert str(refused.value).replace(_special_item(), "?") == str(unknown.value).replace("no_such_item", "?")


def test_filtering_on_a_confidential_item_only_matches_cards_where_it_is_readable(users: dict[str, Any], make_org: Any) -> None:
    key = _confidential_item()
    own = make_org(owner="rep_ana", name="Own")
    teammate = make_org(owner="rep_ben", name="Teammate")
    for card, user in ((own, "rep_ana"), (teammate, "rep_ben")):
        services.add_fact(user=users[user], card=card, item_key=key, value="same", source_key="rep_observation")
    cards, count = selectors.list_cards(users["rep_ana"], CardFilter(kind="organization", item=key, value="same"))
    assert [c.id for c in cards] == [own.id] and count == 1
