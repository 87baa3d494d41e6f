"""Duplicate detection: accuracy on labelled data, then the speed of a full run at scale.

    python -m bench.dedup [--accuracy-people 20000] [--accuracy-organizations 5000]
                          [--people 1000000] [--db sqlite|postgres] [--reuse] [--skip-speed]
                          [--skip-accuracy] [--keep-model] [--workers 1]

Accuracy: a population of people in five markets (es_ES, es_MX, zh_CN, ro_RO, en_US) where
some people are entered again with realistic damage — typos, nicknames (Paco/Francisco,
Bob/Robert, Gică/Gheorghe), given and family names swapped, a second surname dropped,
accents and case lost, Chinese characters in one card and pinyin in the other, phones typed
in another format, e-mails in other case / with Gmail dots or a +tag, missing phones,
e-mails, birth dates and addresses — plus hard non-duplicates: namesakes and relatives
sharing a home phone and address. Every pair the engine finds is checked against the labels:
precision, recall and F1 per threshold (recall counts every true pair, also those blocking
never proposed). Organisations likewise (legal forms, tax ids, websites, branches).

Speed: ``--people`` cards are bulk-loaded (same generator, external ids carry the labels),
then ``rapport.dedup.services.scan`` runs as an admin exactly as ``rapport dedup`` does: read
every card, phone, e-mail, address, birth date; block; score; store the review queue. Wall
and CPU seconds are reported with the load average seen during the scan (sampled every 2 s):
on a shared machine the wall time depends on what else runs.
Target (from the issue): F1 ≥ 0.95 at the default threshold; 1,000,000 people ≤ 120 s.
Results: bench/results/dedup-<db>-<people>.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench import common

TARGETS = {"f1_at_default_threshold": 0.95, "people_1m_seconds": 120, "check_p95_ms": 15}
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
MARKET_LOCALES = ("es_ES", "es_MX", "zh_CN", "ro_RO", "en_US")


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@dataclass
class Pools:
    given: dict[str, list[str]]
    family: dict[str, list[str]]
    streets: dict[str, list[str]]
    cities: dict[str, list[tuple[str, str]]]
    companies: dict[str, list[str]]


def build_pools(size: int = 400) -> Pools:
    from faker import Faker

    given: dict[str, list[str]] = {}
    family: dict[str, list[str]] = {}
    streets: dict[str, list[str]] = {}
    cities: dict[str, list[tuple[str, str]]] = {}
    companies: dict[str, list[str]] = {}
    for i, locale in enumerate(MARKET_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(500 + i)
        given[locale] = sorted({fake.first_name() for _ in range(size * 3)})
        family[locale] = sorted({fake.last_name() for _ in range(size * 3)})
        streets[locale] = [fake.street_name() for _ in range(size)]
        cities[locale] = [(fake.city(), fake.postcode()) for _ in range(size // 4)]
        companies[locale] = sorted({fake.company() for _ in range(size * 2)})
    return Pools(given, family, streets, cities, companies)


class Population:
    """People and organisations with known duplicates: ``entity`` ids label who is who."""

    def __init__(self, rng: random.Random, pools: Pools) -> None:
        from rapport.cards.demo import MARKETS, PhoneMaker
        from rapport.dedup.matching import nicknames

        self.rng = rng
        self.pools = pools
        self.markets = {m.locale: m for m in MARKETS}
        self.phones = PhoneMaker(rng)
        self.familiar: dict[str, list[str]] = {}
        for short, formal in nicknames().items():
            self.familiar.setdefault(formal, []).append(short)

    # --- people -----------------------------------------------------------------------------

    def person(self) -> dict[str, Any]:
        rng = self.rng
        locale = rng.choice(MARKET_LOCALES)
        market = self.markets[locale]
        given = rng.choice(self.pools.given[locale])
        family = rng.choice(self.pools.family[locale])
        row: dict[str, Any] = {"locale": locale, "region": market.region}
        if locale == "zh_CN":
            from pypinyin import lazy_pinyin

            row["local_name"] = family + given
            if rng.random() < 0.5:
                row["given_name"] = "".join(lazy_pinyin(given)).capitalize()
                row["family_name"] = "".join(lazy_pinyin(family)).capitalize()
        else:
            if locale.startswith("es") and rng.random() < 0.6:
                family = f"{family} {rng.choice(self.pools.family[locale])}"
            row["given_name"], row["family_name"] = given, family
        number = self.phones.number(market.region)
        row["_phone"] = number
        row["phones"] = [self.phones.typed(number)] if rng.random() < 0.85 else []
        ascii_given = _strip_accents(row.get("given_name") or "x").lower().replace(" ", "")
        ascii_family = _strip_accents((row.get("family_name") or "y").split(" ")[0]).lower()
        if locale == "zh_CN" and not row.get("given_name"):
            from pypinyin import lazy_pinyin

            ascii_given, ascii_family = "".join(lazy_pinyin(given)), "".join(lazy_pinyin(family))
        domain = rng.choice(market.mail_domains)
        row["emails"] = [f"{ascii_given}.{ascii_family}{rng.randint(1, 9999)}@{domain}"] if rng.random() < 0.75 else []
        if rng.random() < 0.6:
            row["birth_date"] = f"{rng.randint(1950, 2002)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.5:
            city, postcode = rng.choice(self.pools.cities[locale])
            row["addresses"] = [{"street": f"{rng.choice(self.pools.streets[locale])} {rng.randint(1, 200)}", "city": city, "postal_code": postcode}]
        return row

    def _typo(self, word: str) -> str:
        rng = self.rng
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        op = rng.choice("isdt")
        letter = rng.choice("aeioulnrst")
        if op == "i":
            return word[:i] + letter + word[i:]
        if op == "s":
            return word[:i] + letter + word[i + 1 :]
        if op == "d":
            return word[:i] + word[i + 1 :]
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]

    def duplicate(self, original: dict[str, Any]) -> dict[str, Any]:
        """The same person entered again by someone else, with one to three kinds of damage."""
        rng = self.rng
        row: dict[str, Any] = {k: (list(v) if isinstance(v, list) else v) for k, v in original.items()}
        damage = rng.sample(
            ["typo", "nickname", "swap", "accents", "surname", "script", "phone_format", "email_variant",
             "drop_phone", "drop_email", "drop_birth", "drop_address", "birth_typo"],
            k=rng.randint(1, 3),
        )
        for kind in damage:
            given, family = row.get("given_name", ""), row.get("family_name", "")
            if kind == "typo" and (given or family):
                if rng.random() < 0.5 and given:
                    row["given_name"] = self._typo(given)
                elif family:
                    row["family_name"] = self._typo(family)
            elif kind == "nickname" and given:
                short = self.familiar.get(_strip_accents(given).lower())
                if short:
                    row["given_name"] = rng.choice(short).capitalize()
            elif kind == "swap" and given and family:
                row["given_name"], row["family_name"] = family, given
            elif kind == "accents":
                for key in ("given_name", "family_name"):
                    if row.get(key):
                        row[key] = _strip_accents(row[key]).upper() if rng.random() < 0.3 else _strip_accents(row[key])
            elif kind == "surname" and " " in family:
                row["family_name"] = family.split(" ")[0]
            elif kind == "script" and row.get("local_name"):
                if given:  # keep only the characters, or only the pinyin
                    row.pop("given_name"), row.pop("family_name")
                else:
                    from pypinyin import lazy_pinyin

                    local = row["local_name"]
                    row["given_name"] = "".join(lazy_pinyin(local[1:])).capitalize()
                    row["family_name"] = "".join(lazy_pinyin(local[:1])).capitalize()
                    row["local_name"] = ""
            elif kind == "phone_format" and row.get("phones"):
                row["phones"] = [self.phones.typed(row["_phone"], rng.choice(["national", "international", "e164"]))]
            elif kind == "email_variant" and row.get("emails"):
                local, _, domain = row["emails"][0].partition("@")
                variant = rng.choice(["upper", "plus", "dots"])
                if variant == "upper":
                    row["emails"] = [row["emails"][0].upper()]
                elif variant == "plus":
                    row["emails"] = [f"{local}+crm@{domain}"]
                elif domain == "gmail.com":
                    row["emails"] = [f"{local.replace('.', '')}@{domain}"]
            elif kind == "drop_phone":
                row["phones"] = []
            elif kind == "drop_email":
                row["emails"] = []
            elif kind == "drop_birth":
                row.pop("birth_date", None)
            elif kind == "drop_address":
                row.pop("addresses", None)
            elif kind == "birth_typo" and row.get("birth_date"):
                y, m, d = row["birth_date"].split("-")
                if int(d) <= 12:
                    row["birth_date"] = f"{y}-{d}-{m}"  # day and month swapped
        return row

    def namesake(self, original: dict[str, Any]) -> dict[str, Any]:
        """Another person with the very same name."""
        other = self.person()
        for key in ("given_name", "family_name", "local_name", "locale", "region"):
            if key in original:
                other[key] = original[key]
            else:
                other.pop(key, None)
        return other

    def relative(self, original: dict[str, Any]) -> dict[str, Any]:
        """A spouse or child: same family name, home phone and address; another given name and e-mail."""
        other = self.namesake(original)
        locale = original["locale"]
        if original.get("given_name"):
            other["given_name"] = rng_choice_other(self.rng, self.pools.given[locale], original["given_name"])
        elif original.get("local_name"):
            other["local_name"] = original["local_name"][:1] + rng_choice_other(self.rng, self.pools.given[locale], original["local_name"][1:])
        other["phones"], other["_phone"] = list(original.get("phones") or []), original["_phone"]
        if original.get("addresses"):
            other["addresses"] = original["addresses"]
        return other

    def people(self, count: int, *, duplicate_rate: float = 0.2, namesake_rate: float = 0.03, relative_rate: float = 0.03,
               first_entity: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(entity, row)`` pairs: rows with the same entity are the same person."""
        entity = first_entity
        made = 0
        while made < count:
            entity += 1
            original = self.person()
            yield entity, original
            made += 1
            r = self.rng.random()
            if r < duplicate_rate:
                for _ in range(1 if self.rng.random() < 0.8 else 2):
                    yield entity, self.duplicate(original)
                    made += 1
            elif r < duplicate_rate + namesake_rate:
                entity += 1
                yield entity, self.namesake(original)
                made += 1
            elif r < duplicate_rate + namesake_rate + relative_rate:
                entity += 1
                yield entity, self.relative(original)
                made += 1

    # --- organisations ----------------------------------------------------------------------

    def organization(self) -> dict[str, Any]:
        rng = self.rng
        locale = rng.choice(MARKET_LOCALES)
        market = self.markets[locale]
        name = rng.choice(self.pools.companies[locale])
        slug = "".join(ch for ch in _strip_accents(name).lower() if ch.isalnum())[:16] or "empresa"
        row: dict[str, Any] = {"locale": locale, "region": market.region, "name": name}
        number = self.phones.number(market.region, mobile=False)
        row["_phone"] = number
        row["phones"] = [self.phones.typed(number)] if rng.random() < 0.8 else []
        row["emails"] = [f"info@{slug}{rng.randint(1, 999)}.{market.tld}"] if rng.random() < 0.6 else []
        row["website"] = f"https://www.{slug}{rng.randint(1, 999)}.{market.tld}" if rng.random() < 0.5 else ""
        row["tax_id"] = f"B{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.5 else ""
        if rng.random() < 0.6:
            city, postcode = rng.choice(self.pools.cities[locale])
            row["addresses"] = [{"street": f"{rng.choice(self.pools.streets[locale])} {rng.randint(1, 200)}", "city": city, "postal_code": postcode}]
        return row

    def organization_duplicate(self, original: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        row: dict[str, Any] = {k: (list(v) if isinstance(v, list) else v) for k, v in original.items()}
        for kind in rng.sample(["typo", "legal", "case", "phone_format", "drop_phone", "drop_email", "drop_web", "drop_tax", "tax_format"], k=rng.randint(1, 3)):
            if kind == "typo":
                words = row["name"].split()
                i = rng.randrange(len(words))
                words[i] = self._typo(words[i])
                row["name"] = " ".join(words)
            elif kind == "legal":
                row["name"] = row["name"] + rng.choice([" S.A.", " SRL", " Ltd.", " S.L.", " Inc.", "有限公司"]) if not row["name"].endswith(("有限公司", "公司")) else row["name"][:-2]
            elif kind == "case":
                row["name"] = _strip_accents(row["name"]).upper()
            elif kind == "phone_format" and row["phones"]:
                row["phones"] = [self.phones.typed(row["_phone"], rng.choice(["national", "international", "e164"]))]
            elif kind == "drop_phone":
                row["phones"] = []
            elif kind == "drop_email":
                row["emails"] = []
            elif kind == "drop_web":
                row["website"] = ""
            elif kind == "drop_tax":
                row["tax_id"] = ""
            elif kind == "tax_format" and row["tax_id"]:
                row["tax_id"] = f"ES-{row['tax_id']}"
        return row

    def organizations(self, count: int, *, duplicate_rate: float = 0.2) -> Iterator[tuple[int, dict[str, Any]]]:
        entity = made = 0
        while made < count:
            entity += 1
            original = self.organization()
            yield entity, original
            made += 1
            r = self.rng.random()
            if r < duplicate_rate:
                yield entity, self.organization_duplicate(original)
                made += 1
            elif r < duplicate_rate + 0.05:
                entity += 1
                branch = self.organization()  # another company, same trade name in another city
                branch["name"] = original["name"]
                yield entity, branch
                made += 1


def rng_choice_other(rng: random.Random, pool: list[str], not_this: str) -> str:
    for _ in range(20):
        pick = rng.choice(pool)
        if pick != not_this:
            return pick
    return not_this + "a"


# --- accuracy ---------------------------------------------------------------------------------


def _record(i: int, kind: str, row: dict[str, Any]) -> Any:
    from rapport.dedup.matching import build_record

    return build_record(
        id=i, kind=kind, name=row.get("name", ""), given_name=row.get("given_name", ""), family_name=row.get("family_name", ""),
        local_name=row.get("local_name", ""), phones=row.get("phones", []), emails=row.get("emails", []),
        birth_date=row.get("birth_date", ""), tax_id=row.get("tax_id", ""), website=row.get("website", ""),
        address=(row.get("addresses") or [None])[0], region=row["region"],
    )


def true_pairs(labels: dict[int, int]) -> set[tuple[int, int]]:
    by_entity: dict[int, list[int]] = {}
    for record_id, entity in labels.items():
        by_entity.setdefault(entity, []).append(record_id)
    pairs = set()
    for ids in by_entity.values():
        ids.sort()
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                pairs.add((ids[i], ids[j]))
    return pairs


def score_table(found: list[Any], truth: set[tuple[int, int]]) -> list[dict[str, Any]]:
    rows = []
    for threshold in THRESHOLDS:
        predicted = {(p.left, p.right) for p in found if p.score >= threshold}
        tp = len(predicted & truth)
        fp = len(predicted) - tp
        fn = len(truth) - tp
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"threshold": threshold, "tp": tp, "fp": fp, "fn": fn,
                     "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)})
    return rows


def accuracy(kind: str, rows: list[tuple[int, dict[str, Any]]], *, train: bool = True) -> dict[str, Any]:
    """Precision and recall per threshold, with weights learned from the records (as after
    ``rapport dedup --train``) or, with ``train`` false, with the hand-set default weights."""
    from rapport.dedup import training
    from rapport.dedup.matching import RunStats, find_pairs

    records = [_record(i, kind, row) for i, (_entity, row) in enumerate(rows, start=1)]
    labels = {i: entity for i, (entity, _row) in enumerate(rows, start=1)}
    model = training.train(records, kind) if train else None
    stats = RunStats()
    started = time.perf_counter()
    found = find_pairs(records, threshold=min(THRESHOLDS), stats=stats, model=model)
    elapsed = time.perf_counter() - started
    truth = true_pairs(labels)
    table = score_table(found, truth)
    return {"kind": kind, "records": len(records), "true_pairs": len(truth), "compared": stats.compared,
            "seconds": round(elapsed, 2), "trained": bool(model and model.trained), "per_threshold": table}


# --- speed ------------------------------------------------------------------------------------


class LoadSampler:
    """The 1-minute load average, read every few seconds while a measurement runs."""

    def __init__(self, every: float = 2.0) -> None:
        self.every = every
        self.samples: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._done.wait(self.every):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._done.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])
        return {"min": round(min(self.samples), 1), "mean": round(sum(self.samples) / len(self.samples), 1),
                "max": round(max(self.samples), 1), "samples": len(self.samples)}


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system



