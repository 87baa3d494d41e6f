"""The screen pop page for telephony: ``/pop/#+34612345678``.

The number travels in the URL fragment, which browsers never send to a server, so it is in no
access log, proxy log or Referer. The page's script (``screenpop/pop.js``) reads it and posts
it in a request body; the same form, typed by hand, works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from rapport.agenda.content import country_name
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import fragment_or_page, web_view
from rapport.screenpop import selectors


def _context(user: Any, lookup: selectors.Lookup | None, *, text: str = "", error: str = "") -> dict[str, Any]:
    customer = selectors.customer_360(user, lookup.cards[0]) if lookup is not None and len(lookup.cards) == 1 else None
    return {
        "lookup": lookup, "customer": customer, "text": text, "error": error,
        "can_create": scope_for(user).role != "analyst",
        "region_name": country_name(lookup.region if lookup is not None else selectors.caller_region(user)),
    }


@require_http_methods(["GET", "POST"])
@web_view
def pop(request: AuthedHttpRequest) -> HttpResponse:
    """GET: the empty page (its script pops the number in the fragment). POST: the answer,
    as a fragment for the page's script or as the whole page without JavaScript."""
    if request.method == "GET":
        return render(request, "screenpop/pop.html", _context(request.user, None))
    text = (request.POST.get("q") or "")[:200]
    try:
        lookup = selectors.find_text(request.user, text)
    except ValidationError as exc:
        message = " ".join(m for msgs in exc.errors.values() for m in msgs)
        context = _context(request.user, None, text=text, error=message)
        return fragment_or_page(request, "screenpop/_result.html", "screenpop/pop.html", context, status=422)
    context = _context(request.user, lookup, text=text)
    return fragment_or_page(request, "screenpop/_result.html", "screenpop/pop.html", context)


@require_GET
@web_view
def pop_card(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    """One of several matches, chosen from the list (a card id in the URL is no personal data)."""
    lookup = selectors.by_card(request.user, card_id)
    return render(request, "screenpop/pop.html", _context(request.user, lookup))
