"""Template helpers of the web UI: htmx headers, phone and date display, fact values."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import phonenumbers
from django import template
from django.middleware.csrf import get_token
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.simple_tag(takes_context=True)
def hx_headers(context: template.Context) -> str:
    """JSON for ``hx-headers`` on <body>: htmx sends the CSRF token on every request (no inline script)."""
    request = context.get("request")
    if request is None:
        return "{}"
    # Autoescaping turns the quotes into &quot; inside the attribute; the browser decodes them back.
    return json.dumps({"X-CSRFToken": get_token(request)})


@register.filter
@functools.lru_cache(maxsize=4096)  # a parse costs ~30 µs; a page shows the same few numbers many times
def phone_display(e164: str) -> str:
    """+40721234567 → +40 721 234 567: the international form, readable and unambiguous."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


@register.filter
def as_datetime(value: Any) -> dt.datetime | dt.date | None:
    """An ISO 8601 string (as stored in a card's profile) as a datetime for the ``date`` filter."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if not value or not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    if parsed is not None:
        return parsed
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@register.filter
def fact_display(fact: Any) -> str:
    """A fact's value as people read it (choice labels, money with currency)."""
    from rapport.cards.selectors import display_value

    return display_value(fact.item, fact.value)


@register.filter
def confidence_band(confidence: int | None) -> str:
    """A CSS modifier for a confidence percentage: low, mid or high."""
    value = confidence or 0
    if value >= 80:
        return "high"
    if value >= 50:
        return "mid"
    return "low"


@register.filter
def item_choices(item: Any) -> list[tuple[str, str]]:
    """(key, label in the active language) for each choice of a catalog item."""
    if item is None:
        return []
    return [(str(c.get("key")), item.choice_label(c.get("key"))) for c in item.choices or []]


@register.filter
def item_help(item: Any) -> str:
    """The catalog's advice on an item (why it pays to know it), in the active language."""
    from rapport.core.i18n import pick_label

    return pick_label(getattr(item, "help", None) or {}) if item is not None else ""


@register.filter
def field_label(form: Any, name: str) -> str:
    """The label of a form field by name (for error summaries)."""
    field = form.fields.get(name) if form is not None else None
    return str(field.label) if field is not None and field.label else name


@register.simple_tag(takes_context=True)
def nav_entries(context: template.Context) -> list[dict[str, str]]:
    """The main-navigation entries other apps registered (rapport.core.extensions)."""
    from rapport.core.extensions import nav_entries as registered

    request = context.get("request")
    return registered(getattr(request, "user", None))


@register.filter
def money(amount: Any, currency: str) -> str:
    """An amount as the reader writes it in their language ("€1,080.00", "1080,00 €")."""
    from rapport.commerce.money import format_money

    if amount is None or amount == "" or not currency:
        return ""
    return format_money(amount, str(currency))
