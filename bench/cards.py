"""Cards at scale: bulk creation speed, then card reads, filtered lists and search through the API.

    python -m bench.cards [--people 1000000] [--organizations 200000] [--facts-per-card 5]
                          [--db sqlite|postgres] [--reuse] [--samples 200]

Targets (from the issue): create ≥ 20,000 cards/s; card read p95 ≤ 10 ms; a filtered list
page of 50 rows p95 ≤ 50 ms; search p95 ≤ 50 ms. Results: bench/results/cards-<db>-<size>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench import common

TARGETS = {"create_cards_per_s": 20_000, "card_read_p95_ms": 10, "list_page_p95_ms": 50, "search_p95_ms": 50}
TEAMS_PER_MARKET = 2
REPS_PER_TEAM = 4


# --- the data set -----------------------------------------------------------------------------------


@dataclass
class Pools:
    """Names, companies and phrases drawn once from Faker, so generating a million rows stays fast."""

    given: list[list[tuple[str, str, str]]]  # per market: (given, family, local)
    companies: list[list[str]]
    cities: list[list[str]]


def build_pools(rng: random.Random, size: int = 600) -> Pools:
    from faker import Faker

    from rapport.cards.demo import MARKETS, organization_name, person_name

    given, companies, cities = [], [], []
    for i, market in enumerate(MARKETS):
        fake = Faker(market.locale)
        fake.seed_instance(1000 + i)
        names = []
        for _ in range(size):
            n = person_name(fake, market, rng)
            names.append((n["given_name"], n["family_name"], n["local_name"]))
        given.append(names)
        companies.append([organization_name(fake, market, rng, rng.choice(["distributor", "dealer", "shop"])) for _ in range(size)])
        cities.append([fake.city() for _ in range(100)])
    return Pools(given, companies, cities)


@dataclass
class World:
    """Teams and users of the benchmark: visibility filters only matter with several teams."""

    admin: Any
    teams: list[tuple[Any, Any, list[Any], Any]]  # (team, market, reps, manager)


def build_world() -> World:
    from rapport.accounts.models import User
    from rapport.accounts.services import create_user
    from rapport.cards.demo import MARKETS

    admin = User.objects.filter(username="bench_admin").first()
    if admin is None:
        admin = create_user(username="bench_admin", role="admin", password="x", validate=False)
        User.objects.filter(pk=admin.pk).update(can_see_special=True)
        admin.can_see_special = True
        create_user(username="bench_analyst", role="analyst", password="x", validate=False)
    teams = []
    for m, market in enumerate(MARKETS):
        for t in range(TEAMS_PER_MARKET):
            name = f"{market.team} {t + 1}"
            manager = User.objects.filter(username=f"bench_mgr_{m}_{t}").first() or create_user(
                username=f"bench_mgr_{m}_{t}", role="manager", manages=[name], password="x", validate=False
            )
            reps = []
            for r in range(REPS_PER_TEAM):
                username = f"bench_rep_{m}_{t}_{r}"
                reps.append(User.objects.filter(username=username).first() or create_user(
                    username=username, role="rep", teams=[name], password="x", validate=False
                ))
            team = reps[0].teams.get()
            teams.append((team, market, reps, manager))
    return World(admin=admin, teams=teams)


class RowMaker:
    """Rows for bulk_create_cards: 1 phone, 1 e-mail and N facts per card, in five markets."""

    def __init__(self, rng: random.Random, pools: Pools, world: World, facts_per_card: int) -> None:
        from rapport.cards.demo import (
            GENERATED_TEXT,
            NOT_IN_DEMO,
            TEXTS,
            PhoneMaker,
            ValueMaker,
        )
        from rapport.catalog import selectors as catalog
        from rapport.catalog.models import ItemType, Sensitivity

        self.rng = rng
        self.pools = pools
        self.world = world
        self.facts_per_card = facts_per_card
        self.phones = PhoneMaker(rng)
        self.values = ValueMaker(rng, self.phones)
        usable = [
            i for i in catalog.items().values()
            if i.type != ItemType.PERSON and i.key not in NOT_IN_DEMO and i.sensitivity != Sensitivity.SPECIAL
            and (i.type != ItemType.TEXT or i.key in TEXTS or i.key in GENERATED_TEXT)
        ]
        self.items = {kind: [i for i in usable if i.applies_to in ("any", kind)] for kind in ("organization", "person")}
        self.sources = [k for k in catalog.sources() if k not in ("import", "api", "demo")]
        today = time.time()
        self.dates = [time.strftime("%Y-%m-%d", time.gmtime(today - 86400 * d)) for d in range(1, 1100)]
        self.org_ids: dict[int, list[int]] = {}  # team id -> organisation ids, for employments

    def _common(self, team_index: int) -> tuple[dict[str, Any], Any]:
        from rapport.cards.demo import STAGES, TIERS, weighted

        team, market, reps, _manager = self.world.teams[team_index]
        owner = self.rng.choice(reps)
        return {
            "owner": owner.id, "team": team.id, "tier": weighted(self.rng, TIERS),
            "lifecycle_stage": weighted(self.rng, STAGES), "region": market.region,
        }, market

    def _facts(self, kind: str, market: Any) -> list[dict[str, Any]]:
        rng = self.rng
        chosen = rng.sample(self.items[kind], k=min(self.facts_per_card, len(self.items[kind])))
        facts = []
        for item in chosen:
            fact: dict[str, Any] = {"item": item.key, "value": self.values.value(item, market), "source": rng.choice(self.sources)}
            if rng.random() < 0.7:
                fact["observed_at"] = rng.choice(self.dates)
            if rng.random() < 0.3:
                fact["confidence"] = rng.choice((30, 50, 70, 90))
            facts.append(fact)
        if facts and rng.random() < 0.1:  # another source disagrees
            item = next(i for i in self.items[kind] if i.key == facts[0]["item"])
            facts.append({"item": item.key, "value": self.values.value(item, market), "source": rng.choice(self.sources)})
        return facts

    def organizations(self, count: int) -> Iterator[dict[str, Any]]:
        from rapport.cards.demo import SIZE_BANDS, ascii_slug

        rng = self.rng
        for n in range(count):
            team_index = n % len(self.world.teams)
            row, market = self._common(team_index)
            m = [mk.locale for mk in _markets()].index(market.locale)
            name = rng.choice(self.pools.companies[m])
            if rng.random() < 0.7:
                name = f"{name} {rng.choice(self.pools.cities[m])}"  # branches of the same chain in many cities
            slug = ascii_slug(name)[:20] or "empresa"
            row.update({
                "kind": "organization", "name": name, "industry": rng.choice(market.industries),
                "size_band": rng.choice(SIZE_BANDS),
                "phones": [{"number": self.phones.typed(self.phones.number(market.region, mobile=False)), "kind": "work"}],
                "emails": [f"info{rng.randint(1, 99999)}@{slug}.{market.tld}"],
                "facts": self._facts("organization", market),
            })
            yield row

    def people(self, count: int) -> Iterator[dict[str, Any]]:
        from rapport.cards.demo import email_for

        rng = self.rng
        for n in range(count):
            team_index = n % len(self.world.teams)
            row, market = self._common(team_index)
            m = [mk.locale for mk in _markets()].index(market.locale)
            given, family, local = rng.choice(self.pools.given[m])
            row.update({
                "kind": "person", "given_name": given, "family_name": family, "local_name": local,
                "phones": [self.phones.typed(self.phones.number(market.region))],
                "emails": [email_for(given, family, rng.choice(market.mail_domains), rng).replace("@", f"{rng.randint(100, 999)}@", 1)],
                "facts": self._facts("person", market),
            })
            orgs = self.org_ids.get(self.world.teams[team_index][0].id)
            if orgs and rng.random() < 0.5:
                row["organization"] = rng.choice(orgs)
                row["title"] = rng.choice(market.titles)[0]
            yield row


def _markets() -> tuple[Any, ...]:
    from rapport.cards.demo import MARKETS

    return MARKETS


def create(args: argparse.Namespace, world: World) -> dict[str, Any]:
    from django.db import connection

    from rapport.cards.bulk import bulk_create_cards
    from rapport.cards.models import Card

    rng = random.Random(args.seed)
    pools = build_pools(rng)
    maker = RowMaker(rng, pools, world, args.facts_per_card)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # A bigger page cache for the load: the index B-trees outgrow the default 64 MB.
            cursor.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
    figures: dict[str, Any] = {}
    profiler = cProfile.Profile() if args.profile else None
    for kind, count in (("organizations", args.organizations), ("people", args.people)):
        if kind == "people":
            for team, *_ in world.teams:
                maker.org_ids[team.id] = list(Card.objects.filter(kind="organization", team=team).values_list("id", flat=True))
        rows = common.TimedIterator(maker.organizations(count) if kind == "organizations" else maker.people(count))
        started = time.perf_counter()
        done = 0
        if profiler:
            profiler.enable()
        while done < count:  # in slices, to print progress
            chunk = min(args.progress_every, count - done)
            done += bulk_create_cards(user=world.admin, rows=_take(rows, chunk), batch_size=args.batch_size)
            elapsed = time.perf_counter() - started - rows.seconds
            print(f"  {kind}: {done:,}/{count:,}  {done / max(elapsed, 1e-9):,.0f} cards/s (generation excluded)", flush=True)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - started
        figures[kind] = {
            "count": done, "seconds": round(wall - rows.seconds, 2), "generation_seconds": round(rows.seconds, 2),
            "cards_per_s": round(done / max(wall - rows.seconds, 1e-9)),
        }
    total = sum(f["count"] for f in figures.values())
    seconds = sum(f["seconds"] for f in figures.values())
    figures["total"] = {"count": total, "seconds": round(seconds, 2), "cards_per_s": round(total / max(seconds, 1e-9))}
    if profiler:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    return figures


def _take(rows: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(rows)
        except StopIteration:
            return


# --- reads ---------------------------------------------------------------------------------------------


def settle(db: str) -> None:
    """On PostgreSQL, what autovacuum does some minutes after a large load: fresh statistics and
    a visibility map, without which no index-only scan is possible. Done before measuring reads."""
    if db != "postgres":
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def measure(args: argparse.Namespace, world: World) -> dict[str, Any]:
    import gc

    import phonenumbers
    from django.db import connection
    from django.test import Client

    from rapport.accounts.services import create_token
    from rapport.cards.models import Card, Email, Phone
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import ItemType, Sensitivity

    # Measure requests, not the harness: the load leaves a big heap behind, and a full
    # collection of it (~200 ms) would land on a random request. A server process starts small.
    gc.collect()
    gc.freeze()
    rng = random.Random(args.seed + 1)
    team, _market, reps, manager = world.teams[0]
    users = {"rep": reps[0], "manager": manager, "admin": world.admin}
    clients = {role: Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=u, name='bench')}") for role, u in users.items()}
    n = args.samples

    def sample_ids(role: str, kind: str) -> list[int]:
        qs = Card.objects.filter(kind=kind)
        if role == "rep":
            qs = qs.filter(team=team)
        elif role == "manager":
            qs = qs.filter(team__in=manager.managed_teams.all())
        top = qs.order_by("-id").values_list("id", flat=True).first() or 0
        bottom = qs.order_by("id").values_list("id", flat=True).first() or 0
        ids: list[int] = []
        while len(ids) < n:
            probe = [rng.randint(bottom, top) for _ in range(n * 3)]
            ids.extend(qs.filter(pk__in=probe).values_list("id", flat=True)[: n - len(ids)])
        rng.shuffle(ids)
        return ids

    def run(client: Client, urls: list[str], bodies: list[dict[str, Any]] | None = None) -> dict[str, float]:
        """GET each URL, or POST each body (JSON) to the one URL given."""

        def call(i: int) -> Any:
            if bodies is None:
                return client.get(urls[i])
            return client.post(urls[0], bodies[i], content_type="application/json")

        count = len(urls) if bodies is None else len(bodies)
        for i in range(min(5, count)):  # warm caches (catalog, token, query plans)
            call(i)
        samples = []
        for i in range(count):
            url = urls[0] if bodies is not None else urls[i]
            start = time.perf_counter()
            response = call(i)
            samples.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return common.percentiles(samples)

    figures: dict[str, Any] = {"card_read": {}, "list_page": {}, "search": {}}
    for role, client in clients.items():
        figures["card_read"][role] = run(client, [f"/api/v1/people/{i}" for i in sample_ids(role, "person")])
        print(f"  card read ({role}): {figures['card_read'][role]}", flush=True)

    choice_items = [
        i for i in catalog.items().values()
        if i.type == ItemType.CHOICE and i.applies_to in ("any", "person") and i.sensitivity in (Sensitivity.PUBLIC, Sensitivity.INTERNAL)
    ]
    team_ids = [t.id for t, *_ in world.teams]

    def item_url(item: Any) -> str:
        return f"/api/v1/people?item={item.key}&value={rng.choice(item.choices)['key']}&limit=50"

    managed = list(manager.managed_teams.values_list("id", flat=True))
    lists = {
        "tier": lambda role: f"/api/v1/people?tier={rng.choice('ABC')}&limit=50",
        "stage_team": lambda role: (
            f"/api/v1/people?stage={rng.choice(['customer', 'prospect', 'suspect', 'regular'])}"
            f"&team={team.id if role == 'rep' else rng.choice(managed) if role == 'manager' else rng.choice(team_ids)}&limit=50"
        ),
        "item": lambda role: item_url(rng.choice(choice_items)),
    }
    for name, url_of in lists.items():
        figures["list_page"][name] = {}
        for role, client in clients.items():
            figures["list_page"][name][role] = run(client, [url_of(role) for _ in range(n)])
            print(f"  list {name} ({role}): {figures['list_page'][name][role]}", flush=True)

    # Search terms from real cards the user can see: exact names, prefixes, one typo, phones, e-mails.
    def queries(role: str) -> dict[str, list[str]]:
        ids = sample_ids(role, "person")
        cards = {c.id: c for c in Card.objects.filter(pk__in=ids)}
        phones = dict(Phone.objects.filter(card_id__in=ids).values_list("card_id", "e164"))
        emails = dict(Email.objects.filter(card_id__in=ids).values_list("card_id", "address"))
        out: dict[str, list[str]] = {"exact_name": [], "prefix": [], "typo": [], "phone_national": [], "email": []}
        for i in ids:
            card = cards[i]
            family = card.family_name.split(" ")[0]
            out["exact_name"].append(f"{card.given_name} {family}")
            out["prefix"].append(family[: max(3, len(family) // 2)])
            if len(family) >= 5:
                k = rng.randint(1, len(family) - 2)
                out["typo"].append(family[:k] + family[k + 1 :])  # one letter dropped
            else:
                out["typo"].append(family + "x")
            number = phonenumbers.parse(phones[i])
            out["phone_national"].append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
            out["email"].append(emails[i])
        return out

    for role, client in clients.items():
        for name, qs in queries(role).items():
            # Search text travels in the body, not the URL (personal data stays out of logs).
            figures["search"].setdefault(name, {})[role] = run(client, ["/api/v1/search"], [{"q": q} for q in qs])
            print(f"  search {name} ({role}): {figures['search'][name][role]}", flush=True)
    connection.close()
    return figures


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    """The worst p95 of each family against its target."""
    def worst(tree: dict[str, Any]) -> float:
        values = []
        for value in tree.values():
            if isinstance(value, dict) and "p95_ms" in value:
                values.append(value["p95_ms"])
            elif isinstance(value, dict):
                values.append(worst(value))
        return max(values) if values else float("nan")

    summary = {}
    if "create" in figures:
        rate = figures["create"]["total"]["cards_per_s"]
        summary["create_cards_per_s"] = {"value": rate, "target": TARGETS["create_cards_per_s"], "met": rate >= TARGETS["create_cards_per_s"]}
    for key, family in (("card_read_p95_ms", "card_read"), ("list_page_p95_ms", "list_page"), ("search_p95_ms", "search")):
        if family in figures:
            value = worst(figures[family])
            summary[key] = {"value": value, "target": TARGETS[key], "met": value <= TARGETS[key]}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cards", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=200_000)
    parser.add_argument("--facts-per-card", type=int, default=5)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=1024, help="SQLite page cache during the load")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", help="results file name (default cards-<db>-<people+organizations>)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the load")
    parser.add_argument("--skip-reads", action="store_true")
    args = parser.parse_args(argv)
    size = args.people + args.organizations
    name = args.name or f"cards-{args.db}-{size // 1000}k"
    target = common.setup(name, db=args.db, reuse=args.reuse)
    print(f"database: {target}", flush=True)
    from rapport.cards.models import Card

    world = build_world()
    figures: dict[str, Any] = {}
    existing = Card.objects.count()
    if args.reuse and existing:
        print(f"reusing {existing:,} cards", flush=True)
        figures["existing_cards"] = existing
    else:
        figures["create"] = create(args, world)
        print(f"created: {figures['create']['total']}", flush=True)
    if not args.skip_reads:
        settle(args.db)
        figures.update(measure(args, world))
    summary = summarise(figures)
    figures["summary"] = summary
    parameters = {k: v for k, v in vars(args).items() if k not in ("name",)}
    path = common.write_results(name, parameters=parameters, figures=figures, targets=TARGETS)
    for key, verdict in summary.items():
        print(f"{key}: {verdict['value']} (target {verdict['target']}) {'OK' if verdict['met'] else 'MISSED'}")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
