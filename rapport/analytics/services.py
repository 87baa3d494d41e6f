"""Write use-cases of analytics: creating, changing and deleting promotions.

Reports never write; promotions are the one thing analytics keeps. Managers and
administrators write them, everyone else reads them; each write is checked here (the web
form, the API and the demo all come through) and leaves an audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.analytics.models import MAX_BASELINE_DAYS, Promotion
from rapport.audit.services import record
from rapport.cards.values import clean_text, parse_date
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for

FIELDS = ("name", "description", "starts_on", "ends_on", "baseline_days", "products", "categories", "regions", "countries")
MAX_ITEMS = 200  # products, categories, regions or countries on one promotion


def may_manage(user: Any) -> bool:
    """Managers and administrators plan promotions."""
    return bool(user.is_active) and scope_for(user).role in ("admin", "manager")


def _texts(field: str, value: Any, *, upper: bool = False, length: int = 120) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError.single(field, _("Expected a list of names."))
    cleaned = sorted({v.strip().upper() if upper else v.strip() for v in value if v.strip()})
    if len(cleaned) > MAX_ITEMS or any(len(v) > length for v in cleaned):
        raise ValidationError.single(field, _("Too many or too long names."))
    return cleaned


def _clean(data: dict[str, Any], current: Promotion | None) -> tuple[dict[str, Any], list[int] | None]:
    """The promotion's fields from plain data (a partial change keeps the rest), checked by name."""
    from rapport.commerce.models import Product

    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError.single(unknown[0], _("Unknown field."))
    values: dict[str, Any] = {}
    if "name" in data or current is None:
        values["name"] = clean_text("name", data.get("name"), required=True, max_length=200)
    if "description" in data:
        values["description"] = clean_text("description", data.get("description"), max_length=500)
    for name in ("starts_on", "ends_on"):
        if name in data or current is None:
            if data.get(name) in (None, ""):
                raise ValidationError.single(name, _("Required."))
            day = parse_date(name, data.get(name))
            if not dt.date(1900, 1, 1) <= day <= dt.date(2999, 12, 31):
                raise ValidationError.single(name, _("Choose a date between %(first)s and %(last)s.")
                                             % {"first": "1900-01-01", "last": "2999-12-31"})
            values[name] = day
    starts = values.get("starts_on", current.starts_on if current else None)
    ends = values.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        raise ValidationError.single("ends_on", _("The promotion ends before it starts."))
    if "baseline_days" in data:
        raw = data.get("baseline_days")
        if raw in (None, ""):
            values["baseline_days"] = None
        else:
            try:
                days = int(raw)
            except (TypeError, ValueError):
                raise ValidationError.single("baseline_days", _("Expected a whole number of days.")) from None
            if isinstance(raw, bool) or not 1 <= days <= MAX_BASELINE_DAYS:
                raise ValidationError.single("baseline_days", _("Between 1 and %(most)s days.") % {"most": MAX_BASELINE_DAYS})
            values["baseline_days"] = days
    if "categories" in data:
        values["categories"] = _texts("categories", data.get("categories"))
    if "regions" in data:
        values["regions"] = _texts("regions", data.get("regions"))
    if "countries" in data:
        countries = _texts("countries", data.get("countries"), upper=True, length=2)
        if any(len(c) != 2 or not c.isalpha() for c in countries):
            raise ValidationError.single("countries", _("Expected two-letter country codes."))
        values["countries"] = countries
    product_ids: list[int] | None = None
    if "products" in data:
        raw_ids = data.get("products") or []
        if not isinstance(raw_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw_ids):
            raise ValidationError.single("products", _("Expected a list of product ids."))
        if len(raw_ids) > MAX_ITEMS:
            raise ValidationError.single("products", _("Too many or too long names."))
        product_ids = sorted(set(raw_ids))
        found = set(Product.objects.filter(pk__in=product_ids, is_ours=True).values_list("pk", flat=True))
        if found != set(product_ids):
            raise ValidationError.single("products", _("Unknown product."))
    return values, product_ids


def _refuse_unless_manager(user: Any) -> None:
    if not may_manage(user):
        raise PermissionDenied(_("Only managers and administrators plan promotions."))


def _snapshot(promotion: Promotion) -> dict[str, Any]:
    return {"name": promotion.name, "starts_on": promotion.starts_on.isoformat(), "ends_on": promotion.ends_on.isoformat(),
            "baseline_days": promotion.baseline_days, "categories": promotion.categories, "regions": promotion.regions,
            "countries": promotion.countries, "products": sorted(promotion.products.values_list("pk", flat=True))}


def create_promotion(*, user: Any, data: dict[str, Any]) -> Promotion:
    _refuse_unless_manager(user)
    values, product_ids = _clean(data, None)
    with transaction.atomic():
        promotion = Promotion.objects.create(created_by=user, **values)
        if product_ids:
            promotion.products.set(product_ids)
        record(action="create", record=promotion, actor=user, detail=_snapshot(promotion))
    return promotion


def update_promotion(*, user: Any, promotion: Promotion, data: dict[str, Any],
                     expected_version: int | None = None) -> Promotion:
    _refuse_unless_manager(user)
    values, product_ids = _clean(data, promotion)
    with transaction.atomic():
        # Locked so two editors cannot both pass the version check.
        current = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(_("The promotion was changed by someone else; reload it."))
        before = _snapshot(current)
        Promotion.objects.filter(pk=current.pk).update(**values, updated_at=timezone.now(), version=F("version") + 1)
        current.refresh_from_db()
        if product_ids is not None:
            current.products.set(product_ids)
        record(action="update", record=current, actor=user, detail={"before": before, "after": _snapshot(current)})
    return current


def delete_promotion(*, user: Any, promotion: Promotion) -> None:
    _refuse_unless_manager(user)
    with transaction.atomic():
        record(action="delete", record=promotion, actor=user, detail=_snapshot(promotion))
        promotion.delete()
