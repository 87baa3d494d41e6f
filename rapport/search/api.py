"""The search endpoint.

``POST /search`` takes the text in a JSON body: a name, a phone number or an e-mail address is
personal data, and a query string ends up in proxy and server access logs, browser histories
and ``Referer`` headers. ``GET /search?q=`` is kept for existing clients and deprecated.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from rapport.cards.schemas import CardList, CardOut
from rapport.cards.selectors import card_rows
from rapport.core.api import QUERY_AUTH
from rapport.core.http import AuthedHttpRequest
from rapport.search.forms import MAX_QUERY_LENGTH
from rapport.search.selectors import search_card_ids

router = Router(tags=["search"])


class SearchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(..., min_length=1, max_length=MAX_QUERY_LENGTH, description="A name in any script, a phone number or an e-mail address")
    kind: Literal["organization", "person"] | None = None
    limit: int = Field(20, ge=1, le=100)


def _answer(request: AuthedHttpRequest, q: str, kind: str | None, limit: int) -> dict[str, Any]:
    # The cards found, read as rows (no model instances): the answer is made of their columns.
    rows = card_rows(request.user, search_card_ids(request.user, q, kind=kind, limit=limit))
    return {"items": [CardOut.from_row(r) for r in rows], "count": len(rows)}


@router.post(
    "", response=CardList, auth=QUERY_AUTH, summary="Search names (any script), e-mails and phone numbers",
    description="The text goes in the body, so it stays out of URLs and access logs. Read-only tokens may call it.",
)
def search(request: AuthedHttpRequest, body: SearchIn) -> dict[str, Any]:
    return _answer(request, body.q, body.kind, body.limit)


@router.get(
    "", response=CardList, deprecated=True, summary="Search by query string (deprecated: use POST /search)",
    description="Puts the searched name in the URL, where access logs and proxies keep it. Use POST /search.",
)
def search_by_query_string(
    request: AuthedHttpRequest,
    response: HttpResponse,
    q: str = Query(..., min_length=1, max_length=MAX_QUERY_LENGTH),
    kind: Literal["organization", "person"] | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    response["Deprecation"] = "true"  # RFC 9745
    response["Link"] = '</api/v1/search>; rel="successor-version"'
    return _answer(request, q, kind, limit)
