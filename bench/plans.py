"""Query plans of the card list and search on a benchmark database, and prototypes of their fixes.

    python -m bench.plans [--name cards-sqlite-1200k] [--samples 50]

Reuses the database ``bench.cards`` left behind (``--name`` as given there). For each list
filter it times, with the same users and filters, the current selector
(``cards.selectors.list_cards``: the page and its exact ``COUNT(*)``) against prototypes:

* ``item_in``: the item filter as ``id IN (SELECT card_id FROM current values WHERE item, value)``
  instead of a correlated ``EXISTS``, so the (item, value_text, card) index drives the query;
* ``capped_count``: the total counted only up to 1,000 (``COUNT`` over ``LIMIT 1001``),
  the usual "1,000+" of large lists.

and, for search (``search.selectors.search_cards``), a prototype that first intersects the
card ids of each word using only the (term, card) index, and joins cards (visibility) and
ranks only those candidates, instead of joining every matching term row to its card first.

Results: bench/results/plans-<name>.json, with the EXPLAIN QUERY PLAN of each query.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import common

COUNT_CAP = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="cards-sqlite-1200k", help="the bench.cards database to read")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--prototype-indexes", action="store_true",
        help="on a copy of the SQLite file: list indexes that also cover owner_id and team_id (visibility)",
    )
    args = parser.parse_args(argv)
    name = args.name
    if args.prototype_indexes:
        name = _copy_for_prototype(args.name)
    common.setup(name, db=args.db, reuse=True)
    if args.prototype_indexes:
        _prototype_indexes()

    from django.db import connection
    from django.db.models import QuerySet

    from rapport.accounts.models import User
    from rapport.cards import selectors
    from rapport.cards.models import Card, CurrentValue
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import ItemType, Sensitivity

    if not Card.objects.exists():
        raise SystemExit(f"no cards in bench-{args.name}: run python -m bench.cards first")
    rng = random.Random(args.seed)
    users = {
        "rep": User.objects.get(username="bench_rep_0_0_0"),
        "manager": User.objects.get(username="bench_mgr_0_0"),
        "admin": User.objects.get(username="bench_admin"),
    }
    team_id = users["rep"].teams.values_list("id", flat=True)[0]
    choice_items = [
        i for i in catalog.items().values()
        if i.type == ItemType.CHOICE and i.applies_to in ("any", "person") and i.sensitivity in (Sensitivity.PUBLIC, Sensitivity.INTERNAL)
    ]

    def filters() -> dict[str, Callable[[], selectors.CardFilter]]:
        def item_filter() -> selectors.CardFilter:
            item = rng.choice(choice_items)
            return selectors.CardFilter(kind="person", item=item.key, value=rng.choice(item.choices)["key"])

        return {
            "tier": lambda: selectors.CardFilter(kind="person", tier=rng.choice("ABC")),
            "stage_team": lambda: selectors.CardFilter(kind="person", stage=rng.choice(["customer", "prospect", "suspect"]), team=team_id),
            "item": item_filter,
        }

    def item_in(user: Any, flt: selectors.CardFilter) -> QuerySet[Card]:
        """filter_cards with the item filter as an IN over the current-value index."""
        plain = selectors.CardFilter(**{**flt.__dict__, "item": "", "value": None})
        qs = selectors.filter_cards(user, plain)
        if not flt.item:
            return qs
        item = catalog.items()[flt.item]
        # (The real fix keeps _filter_on_item's clearance checks; these items are internal.)
        return qs.filter(pk__in=CurrentValue.objects.filter(item_id=item.id, value_text=flt.value).values("card_id"))

    def page_of(qs: QuerySet[Card]) -> QuerySet[Card]:
        return qs.order_by("sort_name", "id").select_related("owner", "team").prefetch_related("phones", "emails")[:50]

    variants: dict[str, Callable[[Any, selectors.CardFilter], tuple[Any, ...]]] = {
        "current": lambda u, f: (list(page_of(selectors.filter_cards(u, f))), selectors.filter_cards(u, f).count()),
        "current_page_only": lambda u, f: (list(page_of(selectors.filter_cards(u, f))),),
        "capped_count": lambda u, f: (list(page_of(selectors.filter_cards(u, f))), selectors.filter_cards(u, f).order_by()[: COUNT_CAP + 1].count()),
        "item_in+capped_count": lambda u, f: (list(page_of(item_in(u, f))), item_in(u, f).order_by()[: COUNT_CAP + 1].count()),
    }

    def plan(qs: QuerySet[Card]) -> list[str]:
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                return [row[3] for row in cursor.fetchall()]
            cursor.execute("EXPLAIN " + sql, params)
            return [row[0] for row in cursor.fetchall()]

    figures: dict[str, Any] = {}
    for filter_name, make in filters().items():
        figures[filter_name] = {}
        for role, user in users.items():
            flts = [make() for _ in range(args.samples)]
            entry: dict[str, Any] = {}
            for variant, run in variants.items():
                if filter_name != "item" and variant.startswith("item_in"):
                    continue
                run(user, flts[0])  # warm
                samples = []
                for flt in flts:
                    start = time.perf_counter()
                    run(user, flt)
                    samples.append((time.perf_counter() - start) * 1000)
                entry[variant] = common.percentiles(samples)
            sample = flts[0]
            entry["plans"] = {
                "current_page": plan(page_of(selectors.filter_cards(user, sample))),
                "current_count": plan(selectors.filter_cards(user, sample).order_by()),
            }
            if filter_name == "item":
                entry["plans"]["item_in_page"] = plan(page_of(item_in(user, sample)))
            figures[filter_name][role] = entry
            print(filter_name, role, {k: v["p95_ms"] for k, v in entry.items() if k != "plans"}, flush=True)
    figures["search"] = measure_search(users, rng, args.samples)
    path = common.write_results(f"plans-{name}", parameters=vars(args), figures=figures)
    print(f"results: {path}")
    return 0


# --- prototype indexes ---------------------------------------------------------------------------

# The list indexes of Card, each extended with owner_id and team_id: a rep's or manager's
# visibility test (owner, team, shares by id) is then answered from the index entry, without
# reading the card row. They replace the indexes they extend.
PROTOTYPE_INDEXES = {
    "card_kind_sort": "CREATE INDEX proto_kind_cover ON cards_card (kind, archived_at, sort_name, owner_id, team_id)",
    "card_tier_sort": "CREATE INDEX proto_tier_cover ON cards_card (kind, tier, archived_at, sort_name, owner_id, team_id)",
    "card_stage_sort": "CREATE INDEX proto_stage_cover ON cards_card (kind, lifecycle_stage, archived_at, sort_name, owner_id, team_id)",
}


def _copy_for_prototype(name: str) -> str:
    import os
    import shutil
    from pathlib import Path

    home = Path(os.environ.get("RAPPORT_HOME") or common.ROOT / "var" / "bench")
    source, target = home / f"bench-{name}.sqlite3", home / f"bench-{name}-proto.sqlite3"
    if not source.exists():
        raise SystemExit(f"no {source}: run python -m bench.cards first")
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    Path(f"{target}-shm").unlink(missing_ok=True)
    return f"{name}-proto"


def _prototype_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for old, create in PROTOTYPE_INDEXES.items():
            cursor.execute(f'DROP INDEX IF EXISTS "{old}"')
            cursor.execute(create.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


# --- search ----------------------------------------------------------------------------------------

CANDIDATE_CAP = 5000  # more candidates than this: the words are too common to rank them all


def _token_filter(token: Any, typo_words: list[str]) -> Any:
    """A row matching ``token`` exactly, by prefix or as one of its typo words."""
    from django.db.models import Q

    q = Q(term=token.text)
    if token.prefix:
        q |= Q(term__gte=token.text, term__lt=token.text + "\uffff")
    if typo_words:
        q |= Q(term__in=typo_words)
    return q


def _match_case(token: Any, typo_words: list[str]) -> Any:
    """How well one index row answers one token: exact beats prefix beats one typo (0: no match)."""
    from django.db.models import Case, F, IntegerField, Value, When

    from rapport.search.selectors import EXACT, PREFIX, TYPO

    whens = [When(term=token.text, then=Value(EXACT * 10) + F("weight"))]
    if token.prefix:
        whens.append(When(term__gte=token.text, term__lt=token.text + "\uffff", then=Value(PREFIX * 10) + F("weight")))
    if typo_words:
        whens.append(When(term__in=typo_words, then=Value(TYPO * 10) + F("weight")))
    return Case(*whens, default=Value(0), output_field=IntegerField())


def search_intersect_first(user: Any, query: str, *, limit: int = 20, min_prefix: int = 2) -> list[Any]:
    """search_cards with the words matched on the index alone before any card row is read;
    with ``min_prefix=3`` a two-letter word (Li, Wu, Ng) matches whole words only."""
    import dataclasses

    from django.db.models import Max

    from rapport.cards.models import Card
    from rapport.core.visibility import visible_to
    from rapport.search import selectors as search
    from rapport.search.models import Term

    tokens = [t if len(t.text) >= min_prefix or t.text.isdigit() else dataclasses.replace(t, prefix=False) for t in search.tokens_of(query)]
    if not tokens:
        return []
    typo = [search._typo_words(t) for t in tokens]
    # 1. Card ids having every word: one covering-index range per word, intersected.
    per_token = [Term.objects.filter(_token_filter(t, w)).values_list("card_id", flat=True) for t, w in zip(tokens, typo)]
    candidates = per_token[0].intersection(*per_token[1:]) if len(per_token) > 1 else per_token[0].distinct()
    ids = list(candidates[:CANDIDATE_CAP])
    # 2. Visibility and archive state on the candidates only (a primary-key probe each).
    visible = list(visible_to(user, Card.objects.filter(pk__in=ids, archived_at__isnull=True)).values_list("id", flat=True))
    if not visible:
        return []
    # 3. Rank as search_cards does, over the candidates' terms only.
    match_any = _token_filter(tokens[0], typo[0])
    for t, w in zip(tokens[1:], typo[1:]):
        match_any |= _token_filter(t, w)
    scores_q = {f"m{i}": Max(_match_case(t, w)) for i, (t, w) in enumerate(zip(tokens, typo))}
    rows: list[Any] = list(Term.objects.filter(match_any, card_id__in=visible).values("card_id").annotate(**scores_q))
    ranked = sorted(rows, key=lambda r: -sum(r[n] for n in scores_q))[: limit * 3]
    scores = {r["card_id"]: sum(r[n] for n in scores_q) for r in ranked}
    cards = list(Card.objects.filter(pk__in=list(scores)).select_related("owner", "team").prefetch_related("phones", "emails"))
    cards.sort(key=lambda c: (-scores[c.pk], c.sort_name))
    return cards[:limit]


def measure_search(users: dict[str, Any], rng: random.Random, samples: int) -> dict[str, Any]:
    import phonenumbers

    from rapport.cards.models import Card
    from rapport.search.selectors import search_cards

    figures: dict[str, Any] = {}
    top = Card.objects.order_by("-id").values_list("id", flat=True).first() or 0
    people = list(Card.objects.filter(kind="person", pk__in=[rng.randint(1, top) for _ in range(samples * 6)]).prefetch_related("phones")[:samples])
    queries: dict[str, list[str]] = {"exact_name": [], "prefix": [], "typo": [], "phone_national": []}
    for card in people:
        family = card.family_name.split(" ")[0]
        queries["exact_name"].append(f"{card.given_name} {family}")
        queries["prefix"].append(family[: max(3, len(family) // 2)])
        k = rng.randint(1, max(1, len(family) - 2))
        queries["typo"].append(family[:k] + family[k + 1 :] if len(family) >= 5 else family + "x")
        phone = card.phones.all()[0]
        queries["phone_national"].append(phonenumbers.format_number(phonenumbers.parse(phone.e164), phonenumbers.PhoneNumberFormat.NATIONAL))
    for kind, qs in queries.items():
        figures[kind] = {}
        for role, user in users.items():
            entry: dict[str, Any] = {}
            def min3(u: Any, q: str) -> list[Any]:
                return search_intersect_first(u, q, min_prefix=3)

            for variant, fn in (("current", search_cards), ("intersect_first", search_intersect_first), ("intersect_first+min_prefix_3", min3)):
                fn(user, qs[0])
                times = []
                for q in qs:
                    start = time.perf_counter()
                    fn(user, q)
                    times.append((time.perf_counter() - start) * 1000)
                entry[variant] = common.percentiles(times)
            # Same answers? (ranking ties may order differently; compare the sets)
            same = sum({c.id for c in search_cards(user, q)} == {c.id for c in search_intersect_first(user, q)} for q in qs[:20])
            entry["same_results_of_20"] = same
            figures[kind][role] = entry
            print("search", kind, role, {k: v["p95_ms"] for k, v in entry.items() if isinstance(v, dict)}, "same:", same, flush=True)
    return figures


if __name__ == "__main__":
    sys.exit(main())
