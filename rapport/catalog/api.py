"""REST endpoints for the information catalog and the information sources."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from rapport.catalog import selectors
from rapport.catalog.models import Sensitivity
from rapport.core.visibility import scope_for
from rapport.catalog.schemas import ItemList, SourceList

router = Router(tags=["catalog"])


@router.get("/items", response=ItemList, summary="Information items (the catalog), in catalog order")
def list_items(request: HttpRequest, block: str = "") -> dict[str, Any]:
    # Special-category items do not exist for users without the sensitive-data clearance.
    special = scope_for(request.user).may_see_special
    items = [
        i for i in selectors.items().values()
        if (not block or i.block == block) and (special or i.sensitivity != Sensitivity.SPECIAL)
    ]
    return {"items": items, "count": len(items)}


@router.get("/sources", response=SourceList, summary="Information sources and prospecting methods")
def list_sources(request: HttpRequest, group: str = "") -> dict[str, Any]:
    sources = [s for s in selectors.sources().values() if not group or s.group == group]
    return {"items": sources, "count": len(sources)}
