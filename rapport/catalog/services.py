"""Loading and changing the information catalog."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

from rapport.catalog import selectors
from rapport.catalog.models import (
    Block,
    InformationItem,
    InformationSource,
    ItemType,
    Sensitivity,
    SourceGroup,
)
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.i18n import SUPPORTED
from rapport.core.visibility import scope_for

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


def check_sensitivity_change(item: InformationItem, sensitivity: str) -> None:
    if sensitivity not in Sensitivity.values:
        raise ValidationError.single("sensitivity", _("Unknown sensitivity “%(value)s”.") % {"value": sensitivity})
    if item.sensitivity == Sensitivity.SPECIAL and sensitivity != Sensitivity.SPECIAL:
        raise ValidationError.single(
            "sensitivity",
            _("“%(item)s” is a special-category item and stays one: its values were collected with explicit consent "
              "and are kept encrypted. Create a new item for less sensitive information.") % {"item": item.key},
        )


@transaction.atomic
def change_sensitivity(*, user: Any, item: InformationItem, sensitivity: str, batch: int = 500) -> InformationItem:
    """Changes who may read an item's values, with everything already stored following at once.

    Becoming special seals, in this same transaction, every value already recorded for the
    item (facts, current values, profiles, merge snapshots, audit values: see
    ``rapport.privacy.services.seal_item``), so no plaintext copy outlives the change. The
    change is audited with how many rows were sealed. Other processes see the new sensitivity
    when their catalog cache expires (30 s); a value one of them records in that window is
    sealed by the next ``rapport privacy rotate-keys``.

    Special → anything lower is refused rather than decrypted: those values were collected
    under the rules for special categories (explicit consent, a recorded legal basis, access
    only with clearance), and downgrading would silently show them to every user who sees the
    card and write their plaintext back into the database and its backups. Information that is
    really less sensitive gets a new item. Administrators only (``user=None``: the operator).
    """
    if user is not None and scope_for(user).role != "admin":
        raise PermissionDenied(_("Only administrators change the catalog."))
    locked = InformationItem.objects.select_for_update().get(pk=item.pk)
    check_sensitivity_change(locked, sensitivity)
    old = locked.sensitivity
    if old == sensitivity:
        return locked
    locked.sensitivity = sensitivity
    locked.save(update_fields=["sensitivity"])
    detail: dict[str, Any] = {}
    if sensitivity == Sensitivity.SPECIAL:
        from rapport.privacy.services import seal_item

        detail = {"sealed": asdict(seal_item(item=locked, batch=batch))}
    from rapport.audit.services import record as audit

    audit(action="update", record=locked, actor=user, field="sensitivity", old=old, new=sensitivity, detail=detail)
    # This process writes with the new sensitivity from now on; the others within the cache TTL.
    selectors.clear_cache()
    transaction.on_commit(selectors.clear_cache)
    return locked


@transaction.atomic
def load_catalog(*, items_path: Path | None = None, sources_path: Path | None = None) -> dict[str, int]:
    """Create or update catalog items and sources from YAML; never deletes (facts point at them)."""
    items_doc = yaml.safe_load((items_path or DATA_DIR / "items.yaml").read_text(encoding="utf-8")) or {}
    sources_doc = yaml.safe_load((sources_path or DATA_DIR / "sources.yaml").read_text(encoding="utf-8")) or {}
    counts = {"items": 0, "sources": 0}
    for position, raw in enumerate(items_doc.get("items", [])):
        fields = _item_fields(raw, position)
        existing = InformationItem.objects.filter(key=raw["key"]).first()
        if existing is not None and existing.sensitivity != fields["sensitivity"]:
            # A changed sensitivity goes through its use-case: stored values are sealed at once.
            change_sensitivity(user=None, item=existing, sensitivity=fields["sensitivity"])
        InformationItem.objects.update_or_create(key=raw["key"], defaults=fields)
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
