"""Search by domain and by the last digits of a phone number, on a ``bench.cards`` database.

    python -m bench.cards --people 100000 --name cards-100k        # builds the data once
    python -m bench.search_domains --name cards-100k [--db sqlite|postgres] [--samples 200]

Reuses that database (its migrations are applied first, so a database built before the
domain terms and the phone-ending index gets them here, as an upgrade would). Measures through
the API, as bench.cards does, for a rep, a manager and an admin: a company's e-mail domain
(with and without "@"), a mail provider's domain (thousands of people), and the last 6 and 7
digits of a number. Target: search p95 ≤ 50 ms, as for every search.
Results: bench/results/search-domains-<name>.json.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from bench import common

TARGETS = {"search_p95_ms": 50}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import gc

    from django.test import Client

    from rapport.accounts.models import User
    from rapport.accounts.services import create_token
    from rapport.cards.models import Card, Email, Phone

    gc.collect()
    gc.freeze()
    rng = random.Random(args.seed)
    rep = User.objects.filter(role="rep", is_active=True).order_by("id").first()
    manager = User.objects.filter(role="manager", is_active=True).order_by("id").first()
    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    if rep is None or manager is None or admin is None:
        raise SystemExit("run python -m bench.cards with this --name first")
    users = {"rep": rep, "manager": manager, "admin": admin}
    team_ids = list(rep.teams.values_list("id", flat=True))
    top = Card.objects.order_by("-id").values_list("id", flat=True).first() or 0
    probe = [rng.randint(1, top) for _ in range(args.samples * 20)]
    mine = list(Card.objects.filter(pk__in=probe, team_id__in=team_ids, kind="person").values_list("id", flat=True))
    rng.shuffle(mine)
    mine = mine[: args.samples]
    organizations = list(Card.objects.filter(pk__in=probe, team_id__in=team_ids, kind="organization").values_list("id", flat=True))
    company_domains = [
        address.rpartition("@")[2]
        for address in Email.objects.filter(card_id__in=organizations[: args.samples]).values_list("address", flat=True)
    ]
    providers: dict[str, int] = {}
    for address in Email.objects.filter(card_id__in=mine).values_list("address", flat=True):
        domain = address.rpartition("@")[2]
        providers[domain] = providers.get(domain, 0) + 1
    provider = max(providers, key=lambda d: providers[d]) if providers else "gmail.com"
    numbers = list(Phone.objects.filter(card_id__in=mine).values_list("e164", flat=True))
    queries = {
        "company_domain": company_domains,
        "company_domain_at": ["@" + d for d in company_domains],
        "provider_domain": [provider] * len(mine),
        "phone_last_6": [n[-6:] for n in numbers],
        "phone_last_7": [f"{n[-7:-4]} {n[-4:]}" for n in numbers],
    }
    clients = {role: Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=u, name='bench')}") for role, u in users.items()}
    figures: dict[str, Any] = {"search": {}, "found": {}}
    for role, client in clients.items():
        for name, qs in queries.items():
            if not qs:
                continue
            for q in qs[:5]:  # warm caches (token, query plans)
                client.post("/api/v1/search", {"q": q}, content_type="application/json")
            samples, found = [], 0
            for q in qs:
                start = time.perf_counter()
                response = client.post("/api/v1/search", {"q": q}, content_type="application/json")
                samples.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"search {q!r} answered {response.status_code}: {response.content[:300]!r}")
                found += response.json()["count"]
            figures["search"].setdefault(name, {})[role] = common.percentiles(samples)
            figures["found"].setdefault(name, {})[role] = round(found / len(qs), 1)
            print(f"  {name} ({role}): {figures['search'][name][role]}, {figures['found'][name][role]} cards per query",
                  flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_domains", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="the --name given to bench.cards")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    target = common.setup(args.name, db=args.db, reuse=True)
    print(f"database: {target} (migrated in {time.perf_counter() - start:.1f} s)", flush=True)
    figures = measure(args)
    worst = max(f["p95_ms"] for family in figures["search"].values() for f in family.values())
    figures["summary"] = {"search_p95_ms": worst, "meets_target": worst <= TARGETS["search_p95_ms"]}
    path = common.write_results(f"search-domains-{args.name}", parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"worst p95 {worst} ms; results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
