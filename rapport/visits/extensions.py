"""How visits hang off the rest of Rapport: the card's owner and team copied onto its visits,
promises and audit observations, the visits panel on organisation and person cards, the
"Visits" entry of the main navigation and the visit events of a card's timeline."""

from __future__ import annotations

from typing import Any


def _visit_entries(visits: list[Any]) -> list[Any]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rapport.core.extensions import AgendaEntry

    title = _("Visit %(name)s")
    visit_url = reverse("visit-detail", args=[0]).replace("/0/", "/{}/")
    return [AgendaEntry(key=f"visits.visit:{visit.pk}", due_on=visit.planned_on, due_time=visit.window_start,
                        title=title % {"name": visit.card.display_name}, why=visit.purpose,
                        card_id=visit.card_id, card_name=visit.card.display_name, url=visit_url.format(visit.pk))
            for visit in visits]


def _promise_entries(promises: list[Any]) -> list[Any]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rapport.core.extensions import AgendaEntry
    from rapport.visits.models import PromiseBy

    if not promises:
        return []
    ours, theirs = _("Our promise to %(name)s"), _("Promised by %(name)s")
    visit_url = reverse("visit-detail", args=[0]).replace("/0/", "/{}/")
    card_url = reverse("card-detail", args=[0]).replace("/0/", "/{}/")
    return [AgendaEntry(key=f"visits.promise:{promise.pk}", due_on=promise.due_on,
                        title=(ours if promise.by == PromiseBy.US else theirs) % {"name": promise.card.display_name},
                        why=promise.text, card_id=promise.card_id, card_name=promise.card.display_name,
                        url=visit_url.format(promise.visit_id) if promise.visit_id else card_url.format(promise.card_id))
            for promise in promises]


def _planned_visits(viewer: Any, owner: Any, first: Any, until: Any) -> list[Any]:
    from rapport.visits.models import Status
    from rapport.visits.selectors import visible_visits

    return list(visible_visits(viewer).filter(owner=owner, status=Status.PLANNED, planned_on__gte=first, planned_on__lte=until)
                .select_related("card").only("id", "planned_on", "window_start", "purpose", "card_id", "card__display_name")
                .order_by("planned_on", "position", "id")[:100])


def agenda_entries(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """The rep's planned visits up to ``until`` and the promises due by then, for the agenda."""
    from django.utils import timezone

    from rapport.visits.selectors import promises_due

    return [*_visit_entries(_planned_visits(viewer, owner, timezone.localdate(), until)),
            *_promise_entries(promises_due(viewer, owner, until))]


def agenda_page(viewer: Any, owner: Any, window: Any) -> Any:
    """What Today shows: the planned visits from today to ``window.until`` (a visit is never
    overdue: one not made is moved or cancelled), the oldest ``window.overdue_shown`` promises
    past their date, counting the others, and those due by ``window.until`` or without a date."""
    from django.db.models import Q

    from rapport.core.extensions import AgendaPage, oldest_overdue
    from rapport.visits.selectors import open_promises_of

    promises = open_promises_of(viewer, owner).only("id", "by", "text", "due_on", "visit_id", "card_id", "card__display_name")
    read, unread = oldest_overdue(promises.filter(due_on__lt=window.today), window.overdue_shown, "due_on", "id")
    coming = list(promises.filter(Q(due_on__gte=window.today, due_on__lte=window.until) | Q(due_on__isnull=True))
                  .order_by("due_on", "id")[:100])
    return AgendaPage(entries=[*_visit_entries(_planned_visits(viewer, owner, window.today, window.until)),
                               *_promise_entries(read + coming)], overdue_unread=unread)


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.cards.selectors import register_timeline_source
    from rapport.cards.services import register_copy_sync
    from rapport.core.extensions import AgendaFeed, CardPanel, NavEntry, register_agenda_feed, register_card_panel, register_nav_entry
    from rapport.visits.selectors import timeline_entries
    from rapport.visits.services import sync_visit_copies
    from rapport.visits.views.visit import panel_context

    register_copy_sync(sync_visit_copies)
    register_card_panel(CardPanel(key="visits", template="visits/_card_panel.html", column="main", order=18, context=panel_context))
    register_nav_entry(NavEntry(key="visits", url_name="visit-day", label=_("Visits"), order=45))
    register_timeline_source(timeline_entries)
    register_agenda_feed(AgendaFeed(key="visits", label=_("Visits and promises"), entries=agenda_entries, order=10, page=agenda_page))
