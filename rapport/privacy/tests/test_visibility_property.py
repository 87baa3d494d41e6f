"""Property: for random teams, roles, cards and shares, the ids every surface returns to each
user — list, count, search, export filter and timeline — are exactly what the policy allows.

The policy is written out again here, independently of rapport.core.visibility, from
DESIGN.md C10: reps see their own, their teams' and what is shared with them or their teams;
managers also everything in (or owned by members of) the teams they manage; admins and
analysts see every card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.accounts.models import ApiToken, Team, User
from rapport.accounts.services import create_token
from rapport.cards.models import Card, Kind, Share
from rapport.cards.selectors import CardFilter, filter_cards, list_cards
from rapport.core.text import fold
from rapport.search.selectors import search_cards
from rapport.search.services import index_card

ROLES = ["rep", "rep", "manager", "admin", "analyst"]


@dataclass(frozen=True)
class World:
    teams: int
    users: list[tuple[str, frozenset[int], frozenset[int]]]  # role, member of, manages
    cards: list[tuple[int, int | None, str]]  # owner index, team index, kind
    shares: list[tuple[int, int | None, int | None]]  # card index, user index, team index


@st.composite
def worlds(draw: Any) -> World:
    teams = draw(st.integers(1, 3))
    team_sets = st.frozensets(st.integers(0, teams - 1), max_size=teams)
    users = draw(st.lists(st.tuples(st.sampled_from(ROLES), team_sets, team_sets), min_size=2, max_size=5))
    cards = draw(st.lists(
        st.tuples(st.integers(0, len(users) - 1), st.none() | st.integers(0, teams - 1), st.sampled_from([Kind.PERSON, Kind.ORGANIZATION])),
        min_size=1, max_size=8,
    ))
    shares = draw(st.lists(
        st.tuples(st.integers(0, len(cards) - 1), st.none() | st.integers(0, len(users) - 1), st.none() | st.integers(0, teams - 1))
        .filter(lambda s: (s[1] is None) != (s[2] is None)),
        max_size=5,
    ))
    return World(teams, users, cards, shares)


def policy(world: World, u: int) -> set[int]:
    """Indexes of the cards user ``u`` may see."""
    role, member, manages = world.users[u]
    if role in ("admin", "analyst"):
        return set(range(len(world.cards)))
    managed = manages if role == "manager" else frozenset()
    managed_members = {i for i, (_r, m, _g) in enumerate(world.users) if m & managed} - {u}
    seen = set()
    for c, (owner, team, _kind) in enumerate(world.cards):
        if owner == u or (team is not None and (team in member or team in managed)) or owner in managed_members:
            seen.add(c)
    for card, user, team in world.shares:
        if user == u or (team is not None and team in member):
            seen.add(card)
    return seen


def build(world: World, tag: str) -> tuple[list[User], list[Card]]:
    teams = [Team.objects.create(name=f"{tag}-team-{i}") for i in range(world.teams)]
    users = []
    for i, (role, member, manages) in enumerate(world.users):
        user = User.objects.create(username=f"{tag}-u{i}", role=role)
        user.teams.set([teams[t] for t in member])
        if role == "manager":
            user.managed_teams.set([teams[t] for t in manages])
        users.append(user)
    cards = []
    for i, (owner, team, kind) in enumerate(world.cards):
        name = f"Zorblax {tag} {i}"
        card = Card.objects.create(kind=kind, display_name=name, sort_name=fold(name), owner=users[owner],
                                   team=teams[team] if team is not None else None)
        index_card(card)
        cards.append(card)
    for card_index, user_index, team_index in world.shares:
        Share.objects.get_or_create(card=cards[card_index], user=users[user_index] if user_index is not None else None,
                                    team=teams[team_index] if team_index is not None else None)
    return users, cards


class _Rollback(Exception):
    pass


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds())
def test_every_surface_returns_exactly_what_the_policy_allows(world: World, db: Any, settings: Any) -> None:
    settings.RAPPORT_API_RATE = ""
    cache.clear()  # the industry filter cache is per user id, and ids repeat between examples
    try:
        with transaction.atomic():
            users, cards = build(world, "w")
            index_of = {c.id: i for i, c in enumerate(cards)}
            for u, user in enumerate(users):
                expected = policy(world, u)
                listed: set[int] = set()
                for kind in (Kind.PERSON, Kind.ORGANIZATION):
                    page, total = list_cards(user, CardFilter(kind=kind), limit=200)
                    assert total == len(page)
                    listed |= {index_of[c.id] for c in page}
                assert listed == expected, ("list", world.users[u])
                exported = {index_of[c.id] for c in filter_cards(user, CardFilter())}
                assert exported == expected, "export"
                found = {index_of[c.id] for c in search_cards(user, "zorblax", limit=100)}
                assert found == expected, "search"
                client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")
                api_ids = set()
                for path in ("people", "organizations"):
                    body = client.get(f"/api/v1/{path}?limit=200").json()
                    assert body["count"] == len(body["items"])
                    api_ids |= {index_of[item["id"]] for item in body["items"]}
                assert api_ids == expected, "api list and count"
                for c, card in enumerate(cards):
                    path = "people" if card.kind == Kind.PERSON else "organizations"
                    status = client.get(f"/api/v1/{path}/{card.id}/timeline").status_code
                    assert status == (200 if c in expected else 404), ("timeline", c)
                ApiToken.objects.filter(user=user).delete()
            raise _Rollback
    except _Rollback:
        pass
