"""How analytics hangs off the rest of Rapport: the "Analytics" entry of the main navigation, the
silent regulars the churn model flags as daily reminders on the agenda, and the cross-sell list
on a customer's card."""

from __future__ import annotations

from typing import Any


def silent_regulars(as_of: Any) -> list[Any]:
    """A reminder to each rep for every regular customer of theirs the churn model flags as
    gone silent (``RAPPORT_CHURN_ALERT``), once per silence, the reason in the rep's language."""
    from django.conf import settings
    from django.db.models import Q
    from django.utils.translation import gettext as _
    from django.utils.translation import override

    from rapport.accounts.models import User
    from rapport.analytics.selectors import churn_report
    from rapport.core.extensions import ReminderSpec

    # The daily run reads every customer: through the first administrator's (whole) view.
    viewer = User.objects.filter(Q(is_superuser=True) | Q(role="admin"), is_active=True).order_by("id").first()
    if viewer is None:
        return []
    languages = dict(User.objects.values_list("id", "language"))
    specs = []
    for row in churn_report(viewer, as_of=as_of).rows:
        if not row.flagged or row.chance is None or row.usual_interval_days is None:
            continue
        with override(languages.get(row.owner_id) or settings.LANGUAGE_CODE):
            why = _("Usually orders every ~%(usual)s days; silent for %(silent)s days "
                    "(at its usual pace a silence this long happens only %(chance)s %% of the time).") % {
                "usual": round(row.usual_interval_days), "silent": row.days_silent,
                "chance": "< 1" if row.chance < 0.01 else str(round(row.chance * 100))}
        specs.append(ReminderSpec(owner_id=row.owner_id, key=f"{row.card_id}:{row.last_order_on.isoformat()}", due_on=as_of,
                                  title=row.name, why=why, card_id=row.card_id))
    return specs


def cross_sell_panel(user: Any, card: Any) -> dict[str, Any] | None:
    """The card's cross-sell list: what customers buying what it buys also buy; left out when
    the customer bought none of our products in the last year, or nothing is to suggest."""
    from rapport.analytics.selectors import cross_sell

    suggestions = cross_sell(user, card)
    return {"suggestions": suggestions} if suggestions else None


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
    from rapport.core.extensions import register_reminder_source

    # One entry for the whole section: the dashboard leads to every report, the churn report first.
    register_nav_entry(NavEntry(key="analytics", url_name="analytics-dashboard", label=_("Analytics"), order=52))
    register_reminder_source("analytics.silent", silent_regulars)
    register_card_panel(CardPanel(key="cross_sell", template="analytics/_cross_sell_panel.html", column="side",
                                  order=75, context=cross_sell_panel))
