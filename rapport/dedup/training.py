"""Learning the weights of the matching model from the cards themselves (no labels needed).

Fellegi–Sunter, estimated as Splink does it:

* **u** (how often two *different* customers land on each level of a field) is counted on
  random pairs of records: nearly every random pair is two different customers.
* **m** (how often two records of the *same* customer land there) and the share of matches
  among the pairs the blocking rules bring together are estimated by expectation-maximisation
  on those candidate pairs, with u held fixed: each round weighs every pair by how likely it
  is a match under the current m, then counts the levels again with those weights.
* **The prior** is the expected number of matching pairs over all pairs of records: the
  chance that two records taken at random are the same customer.
* **Term frequencies**: for a name, street or postcode shared by many records, two records
  agreeing on it are weighed by how common that value is (u = its share of records) instead
  of the field's average, so "John Smith" counts less than "Ignatius Quarmby". Only values more
  common than the field's average are kept, at most ``TF_KEEP`` per field.

Pure Python over match records; ``services.train`` reads the cards and stores the result.
Nothing here is tuned to a data set: the sample sizes, the number of rounds and the starting
values are the same for every user.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rapport.dedup import scoring
from rapport.dedup import matching
from rapport.dedup.matching import MatchRecord, free_mail_domains
from rapport.dedup.scoring import FIELDS, LEVELS, NULL, Model, clamp

RANDOM_PAIRS = 300_000  # random pairs counted for u
CANDIDATE_PAIRS = 300_000  # candidate pairs (a reservoir sample beyond that) for m and the share of matches
ROUNDS = 40
MIN_OBSERVED = 20  # a field compared on fewer candidate pairs keeps its default weights
MIN_MATCHES = 5  # a training pass with fewer likely duplicates than this teaches nothing
TF_KEEP = 5_000
START_MATCH_SHARE = 0.05  # starting share of matches among candidate pairs
SEED = 20_261_204  # fixed: training the same cards twice gives the same model


def _start_m(levels: int) -> list[float]:
    # The best level likely for a match, the worst unlikely: 0.8, then the rest shared out.
    if levels == 1:
        return [1.0]
    rest = 0.2 / (levels - 1)
    return [0.8] + [rest] * (levels - 1)


def estimate_u(records: Sequence[MatchRecord], rng: random.Random) -> tuple[list[list[float]], int]:
    """Per field, the share of random pairs on each level (with one added count per level)."""
    n = len(records)
    counts = [[0] * len(LEVELS[f]) for f in FIELDS]
    total_pairs = n * (n - 1) // 2
    free = free_mail_domains()
    if total_pairs <= RANDOM_PAIRS:
        pairs = ((records[i], records[j]) for i in range(n) for j in range(i + 1, n))
        sampled = total_pairs
    else:
        def draw() -> Any:
            for _ in range(RANDOM_PAIRS):
                i, j = rng.randrange(n), rng.randrange(n - 1)
                yield records[i], records[j if j < i else j + 1]
        pairs = draw()
        sampled = RANDOM_PAIRS
    for a, b in pairs:
        for f, level in enumerate(scoring.vector(a, b, free)):
            if level >= 0:
                counts[f][level] += 1
    u = []
    for row in counts:
        seen = sum(row)
        u.append([(c + 1) / (seen + len(row)) for c in row])
    return u, sampled


def candidate_vectors(records: Sequence[MatchRecord], rng: random.Random) -> tuple[Counter[tuple[int, ...]], float]:
    """The comparison vectors of the candidate pairs, and how many candidate pairs there are.

    Every candidate pair when there are few; otherwise blocks (and slices of the sorted
    passes) drawn at random until ``CANDIDATE_PAIRS`` pairs are sampled. A pair that several
    keys bring together is then more likely to be drawn: it counts 1 / (the number of keys
    both records share), so the sample weighs pairs as the scan meets them (once), and the
    total is estimated the same way.
    """
    free = free_mail_domains()
    by_id, blocks, passes = matching.candidate_blocks(records)
    units: list[tuple[list[int], int]] = []  # (ids, reach)
    for ids in blocks:
        units.append((ids, len(ids) if len(ids) <= matching.SMALL_BLOCK else matching.WINDOW))
    for order in passes:
        for at in range(0, len(order), 1000):
            units.append((order[at : at + 1000 + matching.SN_WINDOW], matching.SN_WINDOW))

    def size(ids: list[int], reach: int) -> int:
        n = len(ids)
        return n * (n - 1) // 2 if reach >= n else n * reach

    raw_total = sum(size(ids, reach) for ids, reach in units)
    vectors: Counter[tuple[int, ...]] = Counter()
    if raw_total <= CANDIDATE_PAIRS * 3 // 2:
        total = 0
        for a, b in matching.candidate_pairs(records):
            vectors[scoring.vector(a, b, free)] += 1
            total += 1
        return vectors, float(total)
    rng.shuffle(units)
    keys: dict[int, set[str]] = {}

    def keys_of(rid: int) -> set[str]:
        found = keys.get(rid)
        if found is None:
            found = keys[rid] = set(matching.blocking_keys(by_id[rid]))
        return found

    raw_sampled = 0
    weighted = 0.0
    for ids, reach in units:
        if raw_sampled >= CANDIDATE_PAIRS:
            break
        if reach >= len(ids):
            ordered = ids
        elif reach == matching.WINDOW:
            ordered = sorted(set(ids), key=lambda i: (by_id[i].name, i))
        else:
            ordered = ids
        n = len(ordered)
        for i in range(n - 1):
            for j in range(i + 1, min(n, i + 1 + reach)):
                x, y = ordered[i], ordered[j]
                if x == y:
                    continue
                raw_sampled += 1
                # Keys both share, and the sorted passes: how many ways the scan could meet this pair.
                ways = len(keys_of(x) & keys_of(y)) + (1 if reach == matching.SN_WINDOW else 0)
                weight = 1.0 / max(1, ways)
                weighted += weight
                vectors[scoring.vector(by_id[x], by_id[y], free)] += weight  # type: ignore[assignment]
    return vectors, raw_total * weighted / max(1, raw_sampled)


def expectation_maximisation(
    vectors: Counter[tuple[int, ...]], u: list[list[float]], *, m: list[list[float]] | None = None, learn_m: bool = True,
) -> tuple[list[list[float]], float, int]:
    """m per field and level, and the share of matches among the vectors' pairs (u held fixed).

    ``vectors`` counts each distinct comparison vector (a count may be a weight, not whole).

    With ``learn_m`` false only the share is estimated, m staying as given.
    """
    m = [list(row) for row in m] if m is not None else [_start_m(len(LEVELS[f])) for f in FIELDS]
    share = START_MATCH_SHARE
    rounds = 0
    items = list(vectors.items())
    for rounds in range(1, ROUNDS + 1):
        counts = [[0.0] * len(LEVELS[f]) for f in FIELDS]
        matched = total = 0.0
        for vector, count in items:
            log_m = math.log(share)
            log_u = math.log(1 - share)
            for f, level in enumerate(vector):
                if level != NULL:
                    log_m += math.log(m[f][level])
                    log_u += math.log(u[f][level])
            diff = log_u - log_m
            p = 0.0 if diff > 50 else 1.0 / (1.0 + math.exp(diff))
            weight = p * count
            matched += weight
            total += count
            if learn_m:
                for f, level in enumerate(vector):
                    if level != NULL:
                        counts[f][level] += weight
        new_m = m
        if learn_m:
            new_m = []
            for f, row in enumerate(counts):
                seen = sum(row)
                # A small pseudo-count keeps a level never seen among matches from a weight of minus infinity.
                # One pseudo-pair spread as the starting values: a level never seen among matches
                # keeps a small m (not zero, not minus infinity), and a field barely seen stays near the start.
                start = _start_m(len(row))
                new_m.append([(c + s0) / (seen + 1.0) for c, s0 in zip(row, start)])
        new_share = min(max(matched / total, 1e-6), 1 - 1e-6) if total else share
        change = max([abs(new_share - share)] + [abs(a - b) for old, new in zip(m, new_m) for a, b in zip(old, new)])
        m, share = new_m, new_share
        if change < 1e-6:
            break
    return m, share, rounds


# Training passes, as Splink's "training blocking rules": the pairs agreeing on one field,
# whose m cannot be learned from them (they all agree) but whose other fields' m can. Each
# field's m is then the mean of the passes where it was free to vary.
PASSES: tuple[tuple[str, Any], ...] = (
    ("name", lambda r: r.sound),
    ("birth_date", lambda r: r.birth_date),
    ("street", lambda r: r.street and f"{r.street}|{r.postal_code or r.city}"),
    ("phone", lambda r: min(r.phone_tails) if r.phone_tails else ""),
    ("email", lambda r: min(r.emails) if r.emails else ""),
)
PASS_BLOCK = 20  # a block of one key larger than this contributes pairs of neighbours only


def pass_vectors(records: Sequence[MatchRecord], fixed: str, key_of: Any) -> Counter[tuple[int, ...]]:
    """The comparison vectors of the pairs agreeing on ``fixed`` (that field left out)."""
    free = free_mail_domains()
    blocks: dict[str, list[MatchRecord]] = {}
    for r in records:
        key = key_of(r)
        if key:
            blocks.setdefault(key, []).append(r)
    at = FIELDS.index(fixed)
    vectors: Counter[tuple[int, ...]] = Counter()
    pairs = 0
    for block in blocks.values():
        n = len(block)
        if n < 2:
            continue
        reach = n if n <= PASS_BLOCK else 3
        for i in range(n - 1):
            for j in range(i + 1, min(n, i + 1 + reach)):
                v = list(scoring.vector(block[i], block[j], free))
                v[at] = NULL
                vectors[tuple(v)] += 1
                pairs += 1
                if pairs >= CANDIDATE_PAIRS:
                    return vectors
    return vectors


TF_SOURCES = (  # (field, level, key prefix, the record's value)
    ("name", 0, "", lambda r: r.name),
    ("street", 0, "", lambda r: r.street),
    ("place", 0, "p:", lambda r: r.postal_code),
    ("place", 1, "c:", lambda r: r.city),
)


def term_frequencies(records: Sequence[MatchRecord], m: dict[str, list[float]], u: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Weights for the common values of the term-frequency fields (see the module docstring)."""
    tf: dict[str, dict[str, float]] = {}
    for name, level, prefix, value_of in TF_SOURCES:
        if name not in m:
            continue
        counter: Counter[str] = Counter(v for v in map(value_of, records) if v)
        seen = sum(counter.values())
        for value, count in counter.most_common(TF_KEEP):
            share = count / seen
            if share <= u[name][level] or count < 2:
                break
            tf.setdefault(name, {})[scoring.tf_key(prefix + value)] = round(clamp(math.log(m[name][level] / share)), 4)
    return tf


