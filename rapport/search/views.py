"""The search page, and the live results of the search boxes (header, home page, pickers).

What is searched for is a name, a phone number or an e-mail address, so it is sent in a POST
body (with the CSRF token) and never in the URL: a query string ends up in the address bar,
the browser history, the access logs of every proxy on the way and the ``Referer`` header of
the next page. The results are rendered in the POST response itself; a search changes
nothing, so there is no redirect after it.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from rapport.cards.models import Kind
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import fragment_or_page, is_htmx, web_view
from rapport.search.forms import SearchForm
from rapport.search.selectors import search_cards

LIVE_LIMIT = 8
PAGE_LIMIT = 50


@require_http_methods(["GET", "POST"])
@web_view
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Names in any script, e-mails and phone numbers. htmx gets the result list only.

    GET shows the empty search page; a query string is never read, so no link or bookmark
    can carry a customer's name. POST searches. ``pick=organization`` answers radio buttons
    instead of links, for choosing an organisation inside another form. Text over
    ``MAX_QUERY_LENGTH`` is answered 422 with the reason, never silently cut.
    """
    if request.method != "POST":
        context = {"q": "", "kind": "", "cards": [], "live": False, "limit": PAGE_LIMIT, "form": SearchForm()}
        return fragment_or_page(request, "search/_results.html", "search/search.html", context)
    form = SearchForm(request.POST)
    if not form.is_valid():
        context = {"q": "", "kind": "", "cards": [], "live": False, "limit": PAGE_LIMIT, "form": form}
        return fragment_or_page(request, "search/_results.html", "search/search.html", context, status=422)
    data = form.cleaned_data
    query: str = data["q"]
    pick = data["pick"] == Kind.ORGANIZATION
    kind = Kind.ORGANIZATION if pick else (data["kind"] or None)
    live = is_htmx(request) and data["live"]
    limit = LIVE_LIMIT if live else PAGE_LIMIT
    cards = search_cards(request.user, query, kind=kind, limit=limit) if query.strip() else []
    context = {"q": query, "kind": kind or "", "cards": cards, "live": live, "limit": limit, "form": form}
    if pick and is_htmx(request):
        return render(request, "search/_pick.html", context)
    return fragment_or_page(request, "search/_results.html", "search/search.html", context)
