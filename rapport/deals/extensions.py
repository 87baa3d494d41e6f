"""How deals hang off the rest of Rapport: the card's owner and team copied onto its deals, the
deals panel on organisation and person cards, the "Deals" entry of the main navigation and
the deal events of a card's timeline."""

from __future__ import annotations

from typing import Any

# An open deal that has not moved to another step for this many days is stalled.
STALLED_AFTER_DAYS = 30


def agenda_entries(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """The rep's open deals whose expected close date comes by ``until``, and those stalled in a step."""
    import datetime as dt

    from django.db.models import Q
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from rapport.core.extensions import AgendaEntry
    from rapport.deals.models import Status, Step
    from rapport.deals.selectors import visible_deals

    today = timezone.localdate()
    stalled_since = timezone.now() - dt.timedelta(days=STALLED_AFTER_DAYS)
    deals = (visible_deals(viewer).filter(owner=owner, status=Status.OPEN, followed_up_at__isnull=True)
             .filter(Q(expected_close__lte=until) | Q(step_entered_at__lt=stalled_since))
             .select_related("card").defer("card__profile", "card__social").order_by("expected_close", "id")[:100])
    # The texts, step names and address pattern once, not once per deal.
    close_title, close_why = _("Win the commitment: %(deal)s"), _("Expected to close on this date, in step: %(step)s.")
    stalled_title = _("Stalled deal: %(deal)s")
    stalled_why = _("%(days)s days in the step %(step)s; agree the next step with the customer.")
    steps = {value: str(label) for value, label in Step.choices}
    pattern = reverse("deal-detail", args=[0]).replace("/0/", "/{}/")
    now = timezone.now()
    entries = []
    for deal in deals:
        url, step = pattern.format(deal.pk), steps.get(deal.step, deal.step)
        if deal.expected_close is not None and deal.expected_close <= until:
            entries.append(AgendaEntry(key=f"deals.close:{deal.pk}", due_on=deal.expected_close,
                                       title=close_title % {"deal": deal.name}, why=close_why % {"step": step},
                                       card_id=deal.card_id, card_name=deal.card.display_name, url=url))
        if deal.step_entered_at < stalled_since:
            entries.append(AgendaEntry(key=f"deals.stalled:{deal.pk}", due_on=today, title=stalled_title % {"deal": deal.name},
                                       why=stalled_why % {"days": (now - deal.step_entered_at).days, "step": step},
                                       card_id=deal.card_id, card_name=deal.card.display_name, url=url))
    return entries


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
    register_agenda_feed(AgendaFeed(key="deals", label=_("Deals"), entries=agenda_entries, order=20))
