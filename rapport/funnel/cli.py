"""``rapport funnel auto``: apply the automatic stage rules (first order, regular, dormant) to every card."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_auto(args: argparse.Namespace) -> int:
    from collections import Counter

    from rich.console import Console

    from rapport.funnel import rules
    from rapport.funnel.services import apply_order_evidence

    console = Console()
    if rules.order_evidence() is None:
        console.print("No order evidence yet: the automatic rules start once an orders app provides order dates.", markup=False)
        return 0
    moves = apply_order_evidence()
    tally = Counter(m.rule for m in moves)
    console.print(f"{len(moves)} automatic stage moves: " + (", ".join(f"{k} {n}" for k, n in sorted(tally.items())) or "none"), markup=False)
    return 0


def register(subparsers: Any, command: Any) -> None:
    group = subparsers.add_parser("funnel", help="Lifecycle stages and the funnel.")
    sub = group.add_subparsers(dest="funnel_command", metavar="ACTION", required=True)
    command("auto", cmd_auto, "Apply the automatic stage rules from order evidence (run nightly).", sub)
