"""How visits hang off the rest of Rapport: the card's owner and team copied onto its visits,
promises and audit observations, the visits panel on organisation and person cards, the
"Visits" entry of the main navigation and the visit events of a card's timeline."""

from __future__ import annotations


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.cards.selectors import register_timeline_source
    from rapport.cards.services import register_copy_sync
    from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
    from rapport.visits.selectors import timeline_entries
    from rapport.visits.services import sync_visit_copies
    from rapport.visits.views.visit import panel_context

    register_copy_sync(sync_visit_copies)
    register_card_panel(CardPanel(key="visits", template="visits/_card_panel.html", column="main", order=18, context=panel_context))
    register_nav_entry(NavEntry(key="visits", url_name="visit-day", label=_("Visits"), order=45))
    register_timeline_source(timeline_entries)
