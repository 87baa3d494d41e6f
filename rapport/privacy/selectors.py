"""Reading privacy records: the consent panel of a person's card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from rapport.core.visibility import scope_for
from rapport.privacy.models import LegalBasis, Purpose

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.cards.models import Card


def legal_bases_of(user: Any, card: "Card") -> list[LegalBasis]:
    """Consents and legal bases of a person the user can see. Those tied to special items are
    shown only to users with sensitive-data clearance (the item key itself is sensitive)."""
    qs = LegalBasis.objects.filter(card=card).select_related("recorded_by")
    if not scope_for(user).may_see_special:
        qs = qs.exclude(Q(purpose=Purpose.SPECIAL) | ~Q(item_key=""))
    return list(qs.order_by("purpose", "-recorded_at", "-id")[:200])


def consent_panel_context(user: "User", card: "Card") -> dict[str, Any] | None:
    from rapport.privacy.forms import ConsentForm

    scope = scope_for(user)
    return {
        "bases": legal_bases_of(user, card),
        "form": ConsentForm(special=scope.may_see_special),
        "can_write": scope.may_write_card(card),
        "is_admin": scope.role == "admin",
    }
