"""``rapport dedup``: find likely duplicates, fill the review queue, optionally merge the surest pairs."""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

KINDS = {"people": "person", "organizations": "organization"}
REPORT_COLUMNS = ["left_id", "right_id", "left_external_id", "right_external_id", "score", "reasons"]


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("expected a number from 0 to 1")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("expected a whole number from 1 to 64")
    return value


def register(subparsers: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    from rapport.dedup.matching import DEFAULT_THRESHOLD

    p = command("dedup", cmd_dedup, "Find likely duplicate cards, queue them for review, optionally merge the surest.", subparsers)
    p.add_argument("--kind", required=True, choices=sorted(KINDS))
    p.add_argument("--threshold", type=_probability, default=DEFAULT_THRESHOLD, metavar="T",
                   help=f"queue pairs scoring at least T (0..1, default {DEFAULT_THRESHOLD})")
    p.add_argument("--auto-merge-above", type=_probability, metavar="T2",
                   help="merge pairs scoring at least T2 right away (the older card survives; undo stays possible)")
    p.add_argument("--report", metavar="PAIRS.csv", help="write every pair found to this CSV file")
    p.add_argument("--user", metavar="USERNAME", help="act as this user (default: the first admin); only their visible cards are compared")
    p.add_argument("--no-queue", action="store_true", help="do not store the pairs in the review queue")
    p.add_argument("--train", action="store_true",
                   help="first learn the matching weights from these cards and store them (admins only; "
                        "later scans and checks use them)")
    p.add_argument("--train-only", action="store_true", help="learn and store the weights, then stop: no scan")
    p.add_argument("--workers", type=_workers, default=1, metavar="N",
                   help="processes sharing the comparisons (default 1; more pays only on idle cores: "
                        "each forked process copies the memory it touches)")


def _safe_cell(value: str) -> str:
    # A spreadsheet would run a cell starting with one of these as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _trained_summary(model: Any, seconds: float) -> str:
    from rapport.dedup.scoring import LEVELS

    about = model.about
    if not model.trained:
        if about.get("why") == "too_few_records":
            return f"Too few cards to learn from ({about.get('records', 0)}): the default weights stay."
        return f"Too few likely duplicates among {about.get('records', 0)} cards to learn from: the default weights stay."
    lines = [
        f"Weights learned from {about['records']} cards in {seconds:.1f} s ({about['candidate_pairs']} candidate pairs, "
        f"{about['rounds']} rounds; about {about['expected_duplicates']} duplicate pairs expected):"
    ]
    for field, levels in model.weights.items():
        names = LEVELS[field]
        lines.append(f"  {field:<13} " + "  ".join(f"{n} {w:+.1f}" for n, w in zip(names, levels)))
    return "\n".join(lines)


def cmd_dedup(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rapport.accounts.models import User
    from rapport.cli import UsageError
    from rapport.dedup import services

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.auto_merge_above is not None and args.auto_merge_above < args.threshold:
        raise UsageError("--auto-merge-above must be at least --threshold.")
    if args.user:
        user = User.objects.filter(username=args.user, is_active=True).first()
        if user is None:
            raise UsageError(f"Unknown user {args.user!r}.")
    else:
        user = User.objects.filter(is_active=True, role="admin").order_by("id").first() or User.objects.filter(
            is_active=True, is_superuser=True
        ).order_by("id").first()
        if user is None:
            raise UsageError("No admin user: create one, or name a user with --user.")
    report: Path | None = Path(args.report) if args.report else None
    if report is not None and not report.parent.is_dir():
        raise UsageError(f"No such directory: {report.parent}")
    kind = KINDS[args.kind]
    if args.train or args.train_only:
        with err.status(f"Learning the weights from the {args.kind}…"):
            trained = services.train(user=user, kind=kind)
        out.print(_trained_summary(trained.model, trained.seconds))
        if args.train_only:
            return 0
    started = time.perf_counter()
    with err.status(f"Comparing {args.kind}…"):
        result = services.scan(
            user=user, kind=kind, threshold=args.threshold, store=not args.no_queue,
            workers=args.workers,
        )
    elapsed = time.perf_counter() - started
    if report is not None:
        with report.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(REPORT_COLUMNS)
            for pair in result.pairs:
                left, right = result.records[pair.left], result.records[pair.right]
                writer.writerow([
                    pair.left, pair.right, _safe_cell(left.external_id), _safe_cell(right.external_id),
                    f"{pair.score:.4f}", ";".join(pair.reasons),
                ])
    stats = result.stats
    out.print(
        f"{stats.records} {args.kind} compared in {elapsed:.1f} s ({stats.compared} pairs scored): "
        f"{len(result.pairs)} likely duplicates at ≥ {args.threshold}, {result.created} new in the review queue."
    )
    if args.auto_merge_above is not None:
        with err.status("Merging…"):
            merged = services.auto_merge(user=user, pairs=result.pairs, above=args.auto_merge_above)
        out.print(f"{merged.merged} pairs merged at ≥ {args.auto_merge_above}; {merged.skipped} skipped.")
    if report is not None:
        out.print(f"Report: {report}")
    return 0
