"""``rapport segments refresh``: recompute ABC tiers and every card's segmentation dimensions."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_refresh(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rapport.funnel.services import apply_order_evidence
    from rapport.segments.services import refresh

    console = Console()
    moves = apply_order_evidence()
    result = refresh()
    tiers = ", ".join(f"{t}: {n}" for t, n in sorted(result.tiers.items())) or "-"
    console.print(
        f"Refreshed {result.cards} cards in {result.seconds:.1f} s: {result.valued} with a value (tiers {tiers}); "
        f"{len(moves)} automatic stage moves.",
        markup=False,
    )
    return 0


def register(subparsers: Any, command: Any) -> None:
    group = subparsers.add_parser("segments", help="Segmentation: tiers and dimensions.")
    sub = group.add_subparsers(dest="segments_command", metavar="ACTION", required=True)
    command(
        "refresh", cmd_refresh,
        "Move stages from order evidence, recompute ABC tiers (RAPPORT_TIER_THRESHOLDS) and every card's dimensions.",
        sub,
    )
