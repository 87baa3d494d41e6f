"""How the funnel hangs off the rest of Rapport: parked prospects' check-back dates on the agenda."""

from __future__ import annotations

from typing import Any


def _parked(viewer: Any, owner: Any) -> Any:
    """Qualifications of ``owner``'s prospects and targets parked until a date, as far as
    ``viewer`` may see their cards."""
    from rapport.cards.models import Stage
    from rapport.core.visibility import scope_for
    from rapport.funnel.models import Qualification

    if viewer is None or not viewer.is_active:
        return Qualification.objects.none()
    # From the few dated qualifications to their cards, visibility (the one policy's ``card_q``)
    # checked on those cards only, rather than listing every card the viewer may see.
    scope = scope_for(viewer)
    rows = Qualification.objects.filter(check_back_on__isnull=False, card__owner=owner, card__archived_at__isnull=True,
                                        card__lifecycle_stage__in=[Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET])
    if not scope.sees_everything:
        rows = rows.filter(scope.card_q(prefix="card__"))
    return rows.select_related("card").only("card_id", "check_back_on", "card__display_name")


def _check_back_entries(rows: list[Any]) -> list[Any]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rapport.core.extensions import AgendaEntry

    if not rows:
        return []
    why = _("Parked until this date: the right moment to ask again.")
    card_url = reverse("card-detail", args=[0]).replace("/0/", "/{}/")
    return [AgendaEntry(key=f"funnel.check_back:{q.card_id}", due_on=q.check_back_on,
                        title=_("Check back with %(name)s") % {"name": q.card.display_name}, why=why,
                        card_id=q.card_id, card_name=q.card.display_name, url=card_url.format(q.card_id))
            for q in rows]


def check_backs(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """Prospects and targets the rep parked until a date that has come (or comes by ``until``)."""
    return _check_back_entries(list(_parked(viewer, owner).filter(check_back_on__lte=until).order_by("check_back_on", "card_id")[:100]))


def check_backs_page(viewer: Any, owner: Any, window: Any) -> Any:
    """What Today shows: the oldest ``window.overdue_shown`` check-back dates already past,
    counting the others, and those coming by ``window.until``."""
    from rapport.core.extensions import AgendaPage, oldest_overdue

    rows = _parked(viewer, owner)
    read, unread = oldest_overdue(rows.filter(check_back_on__lt=window.today), window.overdue_shown, "check_back_on", "card_id")
    coming = list(rows.filter(check_back_on__gte=window.today, check_back_on__lte=window.until)
                  .order_by("check_back_on", "card_id")[:100])
    return AgendaPage(entries=_check_back_entries(read + coming), overdue_unread=unread)


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.core.extensions import AgendaFeed, register_agenda_feed

    register_agenda_feed(AgendaFeed(key="funnel.check_back", label=_("Check back"), entries=check_backs, order=30,
                                    page=check_backs_page))
