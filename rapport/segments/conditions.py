"""Segment conditions: what a segment may filter on, how each is checked, and how it becomes SQL.

A condition is ``{"field": name, "value": ...}``; all conditions of a segment must hold.

=============  ===========================================  =======================================
field          value                                        matches cards
=============  ===========================================  =======================================
stage          list of lifecycle stages                     at one of the stages
tier           list of "A", "B", "C", "" (no tier)          of one of the tiers
owner          list of user ids                             owned by one of them
team           list of team ids                             of one of the teams
industry       list of industry names                       in one of the industries
size_band      list of size bands                           of one of the sizes
method         list of prospecting method keys              found by one of the methods
referred       true / false                                 with / without a referrer
country        list of ISO country codes                    with an address in one of them
region         text                                         with an address in that region
created        {"from": date, "to": date} (either optional)  created in the period
updated        {"from": date, "to": date}                   last changed in the period
item           {"key": item key, "value": optional}         with that catalog item (of that value)
likely, buying, familiar, frequent, priority   true / false  with that dimension (``segments refresh``)
=============  ===========================================  =======================================

The same checks run when a segment is saved and every time it is used, with the user who
uses it: a shared segment naming an item above that user's clearance, or an item deleted
since, is refused with the same message as an unknown item — it never silently matches more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Q
from django.db.models.lookups import Exact, In
from django.utils import timezone

from rapport.cards.models import Address, CurrentValue, Kind, SizeBand, Stage, Tier
from rapport.cards.values import parse_date, parse_item_value
from rapport.catalog import selectors as catalog
from rapport.catalog.models import ItemType, Sensitivity, SourceGroup
from rapport.core.errors import ValidationError
from rapport.core.visibility import scope_for

LIST_FIELDS = ("stage", "tier", "owner", "team", "industry", "size_band", "method", "country")
BOOL_FIELDS = ("referred", "likely", "buying", "familiar", "frequent", "priority")
DIMENSIONS = ("likely", "buying", "familiar", "frequent", "priority")
# Card.dimension_flags: two bits per dimension, (known true, known false); neither before the
# card's first refresh, and "frequent" is neither for a card that does not buy.
DIMENSION_BITS = {
    "likely": (1, 2), "buying": (4, 8), "familiar": (16, 32), "frequent": (64, 128), "priority": (256, 512),
}
PERIOD_FIELDS = ("created", "updated")
FIELDS = (*LIST_FIELDS, *BOOL_FIELDS, *PERIOD_FIELDS, "region", "item")
MAX_CONDITIONS = 20
MAX_VALUES = 200


def _list(name: str, value: Any, *, ints: bool = False) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValidationError.single(name, "Expected a non-empty list.")
    if len(value) > MAX_VALUES:
        raise ValidationError.single(name, f"At most {MAX_VALUES} values.")
    if ints:
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**62 for v in value):
            raise ValidationError.single(name, "Expected a list of ids.")
    elif not all(isinstance(v, str) and len(v) <= 120 for v in value):
        raise ValidationError.single(name, "Expected a list of texts.")
    return sorted(set(value), key=str)


def _period(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value or set(value) - {"from", "to"}:
        raise ValidationError.single(name, 'Expected {"from": date, "to": date} (either may be left out).')
    out = {}
    for end in ("from", "to"):
        if value.get(end) not in (None, ""):
            out[end] = parse_date(f"{name}.{end}", value[end]).isoformat()
    if not out:
        raise ValidationError.single(name, "Give a start date, an end date or both.")
    if "from" in out and "to" in out and out["to"] < out["from"]:
        raise ValidationError.single(f"{name}.to", "The end date is before the start date.")
    return out


def _item(user: Any, name: str, value: Any) -> tuple[dict[str, Any], Any]:
    """The checked item condition, and the item (None when above clearance or gone)."""
    if not isinstance(value, dict) or not isinstance(value.get("key"), str) or set(value) - {"key", "value"}:
        raise ValidationError.single(name, 'Expected {"key": item key, "value": optional value}.')
    item = catalog.items().get(value["key"])
    scope = scope_for(user)
    refused = (
        item is None
        or (item.sensitivity == Sensitivity.SPECIAL and not scope.may_see_special)
        or (item.sensitivity == Sensitivity.CONFIDENTIAL and scope.confidential_q() is None)
    )
    if refused:
        # Same words for "deleted", "never existed" and "above your clearance": no oracle.
        raise ValidationError.single(name, f"Unknown catalog item {value['key'][:64]!r}.")
    assert item is not None
    out: dict[str, Any] = {"key": item.key}
    if value.get("value") not in (None, ""):
        raw = value["value"]
        if item.type == ItemType.MULTI_CHOICE:
            if not isinstance(raw, str) or raw not in {c["key"] for c in item.choices}:
                raise ValidationError.single(f"{name}.value", f"{raw!r} is not a choice of {item.key}.")
            out["value"] = raw
        elif item.type == ItemType.TEXT:
            if not isinstance(raw, str) or len(raw) > 500:
                raise ValidationError.single(f"{name}.value", "Expected text of at most 500 characters.")
            out["value"] = raw.strip()
        else:
            parse_item_value(item, raw, field=f"{name}.value")
            out["value"] = raw
    return out, item


def clean(user: Any, kind: str, conditions: Any) -> list[dict[str, Any]]:
    """The conditions in canonical form, or a ValidationError naming each bad one."""
    if kind not in ("", Kind.ORGANIZATION, Kind.PERSON):
        raise ValidationError.single("kind", "Expected organization, person or nothing (both).")
    if not isinstance(conditions, list):
        raise ValidationError.single("conditions", "Expected a list of conditions.")
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError.single("conditions", f"At most {MAX_CONDITIONS} conditions.")
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, cond in enumerate(conditions):
        name = f"conditions[{i}]"
        if not isinstance(cond, dict) or set(cond) - {"field", "value"} or "field" not in cond:
            errors.setdefault(name, []).append('Expected {"field": ..., "value": ...}.')
            continue
        fld, value = cond["field"], cond.get("value")
        if fld not in FIELDS:
            errors.setdefault(f"{name}.field", []).append(f"{str(fld)[:40]!r} is not one of: {', '.join(FIELDS)}.")
            continue
        if fld in seen and fld != "item":
            errors.setdefault(f"{name}.field", []).append(f"{fld} appears twice; list several values in one condition instead.")
            continue
        seen.add(fld)
        try:
            out.append({"field": fld, "value": _clean_value(user, f"{name}.value", fld, value)})
        except ValidationError as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return out


def _clean_value(user: Any, name: str, fld: str, value: Any) -> Any:
    if fld in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValidationError.single(name, "Expected true or false.")
        return value
    if fld in PERIOD_FIELDS:
        return _period(name, value)
    if fld == "region":
        if not isinstance(value, str) or not value.strip() or len(value) > 120:
            raise ValidationError.single(name, "Expected a region name.")
        return value.strip()
    if fld == "item":
        return _item(user, name, value)[0]
    values = _list(name, value, ints=fld in ("owner", "team"))
    allowed: set[str] | None = {
        "stage": set(Stage.values), "tier": {*Tier.values, ""}, "size_band": set(SizeBand.values),
        "method": {s.key for s in catalog.sources().values() if s.group == SourceGroup.METHOD},
    }.get(fld)
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationError.single(name, f"Unknown {fld}: {', '.join(map(str, bad[:5]))}.")
    if fld in ("owner", "team"):
        # Ids of people and teams outside the user's reach are refused like unknown ones.
        from rapport.accounts import selectors as people

        reachable = {u.id for u in people.filter_owners(user)} if fld == "owner" else {t.id for t in people.reachable_teams(user)}
        unknown = [v for v in values if v not in reachable]
        if unknown:
            raise ValidationError.single(name, f"Unknown {'user' if fld == 'owner' else 'team'}: {', '.join(map(str, unknown[:5]))}.")
    if fld == "country":
        values = [v.upper() for v in values]
        if not all(len(v) == 2 and v.isalpha() for v in values):
            raise ValidationError.single(name, "Expected ISO 3166 two-letter country codes.")
    return values


def _day_start(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time.min))


def to_q(user: Any, kind: str, conditions: Any, *, ordered: bool = True) -> Q:
    """The filter of a segment for this user; re-checks every condition first.

    ``ordered``: the query reads members in name order (a page, a list), from the list indexes;
    otherwise (a count) it may seek on the prospecting method in the segment index.
    """
    cleaned = clean(user, kind, conditions)
    q = Q(kind=kind) if kind else Q()
    scope = scope_for(user)
    for cond in cleaned:
        fld, value = cond["field"], cond["value"]
        if fld == "stage":
            q &= Q(lifecycle_stage__in=value)
        elif fld in ("tier", "industry", "size_band"):
            q &= Q(**{f"{fld}__in": value})
        elif fld in ("owner", "team"):
            q &= Q(**{f"{fld}_id__in": value})
        elif fld == "method":
            ids = [s.id for k, s in catalog.sources().items() if k in value]
            # In name order, checked in the list indexes, never read through the method index:
            # that one holds no visibility or segment columns, and SQLite's estimate for an IN
            # of several methods would have it fetch a card from the table for each of
            # 100,000s. A count seeks on it in the segment index (stage, tier, method, date).
            q &= Q(In(F("found_by_id") + 0, ids)) if ordered else Q(found_by_id__in=ids)
        elif fld == "referred":
            q &= Q(referred_by__isnull=not value)
        elif fld == "country":
            q &= Q(pk__in=Address.objects.filter(country__in=value).values("card_id"))
        elif fld == "region":
            q &= Q(pk__in=Address.objects.filter(region__iexact=value).values("card_id"))
        elif fld in PERIOD_FIELDS:
            column = "created_at" if fld == "created" else "updated_at"
            if "from" in value:
                q &= Q(**{f"{column}__gte": _day_start(value["from"])})
            if "to" in value:
                q &= Q(**{f"{column}__lt": _day_start(value["to"]) + dt.timedelta(days=1)})
        elif fld in DIMENSIONS:
            # The card's copy of its dimensions (written by ``segments refresh``), checked in the
            # list and segment indexes rather than looked up card by card.
            bit = DIMENSION_BITS[fld][0 if value else 1]
            q &= Q(Exact(F("dimension_flags").bitand(bit), bit))
        elif fld == "item":
            item = catalog.items()[value["key"]]
            values = CurrentValue.objects.filter(item_id=item.id)
            if "value" in value:
                if item.type == ItemType.MULTI_CHOICE:
                    values = values.filter(value_text__contains=f"|{value['value']}|")
                elif item.type == ItemType.TEXT:
                    values = values.filter(value_text=str(value["value"]).strip().casefold())
                else:
                    values = values.filter(value_text=parse_item_value(item, value["value"])[1])
            q &= Q(pk__in=values.values("card_id"))
            if item.sensitivity == Sensitivity.CONFIDENTIAL:
                # Matching on a confidential value must not reveal it on cards where the user cannot read it.
                allowed = scope.confidential_q()
                assert allowed is not None  # clean() refused the item otherwise
                q &= allowed
    return q
