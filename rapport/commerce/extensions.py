"""How the commerce app hangs off the rest: the funnel's order evidence, owner and team copies
on invoices, the card timeline, erasure, the import kinds, card panels and navigation. Called
once from ``CommerceConfig.ready()``."""

from __future__ import annotations

from typing import Any


def agenda_entries(viewer: Any, owner: Any, until: Any) -> list[Any]:
    """Open invoices of the rep's customers falling due by ``until``, the overdue ones with the
    cell of the collection matrix that says what to do."""
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from rapport.commerce import money, selectors
    from rapport.commerce.models import OPEN_INVOICE, Cell, Invoice
    from rapport.core.visibility import scope_for
    from rapport.core.extensions import AgendaEntry

    today = timezone.localdate()
    # Visibility on the invoice's own copies of its card's owner and team (``card_q`` of the
    # one visibility policy), so the rep's open invoices are one range of ``invoice_open_owner``.
    scope = scope_for(viewer)
    invoices = Invoice.objects.filter(OPEN_INVOICE, owner_id=owner.pk, due_on__lte=until)
    if not viewer.is_active:
        invoices = invoices.none()
    elif not scope.sees_everything:
        invoices = invoices.filter(scope.card_q(id_field="card_id"))
    invoices = invoices.select_related("card").defer("card__profile", "card__social").order_by("due_on", "id")[:100]
    policies = selectors.policy_table() if invoices else {}
    # The texts, cell names and address pattern once, not once per invoice.
    overdue_why, due_why = _("%(amount)s overdue %(days)s days: %(action)s."), _("%(amount)s falls due.")
    title = _("Receivable %(number)s of %(name)s")
    actions = {value: str(label) for value, label in Cell.choices}
    pattern = reverse("commerce-invoice", args=[0]).replace("/0/", "/{}/")
    entries = []
    for invoice in invoices:
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

    register_agenda_feed(AgendaFeed(key="commerce", label=_("Receivables"), entries=agenda_entries, order=25))
