"""How visits hang off the rest of Rapport: the card's owner and team copied onto its visits,
promises and audit observations, the visits panel on organisation and person cards, the
"Visits" entry of the main navigation and the visit events of a card's timeline."""

from __future__ import annotations

from typing import Any


def agenda_entries(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """The rep's planned visits up to ``until`` and the promises due by then, for the agenda."""
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from rapport.core.extensions import AgendaEntry
    from rapport.visits.models import PromiseBy, Status
    from rapport.visits.selectors import promises_due, visible_visits

    entries = []
    visit_title, ours, theirs = _("Visit %(name)s"), _("Our promise to %(name)s"), _("Promised by %(name)s")
    visit_url = reverse("visit-detail", args=[0]).replace("/0/", "/{}/")
    card_url = reverse("card-detail", args=[0]).replace("/0/", "/{}/")
    visits = (visible_visits(viewer).filter(owner=owner, status=Status.PLANNED, planned_on__gte=timezone.localdate(),
                                            planned_on__lte=until).select_related("card").defer("card__profile", "card__social")
              .order_by("planned_on", "position", "id")[:100])
    for visit in visits:
        entries.append(AgendaEntry(key=f"visits.visit:{visit.pk}", due_on=visit.planned_on, due_time=visit.window_start,
                                   title=visit_title % {"name": visit.card.display_name}, why=visit.purpose,
                                   card_id=visit.card_id, card_name=visit.card.display_name, url=visit_url.format(visit.pk)))
    for promise in promises_due(viewer, owner, until):
        title = (ours if promise.by == PromiseBy.US else theirs) % {"name": promise.card.display_name}
        entries.append(AgendaEntry(key=f"visits.promise:{promise.pk}", due_on=promise.due_on, title=title, why=promise.text,
                                   card_id=promise.card_id, card_name=promise.card.display_name,
                                   url=visit_url.format(promise.visit_id) if promise.visit_id else card_url.format(promise.card_id)))
    return entries


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
    register_agenda_feed(AgendaFeed(key="visits", label=_("Visits and promises"), entries=agenda_entries, order=10))
