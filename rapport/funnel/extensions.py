"""How the funnel hangs off the rest of Rapport: parked prospects' check-back dates on the agenda."""

from __future__ import annotations

from typing import Any


def check_backs(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """Prospects and targets the rep parked until a date that has come (or comes by ``until``)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rapport.cards.models import Stage
    from rapport.core.extensions import AgendaEntry
    from rapport.core.visibility import scope_for
    from rapport.funnel.models import Qualification

    if viewer is None or not viewer.is_active:
        return []
    # From the few dated qualifications to their cards, visibility (the one policy's ``card_q``)
    # checked on those cards only, rather than listing every card the viewer may see.
    scope = scope_for(viewer)
    rows = Qualification.objects.filter(check_back_on__isnull=False, check_back_on__lte=until, card__owner=owner,
                                        card__archived_at__isnull=True,
                                        card__lifecycle_stage__in=[Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET])
    if not scope.sees_everything:
        rows = rows.filter(scope.card_q(prefix="card__"))
    rows = (rows
            .select_related("card").defer("card__profile", "card__social").order_by("check_back_on", "card_id")[:100])
    return [AgendaEntry(key=f"funnel.check_back:{q.card_id}", due_on=q.check_back_on,
                        title=_("Check back with %(name)s") % {"name": q.card.display_name},
                        why=_("Parked until this date: the right moment to ask again."),
                        card_id=q.card_id, card_name=q.card.display_name, url=reverse("card-detail", args=[q.card_id]))
            for q in rows]


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.core.extensions import AgendaFeed, register_agenda_feed

    register_agenda_feed(AgendaFeed(key="funnel.check_back", label=_("Check back"), entries=check_backs, order=30))
