"""Broad segments (no team, every visible card that matches): exact counts and pages, read per visibility branch."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.accounts.models import Team, User
from rapport.cards.models import Card
from rapport.cards.services import share_card
from rapport.core.errors import ValidationError
from rapport.core.visibility import visible_to
from rapport.segments import selectors
from rapport.segments.models import Segment

BROAD = [
    [],
    [{"field": "stage", "value": ["customer"]}],
    [{"field": "tier", "value": ["A", "B"]}],
    [
        {"field": "stage", "value": ["suspect", "prospect", "customer"]},
        {"field": "tier", "value": ["A", "B", "C", ""]},
        {"field": "referred", "value": False},
        {"field": "created", "value": {"from": "2000-01-01"}},
    ],
]


@pytest.fixture
def world(users: dict[str, User], make_org: Any, make_person: Any) -> dict[str, Card]:
    """Cards reaching each user through every branch of visibility, several through more than one."""
    north, south = Team.objects.get(name="North"), Team.objects.get(name="South")
    cards: dict[str, Card] = {}
    for i, (stage, tier) in enumerate([("customer", "A"), ("suspect", "B"), ("prospect", ""), ("customer", "C")]):
        cards[f"ana_{i}"] = make_org(name=f"Ana {i}", lifecycle_stage=stage, tier=tier)
        cards[f"ben_{i}"] = make_person(owner="rep_ben", given_name="Ben", family_name=f"Card {i}", lifecycle_stage=stage, tier=tier)
        cards[f"bo_{i}"] = make_org(owner="rep_bo_other_team", name=f"Bo {i}", lifecycle_stage=stage, tier=tier)
    # Ana's own card filed under another team: visible to her as its owner, to Mei as Ana's manager.
    Card.objects.filter(pk=cards["ana_3"].pk).update(team=south)
    # Ben's card without a team: Ben (owner) and Mei (manages Ben) see it.
    Card.objects.filter(pk=cards["ben_3"].pk).update(team=None)
    # Shares: one of Bo's with Ana, one with all of North, and one of Ana's own with herself (twice reachable).
    share_card(user=users["rep_bo_other_team"], card=cards["bo_0"], with_user=users["rep_ana"])
    share_card(user=users["rep_bo_other_team"], card=cards["bo_1"], with_team=north)
    share_card(user=users["rep_ana"], card=cards["ana_0"], with_team=north)
    # Archived cards are never members.
    Card.objects.filter(pk=cards["bo_2"].pk).update(archived_at=timezone.now())
    Card.objects.filter(pk=cards["ana_1"].pk).update(archived_at=timezone.now())
    return cards


def expected_ids(user: User, kind: str, conditions: list[dict[str, Any]]) -> list[int]:
    """The members by the plain definition: one query over visible_to, sorted."""
    qs = visible_to(user).filter(archived_at__isnull=True).filter(selectors.filter_q(user, kind, conditions))
    return list(qs.order_by("sort_name", "id").values_list("id", flat=True))


@pytest.mark.parametrize("username", ["rep_ana", "rep_ben", "rep_bo_other_team", "manager_mei", "admin", "analyst_al"])
@pytest.mark.parametrize("conditions", BROAD)
@pytest.mark.parametrize("kind", ["", "organization"])
def test_a_broad_segments_count_and_pages_are_exactly_the_visible_members(
    users: dict[str, User], world: dict[str, Card], username: str, conditions: list[dict[str, Any]], kind: str
) -> None:
    user = User.objects.get(username=username)
    want = expected_ids(user, kind, conditions)
    assert selectors.count(user, kind, conditions) == (len(want), True)
    segment = Segment(name="broad", kind=kind, conditions=conditions, owner=user)
    for known in (None, (len(want), True)):  # read in name order; a small segment's members sorted
        paged: list[int] = []
        for offset in range(0, len(want) + 3, 3):
            paged += [c.pk for c in selectors.members(user, segment, offset=offset, limit=3, known_count=known)]
        assert paged == want  # same cards, same order, none twice


def test_each_visibility_branch_reaches_the_members_it_should(users: dict[str, User], world: dict[str, Card]) -> None:
    every = [{"field": "stage", "value": ["suspect", "prospect", "customer"]}]

    def names(username: str) -> set[str]:
        user = User.objects.get(username=username)
        segment = Segment(name="all", kind="", conditions=every, owner=user)
        found = {c.pk for c in selectors.members(user, segment, limit=100)}
        return {name for name, card in world.items() if card.pk in found}

    assert names("rep_ana") == {"ana_0", "ana_2", "ana_3", "ben_0", "ben_1", "ben_2", "bo_0", "bo_1"}
    assert names("rep_ben") == {"ana_0", "ana_2", "ben_0", "ben_1", "ben_2", "ben_3", "bo_1"}
    assert names("manager_mei") == {"ana_0", "ana_2", "ana_3", "ben_0", "ben_1", "ben_2", "ben_3"}
    assert names("rep_bo_other_team") == {"bo_0", "bo_1", "bo_3", "ana_3"}


def test_a_count_stops_at_its_limit_and_says_it_is_not_exact(users: dict[str, User], world: dict[str, Card]) -> None:
    ana = users["rep_ana"]
    assert selectors.count(ana, "", [], limit=5) == (5, False)
    assert selectors.count(ana, "", [], limit=8) == (8, True)


def test_an_inactive_user_has_no_members(users: dict[str, User], world: dict[str, Card]) -> None:
    User.objects.filter(username="rep_ana").update(is_active=False)
    ana = User.objects.get(username="rep_ana")
    assert selectors.count(ana, "", []) == (0, True)
    assert selectors.members(ana, Segment(name="x", conditions=[], owner=ana)) == []


@pytest.mark.parametrize("username", ["rep_ana", "manager_mei", "admin"])
def test_a_broad_count_is_one_query_and_a_page_two_however_many_branches(
    users: dict[str, User], world: dict[str, Card], username: str
) -> None:
    user = User.objects.get(username=username)
    conditions = BROAD[3]
    segment = Segment(name="broad", kind="", conditions=conditions, owner=user)
    selectors.members(user, segment)  # the user's teams and managed people, once per request
    with CaptureQueriesContext(connection) as ctx:
        selectors.count(user, "", conditions)
    assert len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.members(user, segment)
    assert page and len(ctx.captured_queries) == 2  # the page's ids, then its cards with owner and team


@pytest.mark.parametrize(
    "conditions",
    [
        [{"field": "stage", "value": ["nope"]}],
        [{"field": "colour", "value": ["red"]}],
        [{"field": "tier", "value": "A"}],
        [{"field": "created", "value": {"from": "2026-02-30"}}],
        "stage=customer",
    ],
)
def test_bad_conditions_are_still_refused_by_count_and_members(
    users: dict[str, User], world: dict[str, Card], conditions: Any
) -> None:
    ana = users["rep_ana"]
    with pytest.raises(ValidationError):
        selectors.count(ana, "", conditions)
    with pytest.raises(ValidationError):
        selectors.members(ana, Segment(name="x", conditions=conditions, owner=ana))


def test_a_team_outside_the_users_reach_is_refused_not_counted(users: dict[str, User], world: dict[str, Card]) -> None:
    south = Team.objects.get(name="South")
    with pytest.raises(ValidationError):
        selectors.count(users["rep_ana"], "", [{"field": "team", "value": [south.id]}])
