"""``rapport deals list`` and ``rapport deals show``: deals from the command line, as a user sees them."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rapport.cli import EXIT_OK, UsageError, out, viewer

LIST_LIMIT = 200  # rows printed by ``deals list``; the footer says how many matched


def _user_id(username: str) -> int:
    from rapport.accounts.models import User

    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    if user_id is None:
        raise UsageError(f"--owner: no user {username!r}.")
    return int(user_id)


def _print_json(data: Any) -> None:
    from django.core.serializers.json import DjangoJSONEncoder

    # print, not rich: the output is for other programs and must stay byte-exact JSON.
    print(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))


def cmd_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    from rapport.commerce import money
    from rapport.deals import selectors
    from rapport.deals.models import STEP_ORDER
    from rapport.deals.schemas import DealFilter, DealOut

    user = viewer(args.user)
    if args.step and args.step not in STEP_ORDER:
        raise UsageError(f"--step takes one of: {', '.join(STEP_ORDER)}.")
    flt = DealFilter.model_validate({"owner": _user_id(args.owner) if args.owner else None, "step": args.step, "status": args.status})
    deals = flt.narrow(selectors.visible_deals(user))
    total = deals.count()
    rows = list(deals.select_related("card", "owner", "team")[:LIST_LIMIT])
    if args.json:
        _print_json({"items": [DealOut.of(d) for d in rows], "count": total})
        return EXIT_OK
    table = Table(title=f"Deals seen by {user.get_username()}")
    # Names fold onto more lines; amounts and dates never do, so a narrow terminal cuts no figure.
    for column in ("id", "deal", "customer", "step", "amount", "close", "owner"):
        fold = column in ("deal", "customer")
        table.add_column(column, overflow="fold" if fold else "ellipsis", no_wrap=not fold, justify="right" if column == "amount" else "left")
    for d in rows:
        step = d.step if d.is_open else f"{d.step} ({d.status})"
        table.add_row(str(d.pk), d.name, d.card.display_name, step, money.format_money(d.amount, d.currency, "en"),
                      d.expected_close.isoformat() if d.expected_close else "-", d.owner.get_username())
    out.print(table)
    shown = f"{len(rows)} of {total}" if total > len(rows) else str(total)
    out.print(f"{shown} deal(s).", markup=False)
    return EXIT_OK


def _show_data(deal: Any) -> dict[str, Any]:
    from rapport.deals import selectors, services
    from rapport.deals.models import QuestionKey
    from rapport.deals.schemas import ChecklistOut, ContactOut, DealOut, QuestionOut, StepMoveOut

    answered = {q.key: q for q in deal.questions.select_related("answered_by")}
    return {
        **DealOut.of(deal),
        "checklist": ChecklistOut.of(deal.step, services.exit_checklist(deal)),
        "questions": [QuestionOut.of(key, str(label), answered.get(key)) for key, label in QuestionKey.choices],
        "people": [ContactOut.of(p) for p in selectors.deal_people(deal)],
        "warnings": selectors.deal_warnings(deal),
        "history": [StepMoveOut.of(m) for m in selectors.step_history(deal)],
    }


def cmd_show(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from rapport.commerce import money
    from rapport.deals import selectors

    user = viewer(args.user)
    deal = selectors.get_deal(user, args.deal)
    data = _show_data(deal)
    if args.json:
        _print_json(data)
        return EXIT_OK
    customer = data["customer"]
    lines = [
        f"Deal {deal.pk}: {deal.name}",
        f"Customer: {customer['name']} ({customer['kind']} {customer['id']})",
        f"Amount: {money.format_money(deal.amount, deal.currency, 'en')}, probability {deal.effective_probability}%, "
        f"weighted {money.format_money(deal.weighted, deal.currency, 'en')}",
        f"Expected close: {deal.expected_close.isoformat() if deal.expected_close else '-'}; "
        f"owner {deal.owner.get_username()}{'; team ' + deal.team.name if deal.team else ''}",
        f"Status: {deal.status}" + (f" ({deal.close_reason})" if deal.close_reason else ""),
        f"Customer's buying stage: {deal.get_buying_stage_display() if deal.buying_stage else 'unknown'}",
        "",
        f"Step: {data['checklist']['label']} ({deal.step})",
    ]
    lines += [f"  [{'x' if i['met'] else ' '}] {i['label']}{' (automatic)' if i['automatic'] else ''}" for i in data["checklist"]["items"]]
    lines += ["", "Questions:"]
    lines += [f"  {q['label']} {q['answer'] or 'not answered'}{' — ' + q['justification'] if q['justification'] else ''}"
              for q in data["questions"]]
    lines += ["", "People:" if data["people"] else "People: none yet"]
    lines += [f"  {p['person']['name']}: {', '.join(p['role_labels']) or 'no role'}{' (key)' if p['is_key'] else ''}"
              f"{', ' + p['stage'] if p['stage'] else ''}" for p in data["people"]]
    if data["warnings"]:
        lines += ["", "Warnings:"] + [f"  ! {w}" for w in data["warnings"]]
    lines += ["", "History:"]
    for m in data["history"]:
        when = timezone.localtime(m["when"]).strftime("%Y-%m-%d %H:%M")
        who = m["who"]["name"] if m["who"] else "-"
        move = f"{m['from']} -> {m['to']}" if m["from"] else f"opened at {m['to']}"
        why = ""
        if m["override_reason"]:
            why = f" (override: {m['override_reason']}; missing {', '.join(m['missing'])})"
        elif m["reason"]:
            why = f" ({m['reason']})"
        lines.append(f"  {when} {who}: {move}{why}")
    for line in lines:
        out.print(line, markup=False)
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    deals = subparsers.add_parser("deals", help="List deals and show one with its checklist, questions and people.")
    deals_sub = deals.add_subparsers(dest="deals_command", metavar="ACTION", required=True)
    ls = command("list", cmd_list, "List the deals a user may see, most recently changed first.", deals_sub)
    ls.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    ls.add_argument("--owner", metavar="USERNAME", help="only deals this user works")
    ls.add_argument("--step", metavar="STEP", help="analyse, build_trust, discover_needs, present_value, win_commitment or follow_up")
    ls.add_argument("--status", choices=["open", "won", "lost"])
    ls.add_argument("--json", action="store_true", help="print JSON (the API's shape)")
    show = command("show", cmd_show, "Show a deal: customer, amount, step with its exit checklist, questions, people, history.", deals_sub)
    show.add_argument("deal", help="deal id")
    show.add_argument("--user", metavar="USERNAME", help="whose view; default: the first admin")
    show.add_argument("--json", action="store_true", help="print JSON")
