"""How the commerce app hangs off the rest: the funnel's order evidence, the import kinds,
card panels and navigation. Called once from ``CommerceConfig.ready()``."""

from __future__ import annotations


def register() -> None:
    from rapport.cards.services import register_copy_sync
    from rapport.commerce import importing, panels
    from rapport.commerce.services import sync_invoice_copies
    from rapport.commerce.evidence import evidence
    from rapport.funnel.rules import register_order_evidence

    register_order_evidence(evidence)
    register_copy_sync(sync_invoice_copies)
    from rapport.commerce.services import erase_commercial_text
    from rapport.privacy.services import register_erasure_handler

    for label in ("commerce.order", "commerce.invoice", "commerce.payment"):
        register_erasure_handler(label, erase_commercial_text)
    importing.register()
    panels.register()
