"""Reading the catalog. Items and sources change rarely, so each process keeps them in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rapport.catalog.models import InformationItem, InformationSource

_TTL_SECONDS = 30.0


@dataclass
class _Cache:
    loaded_at: float = 0.0
    items: dict[str, InformationItem] | None = None
    items_by_id: dict[int, InformationItem] | None = None
    sources: dict[str, InformationSource] | None = None
    sources_by_id: dict[int, InformationSource] | None = None
    # (card kind, sensitivity classes) -> the items a reader with those classes may read there
    readable: dict[tuple[str, frozenset[str]], dict[str, InformationItem]] = field(default_factory=dict)


_cache = _Cache()


def clear_cache() -> None:
    _cache.loaded_at = 0.0
    _cache.items = _cache.items_by_id = None
    _cache.sources = _cache.sources_by_id = None
    _cache.readable = {}


def _ensure() -> _Cache:
    if _cache.items is None or time.monotonic() - _cache.loaded_at > _TTL_SECONDS:
        items = list(InformationItem.objects.filter(active=True))
        sources = list(InformationSource.objects.filter(active=True))
        _cache.items = {i.key: i for i in items}
        _cache.items_by_id = {i.id: i for i in items}
        _cache.sources = {s.key: s for s in sources}
        _cache.sources_by_id = {s.id: s for s in sources}
        _cache.readable = {}
        _cache.loaded_at = time.monotonic()
    return _cache


def items() -> dict[str, InformationItem]:
    """Active catalog items by key, in catalog order."""
    return _ensure().items or {}


def readable_items(kind: str, sensitivities: frozenset[str]) -> dict[str, InformationItem]:
    """Active items that apply to cards of ``kind`` and whose sensitivity is among
    ``sensitivities``, by key in catalog order: worked out once per reload for each reader class,
    since every card read asks it."""
    cache = _ensure()
    key = (kind, sensitivities)
    found = cache.readable.get(key)
    if found is None:
        found = cache.readable[key] = {
            k: i for k, i in (cache.items or {}).items() if i.sensitivity in sensitivities and i.applies_to in ("any", kind)
        }
    return found


def item_by_id(item_id: int) -> InformationItem | None:
    return (_ensure().items_by_id or {}).get(item_id)


def sources() -> dict[str, InformationSource]:
    return _ensure().sources or {}


# Sources only programs record (an import, the API, the demo generator): offered to nobody
# in a form, since a person who types a fact is never "a file import".
MACHINE_SOURCES = frozenset({"import", "api", "demo"})


def source_by_id(source_id: int) -> InformationSource | None:
    return (_ensure().sources_by_id or {}).get(source_id)


def required_items(tier: str, kind: str) -> list[InformationItem]:
    """The items a card of this tier and kind is expected to have."""
    if not tier:
        return []
    return [
        i for i in items().values() if tier in i.required_for_tiers and i.applies_to in ("any", kind)
    ]
