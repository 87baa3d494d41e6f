"""Loading and changing the information catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from rapport.catalog import selectors
from rapport.catalog.models import (
    Block,
    InformationItem,
    InformationSource,
    ItemType,
    Sensitivity,
    SourceGroup,
)
from rapport.core.errors import ValidationError
from rapport.core.i18n import SUPPORTED

DATA_DIR = Path(__file__).resolve().parent / "data"


def _check_labels(where: str, labels: Any) -> dict[str, str]:
    if not isinstance(labels, dict) or not labels.get("en"):
        raise ValidationError.single(where, "labels need at least an English text")
    unknown = set(labels) - set(SUPPORTED)
    if unknown:
        raise ValidationError.single(where, f"unknown languages {sorted(unknown)}")
    return {k: str(v) for k, v in labels.items()}


def _item_fields(raw: dict[str, Any], position: int) -> dict[str, Any]:
    key = raw.get("key")
    where = f"items[{key or position}]"
    if raw.get("type") not in ItemType.values:
        raise ValidationError.single(where, f"unknown type {raw.get('type')!r}")
    if raw.get("block") not in Block.values:
        raise ValidationError.single(where, f"unknown block {raw.get('block')!r}")
    if raw.get("sensitivity", "internal") not in Sensitivity.values:
        raise ValidationError.single(where, f"unknown sensitivity {raw.get('sensitivity')!r}")
    tiers = raw.get("required_for_tiers") or []
    if not set(tiers) <= {"A", "B", "C"}:
        raise ValidationError.single(where, "required_for_tiers takes A, B and C only")
    choices = raw.get("choices") or []
    if raw["type"] in (ItemType.CHOICE, ItemType.MULTI_CHOICE) and not choices:
        raise ValidationError.single(where, "a choice item needs choices")
    return {
        "labels": _check_labels(where, raw.get("labels")),
        "help": raw.get("help") or {},
        "type": raw["type"],
        "block": raw["block"],
        "sensitivity": raw.get("sensitivity", "internal"),
        "required_for_tiers": sorted(tiers),
        "cost": int(raw.get("cost", 2)),
        "choices": [{"key": c["key"], "labels": _check_labels(f"{where}.choices", c.get("labels"))} for c in choices],
        "applies_to": raw.get("applies_to", "any"),
        "position": position,
    }


@transaction.atomic
def load_catalog(*, items_path: Path | None = None, sources_path: Path | None = None) -> dict[str, int]:
    """Create or update catalog items and sources from YAML; never deletes (facts point at them)."""
    items_doc = yaml.safe_load((items_path or DATA_DIR / "items.yaml").read_text(encoding="utf-8")) or {}
    sources_doc = yaml.safe_load((sources_path or DATA_DIR / "sources.yaml").read_text(encoding="utf-8")) or {}
    counts = {"items": 0, "sources": 0}
    for position, raw in enumerate(items_doc.get("items", [])):
        InformationItem.objects.update_or_create(key=raw["key"], defaults=_item_fields(raw, position))
        counts["items"] += 1
    for position, raw in enumerate(sources_doc.get("sources", [])):
        if raw.get("group") not in SourceGroup.values:
            raise ValidationError.single(f"sources[{raw.get('key')}]", f"unknown group {raw.get('group')!r}")
        InformationSource.objects.update_or_create(
            key=raw["key"],
            defaults={
                "labels": _check_labels(f"sources[{raw['key']}]", raw.get("labels")),
                "group": raw["group"],
                "default_confidence": int(raw.get("default_confidence", 60)),
                "position": position,
            },
        )
        counts["sources"] += 1
    transaction.on_commit(selectors.clear_cache)
    return counts
