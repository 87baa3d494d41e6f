"""Extension points of the web UI: panels on a card page and entries in the main navigation.

Each domain app registers its own in ``AppConfig.ready()``, so the cards app and the base
template never need to know which apps exist::

    from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry

    register_card_panel(CardPanel(key="funnel", template="funnel/_card_panel.html",
                                  column="main", order=30, context=funnel_panel_context))
    register_nav_entry(NavEntry(key="deals", url_name="deal-list", label=_("Deals"), order=40))

A panel's template receives ``card``, ``can_write``, ``user`` (the whole page context) and
``panel`` — what its ``context`` callable returned for this user and card. A callable may
return ``None`` to leave the panel out for that card (e.g. a person-only panel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.urls import reverse
from django.utils.functional import Promise

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.cards.models import Card

PanelContext = Callable[["User", "Card"], "dict[str, Any] | None"]


@dataclass(frozen=True)
class CardPanel:
    key: str
    template: str
    column: Literal["main", "side"] = "main"
    order: int = 100
    kinds: tuple[str, ...] = ("organization", "person")
    context: PanelContext | None = None


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    template: str
    data: dict[str, Any]


@dataclass(frozen=True)
class NavEntry:
    key: str
    url_name: str
    label: str | Promise
    order: int = 100
    roles: tuple[str, ...] = ()  # empty: every signed-in user


_panels: dict[str, CardPanel] = {}
_nav: dict[str, NavEntry] = {}


def register_card_panel(panel: CardPanel) -> None:
    """Adds (or replaces, by key) a panel shown on card pages."""
    _panels[panel.key] = panel


def register_nav_entry(entry: NavEntry) -> None:
    """Adds (or replaces, by key) an entry of the main navigation, after the built-in ones."""
    _nav[entry.key] = entry


def card_panels(user: User, card: Card) -> dict[str, list[RenderedPanel]]:
    """The panels of one card page by column, in order, each with its own context."""
    columns: dict[str, list[RenderedPanel]] = {"main": [], "side": []}
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if card.kind not in panel.kinds:
            continue
        data = panel.context(user, card) if panel.context else {}
        if data is None:
            continue
        columns[panel.column].append(RenderedPanel(panel.key, panel.template, data))
    return columns


def nav_entries(user: Any) -> list[dict[str, str]]:
    """Registered navigation entries this user may see, as ``{"key", "url", "label"}``."""
    role = getattr(user, "role", "")
    return [
        {"key": entry.key, "url": reverse(entry.url_name), "label": str(entry.label)}
        for entry in sorted(_nav.values(), key=lambda e: (e.order, e.key))
        if not entry.roles or role in entry.roles
    ]
