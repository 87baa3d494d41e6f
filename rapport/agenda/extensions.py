"""How the agenda hangs off the rest of Rapport: the "Today" entry of the main navigation and
the follow-ups panel on each card. What the other apps put on the agenda they register
themselves (``rapport.core.extensions.register_agenda_feed``)."""

from __future__ import annotations

from typing import Any


def panel_context(user: Any, card: Any) -> dict[str, Any]:
    from rapport.agenda import selectors

    tasks = list(selectors.visible_tasks(user).filter(card=card, done_at__isnull=True).select_related("owner").order_by("due_on", "id")[:10])
    return {"tasks": tasks, "best_time": selectors.best_time_of(user, card)}


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry

    register_nav_entry(NavEntry(key="today", url_name="agenda-today", label=_("Today"), order=5))
    register_card_panel(CardPanel(key="agenda", template="agenda/_card_panel.html", column="side", order=5, context=panel_context))
