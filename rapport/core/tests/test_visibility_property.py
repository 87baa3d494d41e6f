"""Property: for random teams, roles, owners and shares, every read path returns exactly what the policy allows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.accounts.models import Team, User
from rapport.cards import selectors
from rapport.cards.models import Card, Share
from rapport.cards.selectors import CardFilter
from rapport.search.selectors import search_cards

ROLES = ["rep", "rep", "manager", "admin", "analyst"]


class _Rollback(Exception):
    pass


def expected_visible(user: User, cards: list[Card], memberships: dict[int, set[int]], managed: dict[int, set[int]], shares: list[Share]) -> set[int]:
    """The policy written out plainly, independent of the implementation."""
    if user.role in ("admin", "analyst"):
        return {c.id for c in cards}
    teams = memberships[user.id]
    managed_teams = managed[user.id] if user.role == "manager" else set()
    managed_users = {uid for uid, t in memberships.items() if t & managed_teams} - {user.id}
    seen = set()
    for card in cards:
        if card.owner_id == user.id or card.team_id in teams or card.team_id in managed_teams or card.owner_id in managed_users:
            seen.add(card.id)
    for share in shares:
        if share.user_id == user.id or share.team_id in teams:
            seen.add(share.card_id)
    return seen


world = st.fixed_dictionaries(
    {
        "users": st.lists(
            st.tuples(st.sampled_from(ROLES), st.sets(st.integers(0, 2), max_size=2), st.sets(st.integers(0, 2), max_size=2)),
            min_size=2,
            max_size=5,
        ),
        "cards": st.lists(st.tuples(st.integers(0, 4), st.one_of(st.none(), st.integers(0, 2))), min_size=1, max_size=8),
        "shares": st.lists(st.tuples(st.integers(0, 7), st.booleans(), st.integers(0, 4)), max_size=4),
    }
)


@pytest.mark.django_db(transaction=False)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=world)
def test_list_count_search_and_detail_return_exactly_the_allowed_cards(spec: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            teams = [Team.objects.create(name=f"T{i}") for i in range(3)]
            users: list[User] = []
            memberships: dict[int, set[int]] = {}
            managed: dict[int, set[int]] = {}
            for i, (role, member_of, manages) in enumerate(spec["users"]):
                user = User.objects.create(username=f"u{i}", role=role)
                user.teams.set([teams[t] for t in member_of])
                user.managed_teams.set([teams[t] for t in manages])
                users.append(user)
                memberships[user.id] = {teams[t].id for t in member_of}
                managed[user.id] = {teams[t].id for t in manages}
            cards = []
            for j, (owner, team) in enumerate(spec["cards"]):
                owner_user = users[owner % len(users)]
                cards.append(
                    Card.objects.create(
                        kind="person", display_name=f"Zed Person{j}", sort_name=f"zed person{j}", family_name=f"Person{j}",
                        given_name="Zed", owner=owner_user, team=teams[team] if team is not None else None,
                    )
                )
            from rapport.search.services import index_card

            for card in cards:
                index_card(card)
            shares = []
            for card_index, to_team, target in spec["shares"]:
                card = cards[card_index % len(cards)]
                if to_team:
                    shares.append(Share.objects.create(card=card, team=teams[target % 3]))
                else:
                    shares.append(Share.objects.create(card=card, user=users[target % len(users)]))
            for user in users:
                user = User.objects.get(pk=user.pk)
                allowed = expected_visible(user, cards, memberships, managed, shares)
                page, count = selectors.list_cards(user, CardFilter(kind="person"), limit=50)
                assert {c.id for c in page} == allowed and count == len(allowed)
                assert {c.id for c in search_cards(user, "zed", limit=50)} == allowed
                for card in cards:
                    try:
                        selectors.get_card(user, card.id)
                        reachable = True
                    except Exception:
                        reachable = False
                    assert reachable == (card.id in allowed)
            raise _Rollback
    except _Rollback:
        pass
