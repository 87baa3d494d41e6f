"""Scoring the candidate pairs of a whole scan at once: arrays instead of a Python loop per pair.

A scan of a million people compares about twelve million pairs. Looked at one by one in
Python (a tuple of levels, set intersections, a street similarity per pair) each cost about
ten microseconds. Here every record's comparable values are turned once into integer codes
(each distinct phone, e-mail, birth date, postcode, street… one number), the pairs the
blocking rules bring together are made as two arrays of record positions, and the weight of
every field but the name is added up for all of them at once with numpy, in the order
``scoring.evidence`` adds it, so the sums are the same. Only the pairs whose evidence could
still reach the threshold with the best name weight have their names compared (a few per
cent), and only those that then can reach it are weighed in full by ``scoring.weigh``: the
pairs, scores and reasons found are exactly those of scoring every candidate pair with
``matching.score_pair`` (a test checks this against the plain definition).

A record holding more values than the arrays have room for (more than ``SLOTS`` phones or
e-mails) has its pairs looked at one by one by ``scoring.evidence``, as before.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rapport.dedup import scoring
from rapport.dedup.scoring import Model

if TYPE_CHECKING:
    from rapport.dedup.matching import MatchRecord, PairScore

Array = npt.NDArray[Any]

SLOTS = 3  # phones, phone tails, e-mails and company domains kept per record in the arrays
CHUNK = 500_000  # pairs weighed at once: bounds the memory of the arrays
# The array sums follow scoring.evidence's order, so they are the same numbers; a pair is
# still only set aside when it falls short by more than this, in case a sum were rounded
# differently. Keeping a pair too many costs a comparison, never a different result.
MARGIN = 1e-7


def _codes(values: Sequence[str]) -> Array:
    """Each distinct non-empty value a number from 1 up, the empty string -1 (for equality tests)."""
    mapping: dict[str, int] = {"": -1}
    number = mapping.setdefault
    return np.fromiter([number(v, len(mapping)) for v in values], dtype=np.int64, count=len(values))


def _ranks(values: Sequence[str]) -> Array:
    """The rank of each value in sorted order (equal values, equal ranks)."""
    order = sorted(set(values))
    mapping = dict(zip(order, range(len(order))))
    return np.fromiter(map(mapping.__getitem__, values), dtype=np.int64, count=len(values))


def _slots(sets: Sequence[frozenset[str] | set[str]]) -> tuple[Array, Array]:
    """(codes, one row of ``SLOTS`` per record padded with -1; how many values each record holds)."""
    n = len(sets)
    counts = np.fromiter(map(len, sets), dtype=np.int64, count=n)
    flat = [value for values in sets for value in values]
    codes = _codes(flat)
    table = np.full((n, SLOTS), -1, dtype=np.int64)
    if flat:
        rows = np.repeat(np.arange(n), counts)
        starts = np.cumsum(counts) - counts
        cols = np.arange(len(flat)) - np.repeat(starts, counts)
        fits = cols < SLOTS
        table[rows[fits], cols[fits]] = codes[fits]
    return table, counts


def _meet(table: Array, a: Array, b: Array) -> Array:
    """Whether the value sets of records ``a`` and ``b`` share a value (pairwise)."""
    left, right = table[a], table[b]
    out = np.zeros(len(a), dtype=bool)
    for i in range(SLOTS):
        value = left[:, i]
        present = value >= 0
        for j in range(SLOTS):
            out |= present & (value == right[:, j])
    return out


@dataclass
class Columns:
    """What ``scoring.evidence`` compares of each record, as arrays indexed by record position."""

    records: Sequence[MatchRecord]
    model: Model
    person: bool
    birth: Array = field(init=False)
    birth_chars: Array = field(init=False)
    birth_full: Array = field(init=False)
    phones: Array = field(init=False)
    phone_count: Array = field(init=False)
    tails: Array = field(init=False)
    emails: Array = field(init=False)
    email_count: Array = field(init=False)
    domains: Array = field(init=False)
    domain_count: Array = field(init=False)
    tax: Array = field(init=False)
    website: Array = field(init=False)
    external: Array = field(init=False)
    street: Array = field(init=False)
    house: Array = field(init=False)
    street_tf: Array = field(init=False)
    postal: Array = field(init=False)
    city: Array = field(init=False)
    postal_tf: Array = field(init=False)
    city_tf: Array = field(init=False)
    overflow: Array = field(init=False)

    def __post_init__(self) -> None:
        from rapport.dedup.matching import free_mail_domains

        records, m = self.records, self.model
        n = len(records)
        births = [r.birth_date for r in records]
        self.birth = _codes(births)
        self.birth_full = np.fromiter((len(d) == 10 for d in births), dtype=bool, count=n)
        # Birth dates as ten code points each, for "one character typed wrong" and "day and month swapped".
        padded = "".join(d if len(d) == 10 else "\0" * 10 for d in births)
        self.birth_chars = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).reshape(n, 10)
        self.phones, self.phone_count = _slots([r.phones for r in records])
        self.tails, tail_count = _slots([r.phone_tails for r in records])
        self.emails, self.email_count = _slots([r.emails for r in records])
        free = free_mail_domains()
        self.domains, self.domain_count = _slots([{e.rpartition("@")[2] for e in r.emails} - free for r in records])
        self.tax = _codes([r.tax_id for r in records])
        self.website = _codes([r.website for r in records])
        self.external = _codes([r.external_id for r in records])
        streets = [r.street for r in records]
        self.street = _codes(streets)
        self.house = _codes([scoring._house_number(s) if s else "" for s in streets])
        w0 = m.w_street[0]
        tf_key = scoring.tf_key
        self.street_tf = np.array([m.tf_street.get(tf_key(s), w0) if s and m.tf_street else w0 for s in streets], dtype=np.float64)
        postals = [r.postal_code for r in records]
        cities = [r.city for r in records]
        self.postal = _codes(postals)
        self.city = _codes(cities)
        p0, p1 = m.w_place[0], m.w_place[1]
        self.postal_tf = np.array([m.tf_place.get(tf_key("p:" + p), p0) if p and m.tf_place else p0 for p in postals], dtype=np.float64)
        self.city_tf = np.array([m.tf_place.get(tf_key("c:" + c), p1) if c and m.tf_place else p1 for c in cities], dtype=np.float64)
        self.overflow = (
            (self.phone_count > SLOTS) | (tail_count > SLOTS) | (self.email_count > SLOTS) | (self.domain_count > SLOTS)
        )


def _street_levels(c: Columns, a: Array, b: Array) -> Array:
    """``scoring.street_level`` of each pair; -2 where only the similarity of the two streets can tell."""
    sa, sb = c.street[a], c.street[b]
    level = np.full(len(a), scoring.NULL, dtype=np.int64)
    both = (sa >= 0) & (sb >= 0)
    level[both] = -2
    level[both & (sa == sb)] = 0
    ha, hb = c.house[a], c.house[b]
    level[both & (sa != sb) & (ha >= 0) & (hb >= 0) & (ha != hb)] = 2  # two buildings
    return level


def _weights(c: Columns, a: Array, b: Array, street: Array) -> Array:
    """``scoring.evidence`` of every pair, street level given (an undecided street, -2, counts its best weight)."""
    m = c.model
    n = len(a)
    w = np.full(n, m.prior + m.name_best, dtype=np.float64)
    zero = 0.0

    def add(level: Array, weights: tuple[float, ...]) -> None:
        nonlocal w
        table = np.asarray(weights, dtype=np.float64)
        w = w + np.where(level >= 0, table[np.maximum(level, 0)], zero)

    # Birth date: same, close (day and month swapped, or one character different), different.
    ba, bb = c.birth[a], c.birth[b]
    level = np.where((ba >= 0) & (bb >= 0), np.where(ba == bb, 0, 2), scoring.NULL)
    maybe = np.flatnonzero((level == 2) & c.birth_full[a] & c.birth_full[b])
    if maybe.size:
        ca, cb = c.birth_chars[a[maybe]], c.birth_chars[b[maybe]]
        swapped = (ca[:, :4] == cb[:, :4]).all(1) & (ca[:, 5:7] == cb[:, 8:10]).all(1) & (ca[:, 8:10] == cb[:, 5:7]).all(1)
        close = swapped | ((ca != cb).sum(1) == 1)
        level[maybe[close]] = 1
    add(level, m.w_birth)
    # Phone: the same number, the same number without its area code, different.
    both = (c.phone_count[a] > 0) & (c.phone_count[b] > 0)
    level = np.where(both, np.where(_meet(c.phones, a, b), 0, np.where(_meet(c.tails, a, b), 1, 2)), scoring.NULL)
    add(level, m.w_phone)
    both = (c.email_count[a] > 0) & (c.email_count[b] > 0)
    add(np.where(both, np.where(_meet(c.emails, a, b), 0, 1), scoring.NULL), m.w_email)
    if not c.person:
        both &= (c.domain_count[a] > 0) & (c.domain_count[b] > 0)
        add(np.where(both, np.where(_meet(c.domains, a, b), 0, 1), scoring.NULL), m.w_domain)
    ta, tb = c.tax[a], c.tax[b]
    add(np.where((ta >= 0) & (tb >= 0), np.where(ta == tb, 0, 1), scoring.NULL), m.w_tax)
    if not c.person:
        wa, wb = c.website[a], c.website[b]
        add(np.where((wa >= 0) & (wb >= 0), np.where(wa == wb, 0, 1), scoring.NULL), m.w_web)
    ea = c.external[a]
    add(np.where((ea >= 0) & (ea == c.external[b]), 0, scoring.NULL), m.w_ext)
    # Street: an undecided one counts the best a street can weigh (no term frequency: the streets differ).
    add(np.where(street == -2, scoring.NULL, street), m.w_street)
    w = w + np.where(street == -2, max(m.w_street), zero)
    if m.tf_street:
        # Only for the very same street (a level 0 from similarity has no term frequency).
        same = (street == 0) & (c.street[a] == c.street[b])
        w = w + np.where(same, c.street_tf[a] - m.w_street[0], zero)
    pa, pb, xa, xb = c.postal[a], c.postal[b], c.city[a], c.city[b]
    postal_both, city_both = (pa >= 0) & (pb >= 0), (xa >= 0) & (xb >= 0)
    level = np.where(
        postal_both & (pa == pb), 0, np.where(city_both & (xa == xb), 1, np.where(postal_both | city_both, 2, scoring.NULL))
    )
    add(level, m.w_place)
    if m.tf_place:
        w = w + np.where(level == 0, c.postal_tf[a] - m.w_place[0], np.where(level == 1, c.city_tf[a] - m.w_place[1], zero))
    return w


@dataclass
class Outcome:
    found: list[PairScore] = field(default_factory=list)
    compared: int = 0
    names_compared: int = 0


def score_pairs(c: Columns, a: Array, b: Array, threshold: float) -> Outcome:
    """The pairs among (``a[i]``, ``b[i]``) scoring at or above ``threshold``, as ``matching.score_pair`` scores them."""
    from rapport.dedup.matching import free_mail_domains

    m, records = c.model, c.records
    floor = scoring.hopeless_below(threshold)
    free = free_mail_domains()
    out = Outcome(compared=len(a))
    evidence = scoring.evidence
    for start in range(0, len(a), CHUNK):
        x, y = a[start : start + CHUNK], b[start : start + CHUNK]
        odd = c.overflow[x] | c.overflow[y]
        if odd.any():
            # Pairs with a record holding more values than the arrays: one by one, as before.
            best = m.prior + m.name_best
            for i, j in zip(x[odd].tolist(), y[odd].tolist()):
                ra, rb = records[i], records[j]
                if evidence(ra, rb, m, best, free) >= floor:
                    out.names_compared += 1
                    _weigh_into(out.found, ra, rb, m, free, threshold)
            x, y = x[~odd], y[~odd]
        street = _street_levels(c, x, y)
        keep = np.flatnonzero(_weights(c, x, y, street) >= floor - MARGIN)
        x, y, street = x[keep], y[keep], street[keep]
        # The streets only their similarity can tell apart, compared for the pairs still in the running.
        undecided = np.flatnonzero(street == -2)
        if undecided.size:
            street_level = scoring.street_level
            street[undecided] = [
                street_level(records[i].street, records[j].street)[0]
                for i, j in zip(x[undecided].tolist(), y[undecided].tolist())
            ]
        w = _weights(c, x, y, street)
        keep = np.flatnonzero(w >= floor - MARGIN)
        x, y, w = x[keep], y[keep], w[keep]
        out.names_compared += len(x)
        # The name decides: only a pair whose evidence with its own name weight can reach the
        # threshold is weighed in full.
        pairs = list(zip(x.tolist(), y.tolist()))
        name_w = np.fromiter((_name_weight(records[i], records[j], m) for i, j in pairs), dtype=np.float64, count=len(pairs))
        for k in np.flatnonzero(w - m.name_best + name_w >= floor - MARGIN).tolist():
            i, j = pairs[k]
            _weigh_into(out.found, records[i], records[j], m, free, threshold)
    return out


def _name_weight(a: MatchRecord, b: MatchRecord, m: Model) -> float:
    """What the name of a pair weighs, as ``scoring.weigh`` counts it (0 when either has none)."""
    level, _sim = scoring.name_level(a, b)
    if level < 0:
        return 0.0
    weight = m.w_name[level]
    if level == 0 and m.tf_name and a.name == b.name:
        weight = m.tf_name.get(scoring.tf_key(a.name), weight)
    return weight


def _weigh_into(found: list[PairScore], a: MatchRecord, b: MatchRecord, m: Model, free: frozenset[str], threshold: float) -> None:
    from rapport.dedup.matching import PairScore

    total, reasons = scoring.weigh(a, b, m, free)
    score = round(scoring.probability(total), 4)
    if score >= threshold:
        left, right = (a.id, b.id) if a.id < b.id else (b.id, a.id)
        found.append(PairScore(left, right, score, tuple(reasons)))


# --- the candidate pairs -------------------------------------------------------------------------


@dataclass
class Candidates:
    """Every pair the blocking rules bring together, once: positions in the records (``a < b``)."""

    a: Array
    b: Array
    keys: int = 0  # distinct blocking keys
    large_blocks: int = 0  # keys shared by more than SMALL_BLOCK records (compared by name neighbours)


def _windows(sequence: Array, ahead: Array) -> tuple[list[Array], list[Array]]:
    """Each element of ``sequence`` paired with the ``ahead[i]`` elements after it."""
    lefts: list[Array] = []
    rights: list[Array] = []
    active = np.flatnonzero(ahead >= 1)
    step = 1
    while active.size:
        lefts.append(sequence[active])
        rights.append(sequence[active + step])
        step += 1
        active = active[ahead[active] >= step]
    return lefts, rights


def _key_codes(keys: list[str], hash_of: Callable[[str], int] = hash) -> tuple[Array, int]:
    """A number per distinct key (0 up) for each key, and how many distinct keys there are.

    Numbered through the keys' hashes, sorted: a few times faster than a dictionary of
    millions of keys. Two different keys with one hash would share a number, so the distinct
    hashes are counted against the distinct keys; should they differ, the keys are numbered
    through a dictionary instead.
    """
    if not keys:
        return np.zeros(0, dtype=np.int64), 0
    hashes = np.fromiter(map(hash_of, keys), dtype=np.int64, count=len(keys))
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    numbers = np.cumsum(first) - 1
    distinct = int(numbers[-1]) + 1
    if distinct != len(set(keys)):
        mapping: dict[str, int] = {}
        number = mapping.setdefault
        return np.fromiter([number(k, len(mapping)) for k in keys], dtype=np.int64, count=len(keys)), len(mapping)
    codes = np.empty(len(keys), dtype=np.int64)
    codes[order] = numbers
    return codes, distinct


def candidate_arrays(records: Sequence[MatchRecord]) -> Candidates:
    """The pairs of ``matching``'s definition: records sharing a key (all pairs in a block of up to
    ``SMALL_BLOCK``, the ``WINDOW`` next by name and id in a larger one) and the ``SN_WINDOW``
    next neighbours in the sorted-neighbourhood order."""
    from rapport.dedup.matching import SMALL_BLOCK, SN_WINDOW, WINDOW, blocking_keys

    n = len(records)
    keys: list[str] = []
    counts: list[int] = []
    for r in records:
        filed = blocking_keys(r)
        keys += filed
        counts.append(len(filed))
    codes, distinct_keys = _key_codes(keys)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.asarray(counts, dtype=np.int64))
    sizes = np.bincount(codes, minlength=1)
    shared = sizes[codes] >= 2
    codes, owner = codes[shared], owner[shared]
    ids = np.fromiter((r.id for r in records), dtype=np.int64, count=n)
    by_name = np.lexsort((ids, _ranks([r.name for r in records])))
    name_rank = np.empty(n, dtype=np.int64)
    name_rank[by_name] = np.arange(n)
    # Entries grouped by key and, within a key, in name order.
    order = np.lexsort((name_rank[owner], codes))
    codes, owner = codes[order], owner[order]
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1]))) if len(codes) else np.zeros(0, dtype=np.int64)
    group = np.diff(np.append(starts, len(codes)))
    reach = np.where(group <= SMALL_BLOCK, group, WINDOW)
    ahead = np.minimum(np.repeat(starts + group, group) - np.arange(len(codes)) - 1, np.repeat(reach, group))
    lefts, rights = _windows(owner, ahead)
    # The sorted-neighbourhood pass: by the sound of the name, then the name, then the id.
    named = np.fromiter((i for i, r in enumerate(records) if r.sound), dtype=np.int64)
    if named.size:
        sound_rank = _ranks([records[i].sound for i in named.tolist()])
        passed = named[np.lexsort((name_rank[named], sound_rank))]
        more_lefts, more_rights = _windows(passed, np.minimum(len(passed) - np.arange(len(passed)) - 1, SN_WINDOW))
        lefts += more_lefts
        rights += more_rights
    if not lefts:
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, distinct_keys, 0)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    low, high = np.minimum(left, right), np.maximum(left, right)
    distinct = low != high
    unique = np.sort(low[distinct] * n + high[distinct])
    if len(unique):
        unique = unique[np.concatenate(([True], unique[1:] != unique[:-1]))]
    return Candidates(unique // n, unique % n, distinct_keys, int((group > SMALL_BLOCK).sum()))


# --- sharing the work between processes ----------------------------------------------------------

_WORK: tuple[Columns, list[tuple[Array, Array]], float] | None = None


def _score_part(part: int) -> Outcome:
    assert _WORK is not None
    columns, parts, threshold = _WORK
    a, b = parts[part]
    return score_pairs(columns, a, b, threshold)


def score_in_parallel(columns: Columns, a: Array, b: Array, threshold: float, processes: int) -> list[Outcome]:
    """The pairs cut into ``processes`` parts, scored by this process and ``processes - 1`` forked copies.

    The copies inherit the arrays and records (nothing is sent to them) and send back only what
    they found.
    """
    global _WORK
    parts = list(zip(np.array_split(a, processes), np.array_split(b, processes)))
    _WORK = (columns, parts, threshold)
    try:
        with multiprocessing.get_context("fork").Pool(processes - 1) as pool:
            others = pool.map_async(_score_part, range(1, processes))
            mine = _score_part(0)
            return [mine, *others.get()]
    finally:
        _WORK = None
