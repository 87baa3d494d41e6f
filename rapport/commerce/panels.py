"""The commerce panels on card pages and the navigation entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.cards.models import Card

LAST_ORDERS = 5
OPEN_INVOICES = 8


def account_panel(user: User, card: Card) -> dict[str, Any] | None:
    """What a rep needs before a call or visit: what the customer owes, what is late, whether
    new orders need approval, and the last orders and open invoices."""
    from rapport.commerce import selectors, services
    from rapport.commerce.money import format_money
    from rapport.commerce.models import Approval, CreditStatus

    can_write = services.may_write(user, card)
    # Most customers have no commercial record yet: one query says which kinds of rows exist,
    # and the queries for the others are not run.
    record = selectors.card_record(card)
    currencies = selectors.statement_currencies(card) if record.invoices or record.payments else []
    credit = selectors.credit_of(card) if record.credit else None
    orders = (
        list(selectors.visible_orders(user).filter(card=card).order_by("-ordered_on", "-id")[:LAST_ORDERS])
        if record.orders else []
    )
    if not currencies and not orders and credit is None and not can_write:
        return None
    balances = []
    for currency in currencies:
        st = selectors.account_statement(card, currency=currency, currencies=currencies, with_last_check=False)
        balances.append({
            "currency": currency, "balance": format_money(st.balance, currency), "overdue": format_money(st.overdue, currency),
            "has_overdue": st.overdue > 0, "is_credit": st.balance < 0,
        })
    today = timezone.localdate()
    invoices = [
        {"invoice": inv, "open": format_money(inv.open_amount, inv.currency), "days": max((today - inv.due_on).days, 0)}
        for inv in selectors.open_invoices(user, card=card.pk).order_by("due_on", "id")[:OPEN_INVOICES]
    ] if record.invoices else []
    return {
        "balances": balances,
        "credit": credit,
        "credit_limit": format_money(credit.limit, credit.currency) if credit and credit.limit is not None else "",
        "credit_warn": credit is not None and credit.status != CreditStatus.OK,
        "orders": [
            {"order": o, "total": format_money(o.total, o.currency), "pending": o.approval == Approval.PENDING,
             "refused": o.approval == Approval.REFUSED}
            for o in orders
        ],
        "invoices": invoices,
        "can_write": can_write,
        "can_set_credit": services.may_approve(user, card),
    }


def register() -> None:
    """Registers card panels and navigation entries."""
    # First of the main column: balance and overdue are what a rep checks before every call.
    register_card_panel(CardPanel(key="account", template="commerce/_card_panel.html", column="main", order=3,
                                  context=account_panel))
    # One entry keeps the main navigation short: collection work, credit approvals and products
    # are tabs of the receivables pages.
    register_nav_entry(NavEntry(key="receivables", url_name="commerce-receivables", label=_("Receivables"), order=45))
