"""``rapport audit purge``: applies the audit retention (RAPPORT_AUDIT_RETENTION_DAYS)."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_purge(args: argparse.Namespace) -> int:
    from rapport.audit.services import purge_expired, retention_days
    from rapport.cli import out

    days = retention_days()
    if days <= 0:
        out.print("Audit retention is unlimited (RAPPORT_AUDIT_RETENTION_DAYS=0); nothing purged.")
        return 0
    removed = purge_expired()
    out.print(f"Removed {removed} audit entries older than {days} days.")
    return 0


def register(subparsers: Any, command: Any) -> None:
    audit = subparsers.add_parser("audit", help="The audit log.")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    command("purge", cmd_purge, "Remove audit entries older than the configured retention.", sub)
