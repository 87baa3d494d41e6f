"""The one visibility policy: which cards, and which information items on them, a user may see.

Every list, search, detail, API call and export of customer data goes through ``visible_to``.
A card outside it answers exactly like a card that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Q, QuerySet
from django.db.models.sql.where import OR

from rapport.catalog.models import Sensitivity

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.accounts.selectors import Memberships
    from rapport.cards.models import Card


# What each clearance reads, by (confidential on this card, special): made once, since every card
# read asks (an enum member's ``.value`` is a property lookup each time).
_CLEARANCES: dict[tuple[bool, bool], frozenset[str]] = {
    (confidential, special): frozenset(
        [Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value]
        + ([Sensitivity.CONFIDENTIAL.value] if confidential else [])
        + ([Sensitivity.SPECIAL.value] if special else [])
    )
    for confidential in (False, True)
    for special in (False, True)
}


class Scope:
    """What one user may see, computed once per request and reused by every query."""

    def __init__(self, user: "User") -> None:
        self.user = user
        self._card_qs: dict[tuple[str, str], Q] = {}

    @cached_property
    def role(self) -> str:
        return "admin" if self.user.is_superuser else self.user.role

    @cached_property
    def _memberships(self) -> "Memberships":
        """The user's teams, managed teams and managed people: read with the user when the user
        came from an API token or a session (``accounts.selectors.active_user_with_teams``),
        else asked here; a rep's scope needs only the teams."""
        from rapport.accounts.selectors import Memberships, memberships_of, team_ids_of

        known = getattr(self.user, "_rapport_memberships", None)
        if known is not None:
            return known
        if self.role == "manager":
            return memberships_of(self.user.id)
        return Memberships(team_ids_of(self.user.id), [], [])

    @cached_property
    def team_ids(self) -> list[int]:
        return self._memberships.teams

    @cached_property
    def managed_team_ids(self) -> list[int]:
        if self.role != "manager":
            return []
        return self._memberships.managed_teams

    @cached_property
    def managed_user_ids(self) -> list[int]:
        """The other members of the teams a manager manages."""
        if self.role != "manager":
            return []
        return self._memberships.managed_users

    @property
    def signature(self) -> tuple[Any, ...]:
        """Everything ``card_q`` and ``confidential_q`` are made of: two scopes with the same
        signature build the same filters, so SQL compiled from one serves the other."""
        if self.sees_everything or not self.user.is_active:
            return (self.user.id, self.user.is_active, self.role)
        return (self.user.id, True, self.role, tuple(self.team_ids), tuple(self.managed_team_ids), tuple(self.managed_user_ids))

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "analyst")

    def card_q(self, prefix: str = "", *, id_field: str = "id") -> Q:
        """A filter selecting the cards this user may see.

        ``prefix`` reaches a card through a relation (``"card__"``); ``id_field`` names the
        card id on a model that copies the card's ``owner_id`` and ``team_id`` (the search
        index filters its own rows with ``card_q(id_field="card_id")``).
        """
        # A card page asks for the same filter dozens of times: built once per request. (The
        # share subquery inside is SQL, read when each query runs, so it is never stale.)
        key = (prefix, id_field)
        if key not in self._card_qs:
            self._card_qs[key] = self._build_card_q(prefix, id_field)
        return self._card_qs[key]

    def _build_card_q(self, prefix: str, id_field: str) -> Q:
        from rapport.cards.models import Share

        if not self.user.is_active:
            return Q(pk__in=[])
        if self.sees_everything:
            return Q()
        p = prefix
        q = Q(**{f"{p}owner_id": self.user.id})
        if self.team_ids:
            q |= Q(**{f"{p}team_id__in": self.team_ids})
        if self.managed_team_ids:
            q |= Q(**{f"{p}team_id__in": self.managed_team_ids})
        if self.managed_user_ids:
            q |= Q(**{f"{p}owner_id__in": self.managed_user_ids})
        share_q = Q(user_id=self.user.id)
        if self.team_ids:
            share_q |= Q(team_id__in=self.team_ids)
        q |= Q(**{f"{p}{id_field}__in": Share.objects.filter(share_q).values("card_id")})
        return q

    def confidential_q(self, prefix: str = "") -> Q | None:
        """Cards on which this user may read confidential items; ``None`` means none at all."""
        if self.role == "admin":
            return Q()
        if self.role == "analyst" or not self.user.is_active:
            return None
        p = prefix
        q = Q(**{f"{p}owner_id": self.user.id})
        if self.managed_team_ids:
            q |= Q(**{f"{p}team_id__in": self.managed_team_ids})
        if self.managed_user_ids:
            q |= Q(**{f"{p}owner_id__in": self.managed_user_ids})
        return q

    def may_see_confidential_on(self, card: "Card") -> bool:
        if self.role == "admin":
            return True
        if self.role == "analyst":
            return False
        return (
            card.owner_id == self.user.id
            or (card.team_id is not None and card.team_id in self.managed_team_ids)
            or card.owner_id in self.managed_user_ids
        )

    def sees_without_shares(self, owner_id: int, team_id: int | None) -> bool:
        """Whether ``card_q`` selects a card of this owner and team through them, told from the
        card's own columns: a read of cards by id needs no query of the whole filter then.
        ``False`` is not a refusal: the card may still be shared with the user, which only the
        database knows."""
        if not self.user.is_active:
            return False
        if self.sees_everything:
            return True
        return (
            owner_id == self.user.id
            or (team_id is not None and (team_id in self.team_ids or team_id in self.managed_team_ids))
            or owner_id in self.managed_user_ids
        )

    @property
    def may_see_special(self) -> bool:
        return bool(self.user.can_see_special) and self.role != "analyst" and self.user.is_active

    def sensitivities_on(self, card: "Card") -> frozenset[str]:
        """The sensitivity classes of items this user may read on a card they can see."""
        return _CLEARANCES[(self.may_see_confidential_on(card), self.may_see_special)]

    def may_write_card(self, card: "Card") -> bool:
        """Analysts read; everyone else may edit the cards they can see."""
        return self.role != "analyst"


