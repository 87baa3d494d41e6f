"""Counts as the reader writes them: "2,245" in English, "2245" and "12.345" in Spanish, "2,245" in Chinese."""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django import template
from django.conf import settings
from django.utils import translation

register = template.Library()


def reader_locale(language: str | None = None) -> Locale:
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).replace("-", "_")
    try:
        return Locale.parse(code)
    except (ValueError, TypeError, LookupError, UnknownLocaleError):  # an unknown code reads as English
        return Locale.parse("en")


@register.filter
def number(value: Any) -> str:
    """An integer or decimal with the reader's digit grouping and decimal sign; other values as they are."""
    if value is None or value == "" or isinstance(value, bool):
        return "" if value is None else str(value)
    try:
        return format_decimal(value, locale=reader_locale())
    except (ValueError, TypeError, ArithmeticError):
        return str(value)
