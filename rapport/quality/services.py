"""Writes of information quality: resolving a conflict by verifying the true value."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from rapport.accounts.models import User
from rapport.cards import services as card_services
from rapport.cards.models import Card, Fact
from rapport.core.errors import ValidationError
from rapport.quality import selectors


@transaction.atomic
def resolve_conflict(*, user: User, card: Card, item_key: Any, fact_id: Any) -> Fact:
    """Settles a conflict: the chosen fact is verified and becomes the card's current value.

    The other facts stay, with their provenance, in the card's history ("identify false
    information", not erase it).
    """
    conflict = selectors.get_conflict(user, card, item_key)
    ids = {f.fact_id for f in conflict.facts}
    if isinstance(fact_id, bool) or not str(fact_id).isdigit() or int(fact_id) not in ids:
        raise ValidationError.single("fact", "Choose one of the conflicting facts.")
    fact = Fact.objects.get(pk=int(fact_id), card=card)
    return card_services.verify_fact(user=user, fact=fact)
