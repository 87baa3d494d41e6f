"""Information quality pages: the card panel (conflicts, completeness, collect next) and the team view."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts import selectors as people_selectors
from rapport.accounts.models import User
from rapport.cards import selectors as card_selectors
from rapport.cards.models import Card
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view
from rapport.quality import selectors, services


def card_panel_context(user: User, card: Card) -> dict[str, Any] | None:
    return {
        "conflicts": selectors.conflicts_of(user, card),
        "completeness": selectors.completeness_of(user, card),
        "suggestions": selectors.collect_next(user, card, limit=5),
        "can_write": scope_for(user).may_write_card(card),
    }


@require_POST
@web_view
def resolve(request: AuthedHttpRequest, card_id: int, item: str) -> HttpResponse:
    """Keeps the value the user verified; the other facts stay in the history."""
    card = card_selectors.get_card(request.user, card_id)
    try:
        services.resolve_conflict(user=request.user, card=card, item_key=item, fact_id=request.POST.get("fact", ""))
    except ValidationError:
        messages.error(request, _("Choose one of the conflicting values."))
    else:
        messages.success(request, _("Conflict resolved: the value you verified is now the card's current value."))
    return redirect("card-detail", card_id=card.pk)


@require_GET
@web_view
def team(request: AuthedHttpRequest) -> HttpResponse:
    """Unresolved conflicts and the least complete valuable cards, for one team or all the user sees."""
    teams = people_selectors.reachable_teams(request.user)
    raw = request.GET.get("team", "")
    chosen = next((t for t in teams if str(t.pk) == raw), None)
    team_id = chosen.pk if chosen else None
    context = {
        "teams": teams,
        "team": chosen,
        "conflicts": selectors.team_conflicts(request.user, team=team_id, limit=100),
        "incomplete": selectors.least_complete(request.user, team=team_id, limit=50),
    }
    return render(request, "quality/team.html", context)
