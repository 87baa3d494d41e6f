"""``rapport receivables``, ``rapport collect`` and ``rapport statement``: the commercial record from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from rapport.cli import EXIT_OK, UsageError, out, viewer


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} takes a date as YYYY-MM-DD, not {value!r}.") from None


def cmd_receivables(args: argparse.Namespace) -> int:
    from rich.table import Table

    from rapport.commerce import money, selectors
    from rapport.commerce.models import Cell

    user = viewer(args.user)
    matrix = selectors.receivables_matrix(user, as_of=_date(args.as_of, "--as-of"), team=args.team, rep=args.rep)

    def amounts(by_currency: dict[str, Any]) -> str:
        return ", ".join(money.format_money(v, c, "en") for c, v in sorted(by_currency.items())) or "-"

    out.print(f"Overdue invoices as of {matrix.as_of.isoformat()}", markup=False)
    for cell, where in ((Cell.SHORT_SMALL, "short overdue, small amount"), (Cell.SHORT_LARGE, "short overdue, large amount"),
                        (Cell.LONG_SMALL, "long overdue, small amount"), (Cell.LONG_LARGE, "long overdue, large amount")):
        total = matrix.cells[cell]
        out.print(f"  {where}: {Cell(cell).label}: {total.count} invoices, {amounts(total.amounts)}", markup=False)
    aging = Table(title="Aging of open invoices")
    for column in ("bucket", "invoices", "open amount"):
        aging.add_column(column)
    labels = {"current": "not yet due", "1_30": "1–30 days", "31_60": "31–60 days", "61_90": "61–90 days", "over_90": "over 90 days"}
    for bucket, label in labels.items():
        aging.add_row(label, str(matrix.aging_counts[bucket]), amounts(matrix.aging[bucket]))
    out.print(aging)
    return EXIT_OK


def cmd_collect(args: argparse.Namespace) -> int:
    from rapport.commerce.collection import generate_tasks

    counts = generate_tasks(as_of=_date(args.as_of, "--as-of"))
    out.print(f"Collection tasks: {counts['created']} created, {counts['closed']} closed.", markup=False)
    return EXIT_OK


def cmd_statement(args: argparse.Namespace) -> int:
    from rapport.audit.services import record
    from rapport.cards.selectors import get_card
    from rapport.commerce import documents, money, selectors

    user = viewer(args.user)
    card = get_card(user, args.customer)
    statement = selectors.account_statement(card, currency=(args.currency or "").upper() or None,
                                            date_from=_date(args.date_from, "--from"), date_to=_date(args.date_to, "--to"))
    if args.output:
        path = Path(args.output)
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in ("pdf", "xlsx"):
            raise UsageError("--output must end in .pdf or .xlsx.")
        body = documents.statement_pdf(statement, args.language) if suffix == "pdf" else documents.statement_xlsx(statement, args.language)
        path.write_bytes(body)
        record(action="export", record=card, actor=user, detail={"document": "statement", "format": suffix, "channel": "cli"})
        out.print(f"Wrote the statement of {card.display_name} ({statement.currency}) to {path}.", markup=False)
        return EXIT_OK
    cur = statement.currency
    out.print(f"{card.display_name}: {len(statement.lines)} entries in {cur or 'no currency'}; "
              f"balance {money.format_money(statement.balance, cur, 'en') if cur else '0'}, "
              f"overdue {money.format_money(statement.overdue, cur, 'en') if cur else '0'}.", markup=False)
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    r = command("receivables", cmd_receivables, "Show the collection matrix and the aging of open invoices.")
    r.add_argument("--as-of", metavar="YYYY-MM-DD")
    r.add_argument("--team", type=int, metavar="ID")
    r.add_argument("--rep", type=int, metavar="USER_ID")
    r.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    c = command("collect", cmd_collect, "Turn overdue invoices into collection tasks for the right people (run daily).")
    c.add_argument("--as-of", metavar="YYYY-MM-DD")
    s = command("statement", cmd_statement, "Print a customer's balance, or write the account statement as PDF or XLSX.")
    s.add_argument("customer", help="card id")
    s.add_argument("--currency", metavar="CODE")
    s.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    s.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    s.add_argument("--output", metavar="FILE.pdf|FILE.xlsx")
    s.add_argument("--language", default="en", choices=["en", "es", "zh-hans", "ro"])
    s.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