def train(records: Sequence[MatchRecord], kind: str) -> Model:
    """A model estimated from ``records`` (every live card of one kind the user sees)."""
    defaults = scoring.default_model(kind)
    n = len(records)
    if n < 50:
        model = scoring.default_model(kind)
        model.about = {"trained": False, "records": n, "why": "too_few_records"}
        return model
    rng = random.Random(SEED)
    u, random_pairs = estimate_u(records, rng)
    learned: list[list[list[float]]] = [[] for _ in FIELDS]
    observed = [0] * len(FIELDS)
    passes = {}
    for fixed, key_of in PASSES:
        vectors = pass_vectors(records, fixed, key_of)
        if sum(vectors.values()) < MIN_OBSERVED:
            continue
        m_pass, share_pass, rounds = expectation_maximisation(vectors, u)
        passes[fixed] = {"pairs": sum(vectors.values()), "rounds": rounds, "match_share": round(share_pass, 6)}
        if share_pass * sum(vectors.values()) < MIN_MATCHES:
            continue  # next to no duplicates among these pairs: nothing to learn m from
        seen = [0] * len(FIELDS)
        for vector, count in vectors.items():
            for f, level in enumerate(vector):
                if level != NULL:
                    seen[f] += count
        for f in range(len(FIELDS)):
            if seen[f] >= MIN_OBSERVED:
                learned[f].append(m_pass[f])
                observed[f] += seen[f]
    m = [
        [sum(col) / len(rows) for col in zip(*rows)] if rows else _start_m(len(LEVELS[FIELDS[f]]))
        for f, rows in enumerate(learned)
    ]
    if not any(learned):
        model = scoring.default_model(kind)
        model.about = {"trained": False, "records": n, "why": "no_duplicates_to_learn_from", "passes": passes}
        return model
    # The share of matches among the candidate pairs, with m and u now held fixed.
    vectors, candidates = candidate_vectors(records, rng)
    _m, share, rounds = expectation_maximisation(vectors, u, m=m, learn_m=False)
    weights: dict[str, tuple[float, ...]] = {}
    for f, name in enumerate(FIELDS):
        if name == "external_id" or not learned[f]:
            # Too little to learn from (or an id another system gave: as sure as it is set by hand).
            weights[name] = defaults.weights[name]
        else:
            raw = [clamp(math.log(mi / ui)) for mi, ui in zip(m[f], u[f])]
            # Levels are ordered from most to least alike: a closer level never weighs less
            # than a looser one (EM on few pairs can put "very similar" above "same").
            for i in range(len(raw) - 2, -1, -1):
                raw[i] = max(raw[i], raw[i + 1])
            weights[name] = tuple(round(w, 4) for w in raw)
    total_pairs = n * (n - 1) / 2
    expected = max(share * candidates, 1.0)
    prior = math.log(expected / max(total_pairs - expected, 1.0))
    tf_fields = [name for name in scoring.TF_FIELDS if learned[FIELDS.index(name)]]
    tf = term_frequencies(
        records, {name: m[FIELDS.index(name)] for name in tf_fields}, {name: u[FIELDS.index(name)] for name in tf_fields},
    )
    about = {
        "trained": True, "records": n, "random_pairs": random_pairs, "candidate_pairs": round(candidates),
        "pairs_sampled": round(sum(vectors.values())), "rounds": rounds, "match_share": round(share, 6), "passes": passes,
        "expected_duplicates": round(expected), "observed": dict(zip(FIELDS, observed)),
        "m": {name: [round(x, 6) for x in m[f]] for f, name in enumerate(FIELDS)},
        "u": {name: [round(x, 8) for x in u[f]] for f, name in enumerate(FIELDS)},
    }
    return Model(kind=kind, prior=round(prior, 4), weights=weights, tf=tf, about=about)
