"""``rapport pop +34612345678``: the screen pop in a terminal, for a quick look-up or a script."""

from __future__ import annotations

import argparse
from typing import Any

from rapport.cli import EXIT_OK, out, viewer


def _print_customer(c: dict[str, Any]) -> None:
    def line(text: str) -> None:
        out.print(text, markup=False)

    line(f"{c['name']} ({c['kind']}, {c['stage']}{', tier ' + c['tier'] if c['tier'] else ''}) — owner {c['owner']}")
    for phone in c["phones"]:
        line(f"  phone {phone['e164']} ({phone['kind']})")
    if c["best_time"]:
        line(f"  best time to call: {c['best_time']}")
    for job in c["works_at"]:
        line(f"  works at {job['name']}" + (f" as {job['title']}" if job["title"] else ""))
    for person in c["people"]:
        line(f"  person {person['name']}" + (f", {person['title']}" if person["title"] else ""))
    rel = c["relationship"]
    if rel and (rel["stage"] or rel["style"]):
        line(f"  relationship: {rel['stage_label'] or '—'}; style: {rel['style_label'] or '—'}")
        if rel["how_to_open"]:
            line(f"    open with: {rel['how_to_open']}")
    for w in c["warnings"]:
        line(f"  ! {w['message']}")
    for o in c["overdue"]:
        line(f"  ! overdue {o['amount']} {o['currency']}")
    sections = [
        ("last contacts", [f"{a['occurred_at']:%Y-%m-%d} {a['kind']}: {a['summary']}" for a in c["last_contacts"]]),
        ("open deals", [f"{d['name']} — {d['step']}, {d['amount']} {d['currency']}" for d in c["open_deals"]]),
        ("receivables", [f"{r['number'] or r['id']}: {r['open_amount']} {r['currency']}, due {r['due_on']}"
                         + (f", {r['days_overdue']} days late ({r['cell_label']})" if r["days_overdue"] else "") for r in c["receivables"]]),
        ("orders", [f"{o['ordered_on']} {o['status']} {o['total']} {o['currency']}" for o in c["orders"]]),
        ("products bought", [f"{p['name']}: {p['orders']} orders, last {p['last_on']}" for p in c["products"]]),
        ("promises", [f"{p['by']}: {p['text']}" + (f" (due {p['due_on']})" if p["due_on"] else "") for p in c["promises"]]),
        ("open complaints", [f"{s['subject']}" for s in c["complaints"]]),
        ("follow-ups", [f"{t['due_on']} {t['title']}" for t in c["follow_ups"]]),
    ]
    for title, rows in sections:
        if rows:
            line(f"  {title}:")
            for row in rows:
                line(f"    {row}")


def cmd_pop(args: argparse.Namespace) -> int:
    from rapport.screenpop.schemas import ScreenPopOut
    from rapport.screenpop.selectors import looks_like_phone, screen_pop

    user = viewer(args.user)
    text = " ".join(args.query).strip()
    if looks_like_phone(text):
        result = ScreenPopOut.of(*screen_pop(user, phone=text, region=args.region))
    else:
        result = ScreenPopOut.of(*screen_pop(user, name=text, region=args.region))
    if result["matches"] == 0:
        out.print(f"No customer has {result['number'] or text!r}.", markup=False)
    elif result["customer"] is None:
        out.print(f"{result['matches']} customers match:", markup=False)
        for cand in result["candidates"]:
            works = f" — {', '.join(cand['works_at'])}" if cand["works_at"] else ""
            out.print(f"  #{cand['id']} {cand['name']} ({cand['kind']}){works}", markup=False)
    else:
        _print_customer(result["customer"])
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    pop = command("pop", cmd_pop, "Who is calling: the 360° of the customer with a phone number (or a name).", subparsers)
    pop.add_argument("query", nargs="+", metavar="NUMBER_OR_NAME", help="+34 612 34 56 78, 612345678 or a name")
    pop.add_argument("--user", metavar="USERNAME", help="whose view (default: the first administrator)")
    pop.add_argument("--region", metavar="CC", help="country of a number without a country code (default: the user's)")
