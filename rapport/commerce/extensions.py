"""How the commerce app hangs off the rest: the funnel's order evidence, owner and team copies
on invoices, the card timeline, erasure, the import kinds, card panels and navigation. Called
once from ``CommerceConfig.ready()``."""

from __future__ import annotations

from typing import Any


def _open_invoices(viewer: Any, owner: Any) -> Any:
    """The open invoices of ``owner``'s customers that ``viewer`` may see. Visibility is read on
    the invoice's own copies of its card's owner and team (``card_q`` of the one visibility
    policy), so the rep's open invoices are one range of ``invoice_open_owner``."""
    from rapport.commerce.models import OPEN_INVOICE, Invoice
    from rapport.core.visibility import scope_for

    scope = scope_for(viewer)
    invoices = Invoice.objects.filter(OPEN_INVOICE, owner_id=owner.pk)
    if not viewer.is_active:
        return invoices.none()
    if not scope.sees_everything:
        invoices = invoices.filter(scope.card_q(id_field="card_id"))
    # Only what a line shows: a whole card per invoice costs more to build than the query.
    return invoices.select_related("card").only("id", "card_id", "external_id", "currency", "due_on", "open_amount", "team_id",
                                                "card__display_name")


def _invoice_entries(rows: list[Any], today: Any) -> list[Any]:
    """Agenda lines of invoices (their cards read with them), the overdue ones with the cell
    of the collection matrix that says what to do."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rapport.commerce import money, selectors
    from rapport.commerce.models import Cell
    from rapport.core.extensions import AgendaEntry

    if not rows:
        return []
    policies = selectors.policy_table() if any(invoice.due_on < today for invoice in rows) else {}
    # The texts, cell names and address pattern once, not once per invoice.
    overdue_why, due_why = _("%(amount)s overdue %(days)s days: %(action)s."), _("%(amount)s falls due.")
    title = _("Receivable %(number)s of %(name)s")
    actions = {value: str(label) for value, label in Cell.choices}
    pattern = reverse("commerce-invoice", args=[0]).replace("/0/", "/{}/")
    entries = []
    for invoice in rows:
        amount = money.format_money(invoice.open_amount, invoice.currency)
        if invoice.due_on < today:
            days = (today - invoice.due_on).days
            cell = selectors.cell_of(days, invoice.open_amount, selectors.thresholds(invoice.team_id, invoice.currency, policies))
            why = overdue_why % {"amount": amount, "days": days, "action": actions.get(cell, cell)}
        else:
            why = due_why % {"amount": amount}
        entries.append(AgendaEntry(key=f"commerce.invoice:{invoice.pk}", due_on=invoice.due_on,
                                   title=title % {"number": str(invoice), "name": invoice.card.display_name},
                                   why=why, card_id=invoice.card_id, card_name=invoice.card.display_name,
                                   url=pattern.format(invoice.pk)))
    return entries


def agenda_entries(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """Open invoices of the rep's customers falling due by ``until``, the overdue ones with the
    cell of the collection matrix that says what to do."""
    from django.utils import timezone

    return _invoice_entries(list(_open_invoices(viewer, owner).filter(due_on__lte=until).order_by("due_on", "id")[:100]),
                            timezone.localdate())


def agenda_page(viewer: Any, owner: Any, window: Any) -> Any:
    """What Today shows of the rep's receivables: the oldest ``window.overdue_shown`` overdue
    invoices and those falling due by ``window.until``; the other overdue ones only counted."""
    from rapport.core.extensions import AgendaPage, oldest_overdue

    invoices = _open_invoices(viewer, owner)
    late, unread = oldest_overdue(invoices.filter(due_on__lt=window.today), window.overdue_shown, "due_on", "id")
    read = _invoice_entries(late, window.today)
    coming = list(invoices.filter(due_on__gte=window.today, due_on__lte=window.until).order_by("due_on", "id")[:100])
    return AgendaPage(entries=read + _invoice_entries(coming, window.today), overdue_unread=unread)


def register() -> None:
    from rapport.cards.selectors import register_timeline_source
    from rapport.cards.services import register_copy_sync
    from rapport.commerce import importing, panels
    from rapport.commerce.evidence import evidence
    from rapport.commerce.selectors import timeline_entries
    from rapport.commerce.services import erase_commercial_text, sync_invoice_copies
    from rapport.funnel.rules import register_order_evidence
    from rapport.privacy.services import register_erasure_handler

    register_order_evidence(evidence)
    register_copy_sync(sync_invoice_copies)
    register_timeline_source(timeline_entries)
    for label in ("commerce.order", "commerce.invoice", "commerce.payment"):
        register_erasure_handler(label, erase_commercial_text)
    importing.register()
    panels.register()
    from django.utils.translation import gettext_lazy as _

    from rapport.core.extensions import AgendaFeed, register_agenda_feed

    register_agenda_feed(AgendaFeed(key="commerce", label=_("Receivables"), entries=agenda_entries, order=25, page=agenda_page))
