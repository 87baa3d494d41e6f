"""``rapport privacy``: data-subject export and erasure, retention sweep, key rotation."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_export(args: argparse.Namespace) -> int:
    from rapport.cli import out
    from rapport.privacy import services

    document = services.export_person(user=None, card_id=args.person_id)
    text = services.vcard_of(document) if args.format == "vcard" else services.export_json(document)
    if args.output:
        path = Path(args.output)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)  # personal data: readable by the operator only
        out.print(f"Wrote the export of person {args.person_id} to {path}.", markup=False)
    else:
        print(text, end="")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from rapport.cli import err, out
    from rapport.privacy import services

    if not args.yes:
        err.print("Erasure cannot be undone; repeat with --yes to erase.")
        return 2
    result = services.erase_person(user=None, card_id=args.person_id)
    out.print(f"Erased person {args.person_id}; the audit log names them {result.pseudonym}.", markup=False)
    for what, count in sorted(result.summary.items()):
        out.print(f"  {what}: {count}", markup=False)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.table import Table

    from rapport.cli import out
    from rapport.privacy import services

    report = services.sweep(dry_run=args.dry_run)
    table = Table(title="Retention sweep" + (" (dry run: nothing removed)" if args.dry_run else ""))
    for column in ("rule", "inactive months", "cards", "facts"):
        table.add_column(column)
    for line in report:
        table.add_row(line.rule, str(line.months), str(line.cards), str(line.facts))
    out.print(table)
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from rapport.cli import out
    from rapport.privacy import crypto, services

    if args.new_key:
        path = crypto.add_key_to_file()
        out.print(f"Added a new key first in {path}; the old keys stay for reading.", markup=False)
    result = services.rotate_keys()
    out.print(f"Re-encrypted {result.facts} facts and {result.cards} card profiles with key {result.key}.")
    return 0


def register(subparsers: Any, command: Any) -> None:
    privacy = subparsers.add_parser("privacy", help="Data-subject export and erasure, retention, encryption keys.")
    sub = privacy.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    export = command("export", cmd_export, "Everything held about one person, as JSON (default) or vCard.", sub)
    export.add_argument("person_id", type=int)
    export.add_argument("--output", "-o", metavar="FILE")
    export.add_argument("--format", choices=["json", "vcard"], default="json")
    erase = command("erase", cmd_erase, "Erase one person everywhere, leaving a tombstone (cannot be undone).", sub)
    erase.add_argument("person_id", type=int)
    erase.add_argument("--yes", action="store_true", help="confirm the erasure")
    sweep = command("sweep", cmd_sweep, "Apply the retention rules and report what was purged.", sub)
    sweep.add_argument("--dry-run", action="store_true")
    rotate = command("rotate-keys", cmd_rotate, "Re-encrypt every sealed value with the newest key.", sub)
    rotate.add_argument("--new-key", action="store_true", help="first add a fresh key to the key file")
