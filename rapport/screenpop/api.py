"""``POST /api/v1/screen-pop``: who is calling, and the whole customer.

A POST although it changes nothing: the caller's number is personal data and stays out of
URLs (access logs, proxies, browser history); a read-only token may call it.
"""

from __future__ import annotations

from typing import Any

from ninja import Router

from rapport.core.api import QUERY_AUTH
from rapport.core.http import AuthedHttpRequest
from rapport.screenpop import selectors
from rapport.screenpop.schemas import ScreenPopIn, ScreenPopOut

router = Router(tags=["screen pop"])


@router.post("/screen-pop", response=ScreenPopOut, auth=QUERY_AUTH,
             summary="Who is calling: the 360° of the customer with this number (or name)")
def screen_pop(request: AuthedHttpRequest, body: ScreenPopIn) -> dict[str, Any]:
    """One match: ``customer`` holds the card, its organisation or people, relationship stage and
    coaching, last contacts, open deals, orders and products bought, receivables with their
    collection cell, promises, open complaints and decision-unit warnings. Several: pick one of
    ``candidates`` and ask again with ``card``. None: ``matches`` is 0 and ``number`` is the
    number as read. A number on a card you may not see answers exactly as an unknown one."""
    lookup, customer = selectors.screen_pop(request.user, phone=body.phone, name=body.name, card=body.card, region=body.region)
    return ScreenPopOut.of(lookup, customer)
