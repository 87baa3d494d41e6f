"""The one-word search path against the general scorer, on names nobody here generated.

    python -m bench.search_real [--db sqlite|postgres] [--set febrl3]

Loads a FEBRL set (real Australian name frequencies, with the typos and swapped fields the
Febrl project put in) and the Fodor's and Zagat's restaurants (real names) through the card
services, owned across the benchmark's reps, then asks every prefix of 2 to 5 letters of
their names, every whole name and a one-typo variant of each, as each kind of user, at page
sizes 5 and 20. For each query the tiered one-word answer (``_one_word_matches``) must equal
the general scorer's (``_ranked_matches``), order included. Results:
bench/results/search-real.json.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from bench import common


def load(set_name: str, world: Any) -> int:
    from bench import dedup_data
    from rapport.cards.models import Card
    from rapport.cards.services import create_organization, create_person

    if Card.objects.exists():
        return Card.objects.count()
    owners = [rep for _team, _market, reps, _manager in world.teams[:3] for rep in reps]
    rng = random.Random(3)
    people = dedup_data.febrl(set_name)
    for row in people.rows:
        if row["given_name"] or row["family_name"]:
            create_person(user=rng.choice(owners), data={"given_name": row["given_name"], "family_name": row["family_name"] or "-"})
    for row in dedup_data.restaurants().rows:
        create_organization(user=rng.choice(owners), data={"name": row["name"]})
    return Card.objects.count()


def queries_of(names: list[str]) -> list[str]:
    from rapport.core.text import words

    vocabulary = sorted({w for name in names for w in words(name) if w.isalpha() and len(w) >= 2})
    found: set[str] = set()
    rng = random.Random(5)
    for word in vocabulary:
        found.update(word[:n] for n in range(2, 6) if len(word) >= n)
        found.add(word)
        if len(word) >= 5:
            i = rng.randrange(1, len(word) - 1)
            found.add(word[:i] + word[i + 1:])  # one letter dropped: a typo
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--set", default="febrl3", choices=["febrl1", "febrl2", "febrl3", "febrl4"])
    args = parser.parse_args(argv)
    common.setup(f"search-real-{args.set}", db=args.db, reuse=True)
    from bench.cards import build_world
    from rapport.cards.models import Card
    from rapport.search.selectors import _Found, _one_word_matches, _ranked_matches, tokens_of

    world = build_world()
    cards = load(args.set, world)
    names = list(Card.objects.values_list("display_name", flat=True))
    queries = queries_of(names)
    users = [world.admin, world.teams[0][2][0], world.teams[0][3], world.teams[4][2][0]]
    checked = differ = empty = 0
    one_ms: list[float] = []
    general_ms: list[float] = []
    examples: list[dict[str, Any]] = []
    for user in users:
        found = _Found.readable(user, None, False)
        for query in queries:
            tokens = tokens_of(query)
            if len(tokens) != 1:
                continue
            for limit in (5, 20):
                started = time.perf_counter()
                expected = _ranked_matches(found, tokens, limit, set())
                middle = time.perf_counter()
                answer = _one_word_matches(found, tokens[0], limit, set())
                ended = time.perf_counter()
                general_ms.append((middle - started) * 1000)
                one_ms.append((ended - middle) * 1000)
                checked += 1
                empty += not expected
                if answer != expected:
                    differ += 1
                    if len(examples) < 10:
                        examples.append({"user": user.username, "query": query, "limit": limit, "expected": expected, "answer": answer})
    figures = {
        "cards": cards, "queries": len(queries), "checked": checked, "differ": differ, "with_no_card": empty,
        "one_word_ms_mean": round(statistics.mean(one_ms), 3), "general_ms_mean": round(statistics.mean(general_ms), 3),
        "examples_of_differences": examples,
    }
    print(f"{cards:,} cards, {len(queries):,} queries, {checked:,} checked (users x page sizes), "
          f"{differ} answers differ, {empty:,} found nothing; mean ms one-word {figures['one_word_ms_mean']}, "
          f"general {figures['general_ms_mean']}")
    path = common.write_results(f"search-real-{args.db}", parameters=vars(args), figures=figures)
    print(f"results: {path}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
