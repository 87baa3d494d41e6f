"""The one visibility policy: which cards, and which information items on them, a user may see.

Every list, search, detail, API call and export of customer data goes through ``visible_to``.
A card outside it answers exactly like a card that does not exist.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from rapport.catalog.models import Sensitivity

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.cards.models import Card


class Scope:
    """What one user may see, computed once per request and reused by every query."""

    def __init__(self, user: "User") -> None:
        self.user = user

    @cached_property
    def role(self) -> str:
        return "admin" if self.user.is_superuser else self.user.role

    @cached_property
    def team_ids(self) -> list[int]:
        return list(self.user.teams.values_list("id", flat=True))

    @cached_property
    def managed_team_ids(self) -> list[int]:
        if self.role != "manager":
            return []
        return list(self.user.managed_teams.values_list("id", flat=True))

    @cached_property
    def managed_user_ids(self) -> list[int]:
        if not self.managed_team_ids:
            return []
        from rapport.accounts.models import User

        ids = set(User.objects.filter(teams__in=self.managed_team_ids).values_list("id", flat=True))
        ids.discard(self.user.id)
        return sorted(ids)

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "analyst")

    def card_q(self, prefix: str = "", *, id_field: str = "id") -> Q:
        """A filter selecting the cards this user may see.

        ``prefix`` reaches a card through a relation (``"card__"``); ``id_field`` names the
        card id on a model that copies the card's ``owner_id`` and ``team_id`` (the search
        index filters its own rows with ``card_q(id_field="card_id")``).
        """
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

    @property
    def may_see_special(self) -> bool:
        return bool(self.user.can_see_special) and self.role != "analyst" and self.user.is_active

    def sensitivities_on(self, card: "Card") -> set[str]:
        """The sensitivity classes of items this user may read on a card they can see."""
        allowed = {Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value}
        if self.may_see_confidential_on(card):
            allowed.add(Sensitivity.CONFIDENTIAL.value)
        if self.may_see_special:
            allowed.add(Sensitivity.SPECIAL.value)
        return allowed

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
