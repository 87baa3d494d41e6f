"""Parsing and validating values of core fields and catalog items. Every error names its field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.core.validators import URLValidator
from django.utils import timezone
from email_validator import EmailNotValidError, validate_email

from rapport.catalog.models import InformationItem, ItemType
from rapport.core.errors import ValidationError

_url_validator = URLValidator(schemes=["http", "https"])


def clean_text(field: str, value: Any, *, required: bool = False, max_length: int | None = None) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError.single(field, _("Expected text."))
    value = value.strip()
    if required and not value:
        raise ValidationError.single(field, _("This field is required."))
    limit = max_length or settings.RAPPORT_MAX_TEXT
    if len(value) > limit:
        raise ValidationError.single(field, _("At most %(limit)s characters (got %(got)s).") % {"limit": limit, "got": len(value)})
    if "\x00" in value:
        raise ValidationError.single(field, _("Text may not contain NUL characters."))
    return value


def parse_phone(field: str, raw: Any, region: str | None = None) -> tuple[str, str]:
    """Returns (E.164, region) for a number typed in ``region`` (or international with +)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError.single(field, _("Expected a phone number."))
    if len(raw) > 60:
        raise ValidationError.single(field, _("A phone number has at most 60 characters."))
    region = (region or settings.RAPPORT_DEFAULT_REGION).upper()
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError.single(field, _("%(value)s is not a phone number.") % {"value": repr(raw)}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError.single(field, _("%(value)s is not a valid phone number for region %(region)s.") % {"value": repr(raw), "region": region})
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(number) or region


def parse_email(field: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError.single(field, _("Expected an e-mail address."))
    if len(raw) > 254:
        raise ValidationError.single(field, _("An e-mail address has at most 254 characters."))
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError.single(field, _("%(value)s is not a valid e-mail address: %(reason)s") % {"value": repr(raw), "reason": exc}) from None


def parse_url(field: str, raw: Any) -> str:
    value = clean_text(field, raw, max_length=500)
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    try:
        _url_validator(value)
    except DjangoValidationError:
        raise ValidationError.single(field, _("%(value)s is not a valid web address.") % {"value": repr(raw)}) from None
    return value


def parse_date(field: str, raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if not isinstance(raw, str):
        raise ValidationError.single(field, _("Expected a date (YYYY-MM-DD)."))
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError.single(field, _("%(value)s is not a date (YYYY-MM-DD).") % {"value": repr(raw)}) from None


def parse_decimal(field: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise ValidationError.single(field, _("Expected a number."))
    try:
        value = Decimal(str(raw).strip().replace(",", ".") if isinstance(raw, str) else str(raw))
    except InvalidOperation:
        raise ValidationError.single(field, _("%(value)s is not a number.") % {"value": repr(raw)}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e15"):
        raise ValidationError.single(field, _("%(value)s is out of range.") % {"value": repr(raw)})
    return value


def parse_money(field: str, raw: Any) -> dict[str, str]:
    """Money as {"amount": "1234.50", "currency": "EUR"}; also accepts "1234.50 EUR"."""
    if isinstance(raw, str):
        parts = raw.strip().split()
        if len(parts) != 2:
            raise ValidationError.single(field, _("%(value)s is not an amount with a currency (e.g. '1200.50 EUR').") % {"value": repr(raw)})
        amount_raw, currency = (parts[0], parts[1]) if not parts[0].isalpha() else (parts[1], parts[0])
        raw = {"amount": amount_raw, "currency": currency}
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise ValidationError.single(field, _('Expected {"amount": ..., "currency": "EUR"}.'))
    amount = parse_decimal(field, raw["amount"]).quantize(Decimal("0.01"))
    currency = raw["currency"]
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ValidationError.single(field, _("%(value)s is not a three-letter currency code.") % {"value": repr(currency)})
    return {"amount": str(amount), "currency": currency.upper()}


def parse_item_value(item: InformationItem, raw: Any, field: str = "value") -> tuple[Any, str]:
    """Validates a value for a catalog item. Returns (stored value, normalised text for filters)."""
    kind = item.type
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationError.single(field, _("A value is required."))
    if kind == ItemType.TEXT:
        value = clean_text(field, raw)
        return value, value.casefold()[:500]
    if kind == ItemType.NUMBER:
        number = parse_decimal(field, raw)
        normalised = format(number.normalize(), "f")
        return normalised, normalised
    if kind == ItemType.MONEY:
        money = parse_money(field, raw)
        return money, f"{money['amount']} {money['currency']}"
    if kind == ItemType.DATE:
        iso = parse_date(field, raw).isoformat()
        return iso, iso
    if kind == ItemType.CHOICE:
        keys = {c["key"] for c in item.choices}
        if not isinstance(raw, str) or raw not in keys:
            raise ValidationError.single(field, _("%(value)s is not one of: %(choices)s.") % {"value": repr(raw), "choices": ", ".join(sorted(keys))})
        return raw, raw
    if kind == ItemType.MULTI_CHOICE:
        keys = {c["key"] for c in item.choices}
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
            raise ValidationError.single(field, _("Expected a list of choices."))
        unknown = [v for v in raw if v not in keys]
        if unknown:
            raise ValidationError.single(field, _("%(values)s not among: %(choices)s.") % {"values": ", ".join(unknown), "choices": ", ".join(sorted(keys))})
        ordered = sorted(set(raw))
        return ordered, "|" + "|".join(ordered) + "|"
    if kind == ItemType.URL:
        url = parse_url(field, raw)
        return url, url.casefold()[:500]
    if kind == ItemType.PHONE:
        e164, _region = parse_phone(field, raw)
        return e164, e164
    if kind == ItemType.EMAIL:
        email = parse_email(field, raw)
        return email, email.casefold()
    if kind == ItemType.PERSON:
        if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
            raise ValidationError.single(field, _("Expected the id of a person card."))
        return int(raw), str(int(raw))
    raise ValidationError.single(field, f"Unsupported item type {kind}.")  # pragma: no cover


def parse_observed_at(raw: Any, field: str = "observed_at") -> dt.datetime:
    """When something was observed or happened: a date (taken as midday) or an aware date-time, not in the future."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time(12, 0))
    elif isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValidationError.single(field, _("%(value)s is not a date or date-time (ISO 8601).") % {"value": repr(raw)}) from None
    else:
        raise ValidationError.single(field, _("Expected a date or date-time (ISO 8601)."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + dt.timedelta(days=1):
        raise ValidationError.single(field, _("This cannot be in the future."))
    return value
