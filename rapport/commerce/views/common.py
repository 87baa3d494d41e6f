"""What the commerce pages share: labels, names of documents, amounts and choices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts.models import User
from rapport.cards.models import Card
from rapport.commerce import selectors
from rapport.commerce.models import Cell, InvoiceKind, Order, PaymentKind
from rapport.commerce.money import format_money

BLANK_LINES = 4  # empty line rows on a new order; more are added with the "Add a line" button
AGING_LABELS = {
    "current": gettext_lazy("Not yet due"),
    "1_30": gettext_lazy("1–30 days"),
    "31_60": gettext_lazy("31–60 days"),
    "61_90": gettext_lazy("61–90 days"),
    "over_90": gettext_lazy("Over 90 days"),
}
# The matrix as the seeds draw it: rows by how long overdue, columns by how much.
MATRIX_ROWS = (
    (gettext_lazy("Short overdue"), (Cell.SHORT_SMALL, Cell.SHORT_LARGE)),
    (gettext_lazy("Long overdue"), (Cell.LONG_SMALL, Cell.LONG_LARGE)),
)
CELL_HINTS = {
    Cell.SHORT_SMALL: gettext_lazy("Finance sends the reminder letter."),
    Cell.SHORT_LARGE: gettext_lazy("The rep visits to collect."),
    Cell.LONG_SMALL: gettext_lazy("The manager takes over collection."),
    Cell.LONG_LARGE: gettext_lazy("Rep and management agree a payment plan."),
}
KIND_LABELS = {**dict(InvoiceKind.choices), **dict(PaymentKind.choices)}


def doc_name(record: Any) -> str:
    """How a document is named to people: its own number, else its kind and date (never a row id)."""
    if record.external_id:
        return str(record.external_id)
    if isinstance(record, Order):
        return _("Order of %(date)s") % {"date": record.ordered_on.isoformat()}
    return _("%(kind)s of %(date)s") % {"kind": record.get_kind_display(), "date": record.issued_on.isoformat()}


def _today() -> dt.date:
    return timezone.localdate()


def _amounts(amounts: dict[str, Decimal]) -> list[str]:
    return [format_money(value, currency) for currency, value in sorted(amounts.items())]


def _open_invoice_choices(user: User, card: Card, currency: str | None = None) -> list[tuple[int, str]]:
    qs = selectors.open_invoices(user, card=card.pk).order_by("due_on", "id")
    if currency:
        qs = qs.filter(currency=currency)
    return [
        (inv.pk, _("%(number)s · due %(due)s · %(open)s open") % {
            "number": doc_name(inv), "due": inv.due_on.isoformat(), "open": format_money(inv.open_amount, inv.currency)})
        for inv in qs[:200]
    ]