def scope_for(user: Any) -> Scope:
    """The cached ``Scope`` of a user (one per user object, so one per request)."""
    scope = getattr(user, "_rapport_scope", None)
    if scope is None:
        scope = Scope(user)
        user._rapport_scope = scope
    return scope


def visible_to(user: Any, queryset: QuerySet["Card"] | None = None) -> QuerySet["Card"]:
    """The cards ``user`` may see. The only way customer data is listed, searched or exported."""
    from rapport.cards.models import Card

    qs = queryset if queryset is not None else Card.objects.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.none()
    q = scope_for(user).card_q()
    return qs.filter(q) if q else qs


# A visibility branch "column IN (a list)" of up to this many values is read value by value.
MAX_SPLIT = 20


def _branch_order(branch: Any) -> int:
    """Teams first: they hold most of what a user sees, and one's own cards are mostly in them,
    so the owner branch is left with cards it tells apart in ``card_owner_sort`` alone."""
    lookup = branch[0] if isinstance(branch, tuple) else ""
    return 0 if lookup.startswith("team") else 1 if lookup.startswith("owner") else 2


def _split_in(branch: Any) -> list[Any]:
    """``("team_id__in", [1, 2])`` as ``("team_id", 1)`` and ``("team_id", 2)``; anything else as it is."""
    if isinstance(branch, tuple) and branch[0].endswith("__in") and isinstance(branch[1], (list, tuple)):
        if len(branch[1]) <= MAX_SPLIT:
            return [(branch[0].removesuffix("__in"), value) for value in branch[1]]
    return [branch]


def _branch_key(branch: Any) -> Any:
    if isinstance(branch, tuple) and isinstance(branch[1], (int, str)):
        return branch
    return id(branch)


def visible_parts(user: Any) -> list[QuerySet["Card"]]:
    """``visible_to(user)`` as disjoint querysets whose union is exactly the visible cards.

    Visibility is an OR of a few branches (own cards, the teams' cards, the managed people's
    cards, shared cards). One query over the OR leaves SQLite two bad plans for a large
    segment: fetch every visible card from the table to check the segment's columns, or walk
    every card of the kind. Split into branches, each is an index range that carries the
    segment's columns: the team branch reads ``card_team_sort``, the owner branch
    ``card_owner_sort``, and each branch leaves out the cards of the branches before it, so
    counts add up and no card appears twice.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return [visible_to(user)]
    q = scope_for(user).card_q()
    if not _branches(q):
        return [visible_to(user)]
    from rapport.cards.models import Card

    return [Card.objects.filter(branch) for branch in disjoint_branches(q)]


def _branches(q: Q) -> list[Any]:
    return list(q.children) if q.connector == OR and not q.negated and len(q.children) > 1 else []


def disjoint_branches(q: Q) -> list[Q]:
    """The OR of ``q`` as filters that select disjoint rows whose union is what ``q`` selects.

    Works on any model with the visibility columns (``owner_id``, ``team_id``): the cards, and
    the rows that copy them (invoices), so each branch reads an index range of its own.
    """
    branches = _branches(q)
    if not branches:
        return [q]
    # "team IN (1, 2)" becomes "team = 1" and "team = 2": an equality reads the list index in
    # name order, an IN would need its rows sorted.
    # (A manager's own team may also be one they manage: each branch once.)
    branches = list({_branch_key(split): split for branch in branches for split in _split_in(branch)}.values())
    parts: list[Q] = []
    before = Q()
    for branch in sorted(branches, key=_branch_order):
        branch_q = branch if isinstance(branch, Q) else Q(branch)
        parts.append(branch_q & ~before if before else branch_q)
        before = before | branch_q if before else branch_q
    return parts


QS = TypeVar("QS", bound=QuerySet[Any])


def visible_through(user: Any, queryset: QS, relation: str) -> QS:
    """Rows of ``queryset`` whose card, reached through the foreign key ``relation``, the user
    may see (``visible_through(user, Employment.objects.filter(...), "person")``).

    Each row's card is checked on its own, joined by primary key, so the check costs what the
    rows cost: ``relation_id IN (SELECT id FROM cards_card WHERE …)`` would read every visible
    card first, which on a large database is most of a page's time. Someone who sees every
    card needs no check at all (the foreign key guarantees the card exists).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    scope = scope_for(user)
    if scope.sees_everything:
        return queryset
    return queryset.filter(scope.card_q(f"{relation}__"))


def visible_ids(user: Any, ids: Iterable[Any]) -> set[int]:
    """Which of these card ids the user may see: one look-up of the few ids by primary key."""
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not wanted:
        return set()
    return set(visible_to(user).filter(pk__in=wanted).values_list("id", flat=True))


def visible_records(user: Any, queryset: QS) -> QS:
    """Rows that belong to a customer card (a ``card`` key: orders, invoices, service cases…),
    visible exactly as their card is."""
    return visible_through(user, queryset, "card")


def get_visible(queryset: QuerySet[Any], record_id: Any, what: str) -> Any:
    """One row of an already visibility-filtered queryset by id, or NotFound: a malformed id,
    a missing row and a row out of reach all answer the same."""
    from rapport.core.errors import NotFound

    if isinstance(record_id, bool) or not str(record_id).isdigit() or int(str(record_id)) > 2**62:
        raise NotFound(what)
    found = queryset.filter(pk=int(str(record_id))).first()
    if found is None:
        raise NotFound(what)
    return found
