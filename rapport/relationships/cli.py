"""``rapport dmu show ORG``: an organisation's decision unit and its warnings in the terminal."""

from __future__ import annotations

import argparse
from typing import Any

from rapport.cli import viewer


def register(subparsers: Any, command: Any) -> None:
    dmu = subparsers.add_parser("dmu", help="Decision-making units of organisations.")
    dmu_sub = dmu.add_subparsers(dest="dmu_command", metavar="ACTION", required=True)
    show = command("show", cmd_show, "Print an organisation's decision unit, relationships and warnings.", dmu_sub)
    show.add_argument("organization", metavar="ORG", help="organisation id or exact name")
    show.add_argument("--user", metavar="USERNAME", help="see it as this user (default: the first administrator)")
    show.add_argument("--json", action="store_true", help="print the graph as the API answers it")


def _organization_id(user: Any, ref: str) -> int:
    from rapport.cards.models import Kind
    from rapport.cli import _usage
    from rapport.core.visibility import visible_to

    if ref.isdigit():
        return int(ref)
    matches = list(visible_to(user).filter(kind=Kind.ORGANIZATION, display_name__iexact=ref.strip()).values_list("id", flat=True)[:5])
    if not matches:
        raise _usage(f"No organisation named {ref!r} that {user.username} can see.")
    if len(matches) > 1:
        raise _usage(f"Several organisations are named {ref!r} (ids {', '.join(map(str, matches))}); give the id.")
    return matches[0]


def cmd_show(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.utils import translation

    user = viewer(args.user)
    # In the viewer's language, like their web pages; English (the default) without one.
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return _show(args, user)


def _show(args: argparse.Namespace, user: Any) -> int:
    from rich.table import Table

    from rapport.cards.models import Function, Level
    from rapport.cli import EXIT_OK, out
    from rapport.relationships import selectors
    from rapport.relationships.models import Attitude, BuyingRole, RelationshipKind

    graph = selectors.decision_unit(user, _organization_id(user, args.organization))
    if args.json:
        import json

        from rapport.relationships.api import graph_out

        print(json.dumps(graph_out(graph), ensure_ascii=False, indent=2))
        return EXIT_OK
    out.print(f"[bold]{graph.organization.display_name}[/bold] (#{graph.organization.pk}) — decision unit", markup=True)
    table = Table(show_lines=False)
    for column in ("person", "level", "function", "roles", "influence", "attitude", "coach", "cares about"):
        table.add_column(column)
    names = {n.person: n.name for n in graph.nodes}
    for node in graph.nodes:
        if node.member is None:
            continue
        table.add_row(
            node.name + (" (left)" if node.has_left else ""),
            str(Level(node.level).label) if node.level else "",
            str(Function(node.function).label) if node.function else "",
            ", ".join(str(BuyingRole(r).label) for r in node.roles),
            f"{node.influence}%",
            str(Attitude(node.attitude).label),
            "yes" if node.coach else "",
            node.cares_about,
        )
    out.print(table)
    out.print(f"Influence total: {graph.influence_total}%")
    if graph.edges:
        out.print("Relationships:")
        for edge in graph.edges:
            arrow = "→" if edge.directed else "↔"
            out.print(f"  {names.get(edge.source)} {arrow} {names.get(edge.target)}: {RelationshipKind(edge.kind).label} (strength {edge.strength})", markup=False)
    if graph.warnings:
        out.print("Warnings:")
        for warning in graph.warnings:
            out.print(f"  [{warning.code}] {warning.message}", markup=False)
    else:
        out.print("No warnings.")
    return EXIT_OK
