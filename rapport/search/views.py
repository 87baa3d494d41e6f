"""The search page, and the live results of the search box in the header."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rapport.cards.models import Kind
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import fragment_or_page, is_htmx, web_view
from rapport.search.selectors import search_cards

LIVE_LIMIT = 8
PAGE_LIMIT = 50


@require_GET
@web_view
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Names in any script, e-mails and phone numbers. htmx gets the result list only.

    ``pick=organization`` answers radio buttons instead of links, for choosing an
    organisation inside another form.
    """
    query = request.GET.get("q", "")[:200]
    raw_kind = request.GET.get("kind", "")
    kind = raw_kind if raw_kind in Kind.values else None
    pick = request.GET.get("pick") == "organization"
    if pick:
        kind = Kind.ORGANIZATION
    # The header's search box asks for a short dropdown; the search page for a full list.
    live = is_htmx(request) and request.GET.get("live") == "1"
    limit = LIVE_LIMIT if live else PAGE_LIMIT
    cards = search_cards(request.user, query, kind=kind, limit=limit) if query.strip() else []
    context = {"q": query, "kind": kind or "", "cards": cards, "live": live, "limit": limit}
    if pick and is_htmx(request):
        return render(request, "search/_pick.html", context)
    return fragment_or_page(request, "search/_results.html", "search/search.html", context)
