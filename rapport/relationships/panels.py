"""The relationships app's panels on card pages, registered through rapport.core.extensions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rapport.core.extensions import CardPanel, register_card_panel

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.cards.models import Card


def organization_panel(user: User, card: Card) -> dict[str, Any] | None:
    from rapport.relationships import selectors

    # The panel shows no map: the people linked from outside and their ties are not read.
    unit = selectors.decision_unit_summary(user, card)
    return {"members": unit.members, "warnings": unit.warnings, "influence_total": unit.influence_total}


def person_panel(user: User, card: Card) -> dict[str, Any] | None:
    from rapport.relationships import content, selectors
    from rapport.relationships.models import Style

    state = selectors.contact_summary_of(card)
    return {
        "state": state,
        "style_label": Style(state.style).label if state.style else "",
        "stage": content.stage(state.stage) if state.stage else None,
        "memberships": selectors.memberships_of(user, card) if state.in_units else [],
    }


def register() -> None:
    register_card_panel(
        CardPanel(key="decision_unit", template="relationships/_org_panel.html", column="main", order=40,
                  kinds=("organization",), context=organization_panel)
    )
    register_card_panel(
        CardPanel(key="relationship", template="relationships/_person_panel.html", column="side", order=40,
                  kinds=("person",), context=person_panel)
    )
