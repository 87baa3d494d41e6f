"""How the commerce app hangs off the rest: the funnel's order evidence, owner and team copies
on invoices, the card timeline, erasure, the import kinds, card panels and navigation. Called
once from ``CommerceConfig.ready()``."""

from __future__ import annotations


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
