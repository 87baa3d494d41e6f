"""Who a new case may be assigned to: active people of the customer's team and its managers,
the card's owner and the one opening it, never an analyst, by username."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q

from rapport.accounts.models import User
from rapport.accounts.services import create_user
from rapport.aftersales.selectors import case_assignees
from rapport.cards.models import Card

pytestmark = pytest.mark.django_db


def _by_the_orm(user: Any, card: Card) -> list[tuple[int, str]]:
    """The same list as the queryset it is written out from."""
    reach = Q(pk=user.pk) | Q(pk=card.owner_id)
    if card.team_id:
        reach |= Q(teams=card.team_id) | Q(managed_teams=card.team_id)
    return list(
        User.objects.filter(reach, is_active=True).exclude(role="analyst").distinct()
        .order_by("username").values_list("pk", "username")[:200]
    )


def test_it_lists_the_team_its_managers_the_owner_and_oneself(users: dict[str, Any], make_org: Any) -> None:
    card = make_org()
    create_user(username="rep_zoe_gone", role="rep", teams=["North"], password="x", validate=False)
    User.objects.filter(username="rep_zoe_gone").update(is_active=False)
    create_user(username="analyst_north", role="analyst", teams=["North"], password="x", validate=False)
    names = [name for _pk, name in case_assignees(users["admin"], card)]
    assert names == ["admin", "manager_mei", "rep_ana", "rep_ben"]
    assert case_assignees(users["admin"], card) == _by_the_orm(users["admin"], card)
    assert case_assignees(users["rep_ana"], card) == _by_the_orm(users["rep_ana"], card)
    assert case_assignees(users["analyst_al"], card) == _by_the_orm(users["analyst_al"], card)


def test_a_card_without_team_offers_its_owner_and_oneself(users: dict[str, Any], make_org: Any) -> None:
    card = make_org()
    Card.objects.filter(pk=card.pk).update(team=None)
    card.refresh_from_db()
    assert case_assignees(users["rep_bo_other_team"], card) == [(users["rep_ana"].pk, "rep_ana"),
                                                                (users["rep_bo_other_team"].pk, "rep_bo_other_team")]
    assert case_assignees(users["rep_ana"], card) == [(users["rep_ana"].pk, "rep_ana")] == _by_the_orm(users["rep_ana"], card)


def test_an_owner_outside_the_team_is_offered_once(users: dict[str, Any], make_org: Any) -> None:
    card = make_org(owner="rep_bo_other_team")
    Card.objects.filter(pk=card.pk).update(team=users["rep_ana"].teams.get())
    card.refresh_from_db()
    assert [name for _pk, name in case_assignees(users["rep_bo_other_team"], card)] == [
        "manager_mei", "rep_ana", "rep_ben", "rep_bo_other_team"]
    assert case_assignees(users["rep_bo_other_team"], card) == _by_the_orm(users["rep_bo_other_team"], card)
