"""How deals hang off the rest of Rapport: the card's owner and team copied onto its deals, the
deals panel on organisation and person cards, the "Deals" entry of the main navigation and
the deal events of a card's timeline."""

from __future__ import annotations


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.cards.selectors import register_timeline_source
    from rapport.cards.services import register_copy_sync
    from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
    from rapport.deals.selectors import timeline_entries
    from rapport.deals.services import sync_deal_copies
    from rapport.deals.views.deal import panel_context

    register_copy_sync(sync_deal_copies)
    register_card_panel(CardPanel(key="deals", template="deals/_card_panel.html", column="main", order=15, context=panel_context))
    register_nav_entry(NavEntry(key="deals", url_name="deal-list", label=_("Deals"), order=40))
    register_timeline_source(timeline_entries)
