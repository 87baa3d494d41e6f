"""How the commerce app hangs off the rest: the funnel's order evidence, the import kinds,
card panels and navigation. Called once from ``CommerceConfig.ready()``."""

from __future__ import annotations


def register() -> None:
    from rapport.commerce import importing, panels
    from rapport.commerce.evidence import evidence
    from rapport.funnel.rules import register_order_evidence

    register_order_evidence(evidence)
    importing.register()
    panels.register()
