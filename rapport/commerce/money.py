"""Money: ISO 4217 currencies, rounding to a currency's minor units, and amounts in the reader's locale.

Babel carries the CLDR data (which currencies exist, how many decimals each has, how each
locale writes an amount), so none of it is written by hand here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.conf import settings
from django.utils import translation

from rapport.core.errors import ValidationError

# The largest amount accepted anywhere: far above any real invoice, below what the columns hold.
MAX_AMOUNT = Decimal("999999999999")


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def reporting_currency() -> str:
    return str(getattr(settings, "RAPPORT_REPORTING_CURRENCY", "EUR"))


def parse_currency(value: Any, field: str = "currency") -> str:
    """An ISO 4217 code in capitals, or a ValidationError naming ``field``."""
    code = str(value or "").strip().upper()
    if not code:
        raise ValidationError.single(field, "A currency is required (an ISO 4217 code such as EUR).")
    if len(code) != 3 or code not in currencies():
        raise ValidationError.single(field, f"{str(value)[:20]!r} is not an ISO 4217 currency code.")
    return code


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-get_currency_precision(currency))


def parse_decimal(value: Any, field: str, *, allow_zero: bool = False, allow_negative: bool = False,
                  maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A finite decimal from a number or text ("1234.50", "1 234,50" is refused: ambiguous)."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError.single(field, "A number is required.")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError.single(field, f"{str(value)[:40]!r} is not a number (use a dot for decimals).") from None
    if not number.is_finite():
        raise ValidationError.single(field, "The number must be finite.")
    if number < 0 and not allow_negative:
        raise ValidationError.single(field, "The number must not be negative.")
    if number == 0 and not allow_zero:
        raise ValidationError.single(field, "The number must be greater than zero.")
    if abs(number) > maximum:
        raise ValidationError.single(field, f"The number must not exceed {maximum}.")
    return number


def parse_amount(value: Any, currency: str, field: str = "amount", *, allow_zero: bool = False,
                 allow_negative: bool = False) -> Decimal:
    """An amount rounded to the currency's minor units (cents; none for JPY; mills for KWD)."""
    number = parse_decimal(value, field, allow_zero=allow_zero, allow_negative=allow_negative)
    return round_money(number, currency)


def round_money(number: Decimal, currency: str) -> Decimal:
    return number.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def babel_locale(language: str | None = None) -> Locale:
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).replace("-", "_")
    try:
        return Locale.parse(code)
    except Exception:  # an unknown or malformed code falls back to English
        return Locale.parse("en")


def format_money(amount: Decimal | int | float | None, currency: str, language: str | None = None) -> str:
    """``1234.5, "EUR"`` as the reader writes it: "€1,234.50", "1.234,50 €", "1.234,50 EUR"…"""
    if amount is None:
        return ""
    return format_currency(Decimal(amount), currency, locale=babel_locale(language))


def text(amount: Decimal | None, currency: str) -> str | None:
    """An amount as the API writes it: a decimal string with the currency's minor units ("1234.50")."""
    if amount is None:
        return None
    return str(round_money(Decimal(amount), currency)) if currency else str(amount)
