"""How deals hang off the rest of Rapport: the card's owner and team copied onto its deals, the
deals panel on organisation and person cards, the "Deals" entry of the main navigation and
the deal events of a card's timeline."""

from __future__ import annotations

from typing import Any

# An open deal that has not moved to another step for this many days is stalled.
STALLED_AFTER_DAYS = 30


def _open_deals(viewer: Any, owner: Any) -> Any:
    """``owner``'s open deals still being worked (not in follow-up) that ``viewer`` may see."""
    from rapport.deals.models import Status
    from rapport.deals.selectors import visible_deals

    # Only what a line shows: a whole card per deal costs more to build than the query.
    return (visible_deals(viewer).filter(owner=owner, status=Status.OPEN, followed_up_at__isnull=True)
            .select_related("card").only("id", "name", "step", "expected_close", "step_entered_at", "card_id", "card__display_name"))


def _deal_entries(deals: list[Any], *, closes: tuple[Any, Any], stalled: bool, today: Any) -> list[Any]:
    """Agenda lines of deals: a close line for each expected close within ``closes`` (from, to;
    ``None``: no lower bound) and, with ``stalled``, a line due ``today`` for each deal stalled
    in its step."""
    import datetime as dt

    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from rapport.core.extensions import AgendaEntry
    from rapport.deals.models import Step

    if not deals:
        return []
    now = timezone.now()
    stalled_since = now - dt.timedelta(days=STALLED_AFTER_DAYS)
    # The texts, step names and address pattern once, not once per deal.
    close_title, close_why = _("Win the commitment: %(deal)s"), _("Expected to close on this date, in step: %(step)s.")
    stalled_title = _("Stalled deal: %(deal)s")
    stalled_why = _("%(days)s days in the step %(step)s; agree the next step with the customer.")
    steps = {value: str(label) for value, label in Step.choices}
    pattern = reverse("deal-detail", args=[0]).replace("/0/", "/{}/")
    first, last = closes
    entries = []
    for deal in deals:
        url, step = pattern.format(deal.pk), steps.get(deal.step, deal.step)
        close = deal.expected_close
        if close is not None and close <= last and (first is None or close >= first):
            entries.append(AgendaEntry(key=f"deals.close:{deal.pk}", due_on=close,
                                       title=close_title % {"deal": deal.name}, why=close_why % {"step": step},
                                       card_id=deal.card_id, card_name=deal.card.display_name, url=url))
        if stalled and deal.step_entered_at < stalled_since:
            entries.append(AgendaEntry(key=f"deals.stalled:{deal.pk}", due_on=today, title=stalled_title % {"deal": deal.name},
                                       why=stalled_why % {"days": (now - deal.step_entered_at).days, "step": step},
                                       card_id=deal.card_id, card_name=deal.card.display_name, url=url))
    return entries


def agenda_entries(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """The rep's open deals whose expected close date comes by ``until``, and those stalled in a step."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    stalled_since = timezone.now() - dt.timedelta(days=STALLED_AFTER_DAYS)
    deals = (_open_deals(viewer, owner).filter(Q(expected_close__lte=until) | Q(step_entered_at__lt=stalled_since))
             .order_by("expected_close", "id")[:100])
    return _deal_entries(list(deals), closes=(None, until), stalled=True, today=timezone.localdate())


def agenda_page(viewer: Any, owner: Any, window: Any) -> Any:
    """What Today shows of the rep's deals: the oldest ``window.overdue_shown`` expected closes
    already past, counting the others, then the closes coming by ``window.until`` and the
    stalled deals (due today, whatever their close date)."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    from rapport.core.extensions import AgendaPage, oldest_overdue

    deals = _open_deals(viewer, owner)
    read, unread = oldest_overdue(deals.filter(expected_close__lt=window.today), window.overdue_shown, "expected_close", "id")
    stalled_since = timezone.now() - dt.timedelta(days=STALLED_AFTER_DAYS)
    coming = list(deals.filter(Q(expected_close__gte=window.today, expected_close__lte=window.until)
                               | Q(step_entered_at__lt=stalled_since)).order_by("expected_close", "id")[:100])
    entries = [*_deal_entries(read, closes=(None, window.today - dt.timedelta(days=1)), stalled=False, today=window.today),
               *_deal_entries(coming, closes=(window.today, window.until), stalled=True, today=window.today)]
    return AgendaPage(entries=entries, overdue_unread=unread)


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.cards.selectors import register_timeline_source
    from rapport.cards.services import register_copy_sync
    from rapport.core.extensions import AgendaFeed, CardPanel, NavEntry, register_agenda_feed, register_card_panel, register_nav_entry
    from rapport.deals.selectors import timeline_entries
    from rapport.deals.services import sync_deal_copies
    from rapport.deals.views.deal import panel_context

    register_copy_sync(sync_deal_copies)
    register_card_panel(CardPanel(key="deals", template="deals/_card_panel.html", column="main", order=15, context=panel_context))
    register_nav_entry(NavEntry(key="deals", url_name="deal-list", label=_("Deals"), order=40))
    register_timeline_source(timeline_entries)
    register_agenda_feed(AgendaFeed(key="deals", label=_("Deals"), entries=agenda_entries, order=20, page=agenda_page))