def load_people(population: Population, count: int, admin: Any, first_entity: int = 0) -> tuple[int, float, int]:
    from rapport.cards.bulk import bulk_create_cards

    def rows() -> Iterator[dict[str, Any]]:
        for n, (entity, row) in enumerate(population.people(count, first_entity=first_entity)):
            if n >= count:
                return
            out = {
                "kind": "person", "given_name": row.get("given_name", ""), "family_name": row.get("family_name", ""),
                "local_name": row.get("local_name", ""), "phones": row.get("phones", []), "emails": row.get("emails", []),
                "addresses": row.get("addresses", []), "region": row["region"], "external_id": f"e{entity}-{n}",
            }
            if not (out["given_name"] or out["family_name"] or out["local_name"]):
                out["given_name"] = "x"
            if row.get("birth_date"):
                out["facts"] = [{"item": "birth_date", "value": row["birth_date"], "source": "customer_roster"}]
            yield out

    errors = 0

    def on_error(index: int, exc: Exception) -> None:
        nonlocal errors
        errors += 1

    started = time.perf_counter()
    created = bulk_create_cards(user=admin, rows=rows(), batch_size=5000, on_error=on_error)
    return created, time.perf_counter() - started, errors


def lookups(admin: Any, population: Population, samples: int = 300) -> dict[str, Any]:
    """The creation-time check (one card, through the indexes) and the importer's in-memory finder."""
    from rapport.dedup import services

    rows = [population.duplicate(population.person()) for _ in range(samples)]
    timings, cpu = [], []
    for row in rows:
        started, cpu_started = time.perf_counter(), time.process_time()
        services.find_duplicates(user=admin, kind="person", data=row)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)  # SQLite runs in this process: CPU is what the check costs
    started, cpu_started = time.perf_counter(), time.process_time()
    finder = services.DuplicateFinder(user=admin, kind="person")
    built, built_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    # As the importer runs it: with the cyclic collector off (rapport.imports switches it off for
    # a run). With it on, a collection now and then walks the whole index and the rate measured
    # is mostly those walks.
    collecting = gc.isenabled()
    gc.disable()
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        for row in rows * 10:
            finder.find(row)
        per_row = (time.perf_counter() - started) / (len(rows) * 10)
        per_row_cpu = (time.process_time() - cpu_started) / (len(rows) * 10)
    finally:
        if collecting:
            gc.enable()
    return {
        "check": common.percentiles(timings), "check_cpu": common.percentiles(cpu), "finder_build_s": round(built, 1),
        "finder_build_cpu_s": round(built_cpu, 1), "finder_rows_per_s": round(1 / per_row),
        "finder_rows_per_cpu_s": round(1 / per_row_cpu),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accuracy-people", type=int, default=20_000)
    parser.add_argument("--accuracy-organizations", type=int, default=5_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded cards of an earlier run (same --people)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--lookups-only", action="store_true", help="with --reuse: only time the look-ups on the loaded cards")
    parser.add_argument("--skip-accuracy", action="store_true", help="only the speed run (no labelled sets)")
    parser.add_argument("--keep-model", action="store_true",
                        help="with --reuse: scan with the weights an earlier run trained and stored (no training)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the comparisons of the full scan")
    args = parser.parse_args(argv)

    name = f"dedup-{args.db}-{args.people // 1000}k"
    common.setup(name, db=args.db, reuse=args.reuse)
    # Runs that only re-measure the scan (or use more processes) keep the full run's results.
    result_name = name + ("-scan" if args.skip_accuracy or args.keep_model else "") + (f"-w{args.workers}" if args.workers != 1 else "")
    from rapport.dedup.matching import DEFAULT_THRESHOLD

    rng = random.Random(args.seed)
    pools = build_pools()
    population = Population(rng, pools)
    results: dict[str, Any] = {"default_threshold": DEFAULT_THRESHOLD}
    if args.lookups_only:
        from rapport.accounts.models import User

        found = lookups(User.objects.get(username="bench_admin"), Population(random.Random(args.seed + 2), pools))
        print(f"look-ups: {found}")
        path = common.write_results(f"{name}-lookups", parameters=vars(args), figures={"lookups": found})
        print(f"results: {path}")
        return 0
    accuracy_sets = () if args.skip_accuracy else ("accuracy_people", "accuracy_organizations")
    if accuracy_sets:
        people = list(population.people(args.accuracy_people))[: args.accuracy_people]
        results["accuracy_people"] = accuracy("person", people)
        orgs = list(population.organizations(args.accuracy_organizations))[: args.accuracy_organizations]
        results["accuracy_organizations"] = accuracy("organization", orgs)
    for key in accuracy_sets:
        print(f"{key}: {results[key]['records']} records, {results[key]['true_pairs']} true pairs, {results[key]['compared']} compared")
        for row in results[key]["per_threshold"]:
            print(f"  t={row['threshold']:.2f}  P={row['precision']:.3f}  R={row['recall']:.3f}  F1={row['f1']:.3f}")
    if not args.skip_speed:
        from rapport.accounts.models import User
        from rapport.accounts.services import create_user
        from rapport.cards.models import Card
        from rapport.dedup import services
        from rapport.dedup.models import Candidate

        admin = User.objects.filter(username="bench_admin").first() or create_user(
            username="bench_admin", role="admin", password="x", validate=False
        )
        have = Card.objects.filter(kind="person").count()
        loaded = {"people": 0, "rejected_rows": 0, "seconds": 0.0}
        for _round in range(3):  # rows the loader rejects (a generated value it finds invalid) are made up for
            if have >= args.people:
                break
            # Topping up an earlier load: new entity numbers, so labels never collide.
            created, seconds, rejected = load_people(
                Population(random.Random(args.seed + 1 + have), pools), args.people - have, admin,
                first_entity=10**8 + have * 10 if have else 0,
            )
            loaded["people"] += created
            loaded["rejected_rows"] += rejected
            loaded["seconds"] += seconds
            have = Card.objects.filter(kind="person").count()
        if loaded["people"]:
            loaded["per_s"] = round(loaded["people"] / loaded["seconds"])
            loaded["seconds"] = round(loaded["seconds"], 1)
            results["load"] = loaded
            print(f"loaded {loaded['people']} people in {loaded['seconds']:.0f} s ({loaded['rejected_rows']} rows rejected)")
        Candidate.objects.all().delete()
        gc.collect()
        if args.keep_model and services.current_model("person").trained:
            results["train"] = {"kept": True, "prior": services.current_model("person").prior}
            print("scanning with the weights trained by an earlier run")
        else:
            # Learning the weights from the loaded cards, as `rapport dedup --train` does; the scan then uses them.
            started, cpu_started = time.perf_counter(), time.process_time()
            trained = services.train(user=admin, kind="person")
            results["train"] = {
                "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(time.process_time() - cpu_started, 1),
                "trained": trained.model.trained, "prior": trained.model.prior,
                "candidate_pairs": trained.model.about.get("candidate_pairs"), "expected_duplicates": trained.model.about.get("expected_duplicates"),
            }
            print(f"trained on {trained.model.about.get('records')} people in {results['train']['seconds']} s "
                  f"({results['train']['cpu_seconds']} s CPU)")
            del trained
            gc.collect()
        sampler = LoadSampler()
        sampler.start()
        started, cpu_started, children_started = time.perf_counter(), time.process_time(), _children_cpu()
        result = services.scan(user=admin, kind="person", threshold=DEFAULT_THRESHOLD, store=True, workers=args.workers)
        seconds = time.perf_counter() - started
        # CPU seconds of this process (SQLite runs in it) and of the processes it forked:
        # what the run costs when the machine's other users leave the cores alone; wall
        # seconds depend on them, hence the load average seen during the run.
        cpu_seconds = time.process_time() - cpu_started + _children_cpu() - children_started
        load = sampler.stop()
        labels = {r.id: r.external_id for r in result.records.values()}
        # External ids are "e<entity>-<row>": unique per card, the entity is the label.
        truth = true_pairs({k: int(v[1:].split("-")[0]) for k, v in labels.items()})
        table = score_table(result.pairs, truth)
        default_row = next(r for r in table if r["threshold"] == DEFAULT_THRESHOLD)
        results["speed"] = {
            "people": result.stats.records, "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
            "load_average": load, "workers": result.stats.workers, "phase_seconds": result.seconds,
            "phase_cpu_seconds": result.cpu_seconds,
            "compared": result.stats.compared, "names_compared": result.stats.names_compared,
            "blocking_keys": result.stats.keys, "large_blocks": result.stats.large_blocks,
            "pairs_found": len(result.pairs), "queued": result.created,
            "at_default_threshold": default_row,
        }
        print(f"scan of {result.stats.records} people: {seconds:.1f} s ({cpu_seconds:.1f} s CPU; wall {result.seconds}, "
              f"CPU {result.cpu_seconds}; load average "
              f"{load['min']}–{load['max']}, mean {load['mean']}), {result.stats.compared} compared, "
              f"{len(result.pairs)} pairs; at {DEFAULT_THRESHOLD}: P={default_row['precision']} R={default_row['recall']} F1={default_row['f1']}")
        del result
        gc.collect()
        results["lookups"] = lookups(admin, Population(random.Random(args.seed + 2), pools))
        print(f"look-ups: {results['lookups']}")
    summary: dict[str, Any] = {}
    if accuracy_sets:
        default_people = next(r for r in results["accuracy_people"]["per_threshold"] if r["threshold"] == DEFAULT_THRESHOLD)
        default_orgs = next(r for r in results["accuracy_organizations"]["per_threshold"] if r["threshold"] == DEFAULT_THRESHOLD)
        summary = {
            "people_f1_at_default": default_people["f1"],
            "organizations_f1_at_default": default_orgs["f1"],
            "f1_target_met": default_people["f1"] >= TARGETS["f1_at_default_threshold"] and default_orgs["f1"] >= TARGETS["f1_at_default_threshold"],
        }
    if "speed" in results:
        summary["scan_seconds"] = results["speed"]["seconds"]
        summary["scan_people"] = results["speed"]["people"]
        summary["speed_target_met"] = results["speed"]["people"] >= 1_000_000 and results["speed"]["seconds"] <= TARGETS["people_1m_seconds"]
        summary["scan_cpu_seconds"] = results["speed"]["cpu_seconds"]
        summary["check_p95_ms"] = results["lookups"]["check"]["p95_ms"]
        summary["check_cpu_p95_ms"] = results["lookups"]["check_cpu"]["p95_ms"]
    results["summary"] = summary
    path = common.write_results(result_name, parameters=vars(args), figures=results, targets=TARGETS)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
