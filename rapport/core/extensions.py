"""Extension points of the web UI: panels on a card page and entries in the main navigation.

Each domain app registers its own in ``AppConfig.ready()``, so the cards app and the base
template never need to know which apps exist::

    from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry

    register_card_panel(CardPanel(key="funnel", template="funnel/_card_panel.html",
                                  column="main", order=30, context=funnel_panel_context))
    register_nav_entry(NavEntry(key="deals", url_name="deal-list", label=_("Deals"), order=40))

A panel's template receives ``card``, ``can_write``, ``user``, ``page_path`` (the card page's
path, for a form's ``next``: a panel loaded on its own comes from another URL) and ``panel`` —
what its ``context`` callable returned for this user and card. A callable may return ``None``
to leave the panel out for that card (e.g. a person-only panel).

In a browser that runs scripts the card page leaves a slot for each panel (``card_panel_slots``)
and loads the panel over htmx when the slot comes into view, through one URL of the cards app
that renders it with ``render_card_panel``; without scripts the page renders every panel at
once (``card_panels``). A panel needs nothing more for either.
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
class PanelSlot:
    """Where a panel goes on a card page before it is read: its key, and the id its slot takes
    (the key as an HTML id, so a link to ``#aftersales`` finds the slot while it loads)."""

    key: str
    anchor: str


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
        rendered = render_card_panel(user, panel, card)
        if rendered is not None:
            columns[panel.column].append(rendered)
    return columns


def card_panel_slots(card: Card) -> dict[str, list[PanelSlot]]:
    """The panels a card's page places, by column and in order, without reading anything."""
    columns: dict[str, list[PanelSlot]] = {"main": [], "side": []}
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if card.kind in panel.kinds:
            columns[panel.column].append(PanelSlot(panel.key, panel.key.replace("_", "-")))
    return columns


def card_panel(key: str, card: Card) -> CardPanel | None:
    """The registered panel ``key`` if it belongs on this card's page (its kind), else ``None``."""
    panel = _panels.get(key)
    return panel if panel is not None and card.kind in panel.kinds else None


def render_card_panel(user: User, panel: CardPanel, card: Card) -> RenderedPanel | None:
    """One panel of one card with its own context; ``None`` when the panel leaves itself out."""
    data = panel.context(user, card) if panel.context else {}
    return None if data is None else RenderedPanel(panel.key, panel.template, data)


def nav_entries(user: Any) -> list[dict[str, str]]:
    """Registered navigation entries this user may see, as ``{"key", "url", "label"}``."""
    role = getattr(user, "role", "")
    return [
        {"key": entry.key, "url": reverse(entry.url_name), "label": str(entry.label)}
        for entry in sorted(_nav.values(), key=lambda e: (e.order, e.key))
        if not entry.roles or role in entry.roles
    ]


# --- the agenda --------------------------------------------------------------------------------------
# A domain app that knows of something due (a promise, an invoice, a deal's close date) lends it to
# the agenda through a feed, read live when a rep opens Today or the calendar; work that is only
# worth computing once a day (the churn model) registers a reminder source instead, run by
# ``rapport agenda remind``. A feed answers only what ``viewer`` may see, for ``owner``'s work.


@dataclass(frozen=True)
class AgendaEntry:
    """One thing due, lent by a feed: never stored by the agenda, so it is always current."""

    key: str  # unique across feeds: "<feed>:<id>"
    due_on: Any  # datetime.date; ``None``: no date, shown as due today
    title: str
    why: str = ""
    card_id: int | None = None
    card_name: str = ""
    url: str = ""
    due_time: Any = None  # datetime.time or None


AgendaEntries = Callable[["User", "User", Any], "list[AgendaEntry]"]  # (viewer, owner, until date)


@dataclass(frozen=True)
class AgendaWindow:
    """What Today shows of a feed: every line due from ``today`` to ``until`` (and those without
    a date), and of the overdue ones (due before ``today``) only the oldest ``overdue_shown``."""

    today: Any  # datetime.date: the owner's today
    until: Any  # datetime.date
    overdue_shown: int


@dataclass
class AgendaPage:
    """A feed's answer to a window: the lines to show, and how many overdue lines it left out
    (counted, not read), so Today can say "Show 3 more overdue"."""

    entries: list[AgendaEntry]
    overdue_unread: int = 0


AgendaPageEntries = Callable[["User", "User", AgendaWindow], AgendaPage]  # (viewer, owner, window)


def oldest_overdue(late: Any, shown: int, *order: str) -> tuple[list[Any], int]:
    """The oldest ``shown`` rows of the queryset ``late`` (by ``order``) and how many others it
    holds, in one query: each row read carries the count of them all, so a feed's page costs
    no separate count."""
    from django.db.models import Count, Window

    if shown <= 0:
        return [], late.count()
    rows = list(late.annotate(overdue_in_all=Window(Count("pk"))).order_by(*order)[:shown])
    return rows, (rows[0].overdue_in_all - len(rows)) if rows else 0


@dataclass(frozen=True)
class AgendaFeed:
    """A live source of lines for the agenda. ``entries`` answers everything due by a date (the
    calendar); ``page``, when a feed has it, answers only what Today (page and API) shows of a
    window, reading the oldest overdue lines and counting the rest. A feed without ``page``
    still works: Today reads all its entries and cuts them itself."""

    key: str
    label: str | Promise
    entries: AgendaEntries
    order: int = 100
    page: AgendaPageEntries | None = None

    def window(self, viewer: "User", owner: "User", window: AgendaWindow) -> AgendaPage:
        """The feed's lines for ``window``: its own ``page`` if it has one, else all its entries
        up to ``window.until`` with the overdue ones beyond the oldest ``overdue_shown`` counted."""
        if self.page is not None:
            return self.page(viewer, owner, window)
        entries = self.entries(viewer, owner, window.until)
        late = sorted((e for e in entries if e.due_on is not None and e.due_on < window.today), key=lambda e: e.due_on)
        kept = {id(e) for e in late[:window.overdue_shown]}
        shown = [e for e in entries if e.due_on is None or e.due_on >= window.today or id(e) in kept]
        return AgendaPage(entries=shown, overdue_unread=len(entries) - len(shown))


@dataclass(frozen=True)
class ReminderSpec:
    """A reminder a daily source asks for: one per ``key`` and owner, kept until done."""

    owner_id: int
    key: str
    due_on: Any  # datetime.date
    title: str
    why: str = ""
    card_id: int | None = None


ReminderSource = Callable[[Any], "list[ReminderSpec]"]  # (the day) -> reminders
_agenda_feeds: dict[str, AgendaFeed] = {}
_reminder_sources: dict[str, ReminderSource] = {}


def register_agenda_feed(feed: AgendaFeed) -> None:
    """Adds (or replaces, by key) a live feed of things due on the agenda."""
    _agenda_feeds[feed.key] = feed


def agenda_feeds() -> list[AgendaFeed]:
    return sorted(_agenda_feeds.values(), key=lambda f: (f.order, f.key))


def register_reminder_source(key: str, source: ReminderSource) -> None:
    """Adds (or replaces, by key) a source of reminders made once a day."""
    _reminder_sources[key] = source


def reminder_sources() -> dict[str, ReminderSource]:
    return dict(_reminder_sources)
