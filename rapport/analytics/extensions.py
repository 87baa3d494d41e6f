"""How analytics hangs off the rest of Rapport: the "Churn" entry of the main navigation."""

from __future__ import annotations


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from rapport.core.extensions import NavEntry, register_nav_entry

    register_nav_entry(NavEntry(key="churn", url_name="analytics-churn", label=_("Churn"), order=52))
