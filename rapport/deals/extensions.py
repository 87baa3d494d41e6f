"""How deals hang off the rest of Rapport: the card's owner and team copied onto its deals."""

from __future__ import annotations


def register() -> None:
    from rapport.cards.services import register_copy_sync
    from rapport.deals.services import sync_deal_copies

    register_copy_sync(sync_deal_copies)
