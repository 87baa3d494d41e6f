"""The duplicate detection engine: normalised match records, blocking and finding pairs.

Plain records in, scored pairs out, no database: ``services`` builds the records from cards
(or from a row being imported) and stores what the engine finds. The same records feed the
review queue, the command line, the creation-time check and the benchmark. How a pair is
scored (Fellegi–Sunter weights, default or learned) is ``rapport.dedup.scoring``; how a whole
scan's pairs are made and weighed at once, with numpy, is ``rapport.dedup.batch``.

Blocking keeps the comparison count near-linear: only records brought together by one of
several rules are compared, and the candidate set is the union of what every rule brings
(``RULES``): a phone (its last seven digits, so a number typed without its area code still
meets the full one), an e-mail, a tax id, a website, an external id; name prefixes with a
postcode or a city, with a birth year; a birth date with an initial; the sound of one name
word with the birth date; the street; the phonetic code of the name; and a
sorted-neighbourhood pass over the whole set, ordered by the phonetic codes of the name
words, where each record meets its next ``SN_WINDOW`` neighbours. A key shared by very many
records (a switchboard number, a very common name) is not compared all-against-all: its
records are sorted by name (then id) and each is compared with its next ``WINDOW``
neighbours, so one hot key cannot make the run quadratic.
"""

from __future__ import annotations

import bisect
import multiprocessing
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from rapport.core.text import fold, has_han
from rapport.dedup import batch, scoring
from rapport.dedup.scoring import DEFAULT_THRESHOLD, Model, hopeless_below

__all__ = ["DEFAULT_THRESHOLD", "Model", "hopeless_below"]

DATA = Path(__file__).resolve().parent / "data" / "matching.yaml"

SMALL_BLOCK = 40  # blocks up to this size are compared all-against-all
WINDOW = 6  # neighbours compared in larger blocks, after sorting by name
SN_WINDOW = 3  # neighbours compared in each sorted-neighbourhood pass over the whole set
PHONE_TAIL = 7  # digits of a phone that still compare when the area code is missing

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_DIGITS = re.compile(r"\D+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


@lru_cache(maxsize=1)
def nicknames() -> dict[str, str]:
    return {str(k): str(v) for k, v in (_data().get("nicknames") or {}).items()}


@lru_cache(maxsize=1)
def _legal_forms() -> tuple[frozenset[str], tuple[str, ...]]:
    forms = [fold(str(f)) for f in _data().get("legal_forms") or []]
    latin = frozenset(" ".join(_NON_WORD.split(f)).strip() for f in forms if not has_han(f))
    han = tuple(sorted((f for f in forms if has_han(f)), key=len, reverse=True))
    return latin, han


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    return frozenset(str(d).lower() for d in _data().get("free_mail_domains") or [])


# --- normalisation --------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(fold(p) for p in lazy_pinyin(text) if p.isalpha())


@lru_cache(maxsize=400_000)
def name_token(word: str) -> str:
    """One folded name word, with a nickname replaced by the formal name it stands for."""
    return nicknames().get(word, word)


@lru_cache(maxsize=500_000)
def _latin_words(text: str) -> tuple[str, ...]:
    # Cached: names, cities and streets repeat across a million cards.
    return tuple(w for w in _NON_WORD.split(fold(text)) if w and w != "_")


@lru_cache(maxsize=500_000)
def _name_part(text: str) -> tuple[str, bool]:
    """One name field folded word by word (Chinese words in pinyin), and whether it had Chinese."""
    if not text:
        return "", False
    return " ".join(_pinyin(w) if has_han(w) else w for w in _latin_words(text)), has_han(text)


@lru_cache(maxsize=200_000)
def _given_words(given: str) -> str:
    return " ".join(name_token(w) for w in given.split())


@lru_cache(maxsize=200_000)
def _local_person_name(local: str) -> tuple[str, str]:
    if has_han(local):
        chars = "".join(_HAN.findall(local))
        return _pinyin(chars[1:]), _pinyin(chars[:1])
    words = _latin_words(local)
    return " ".join(words[:-1]), words[-1] if words else ""


def person_name(given: str, family: str, local: str = "") -> tuple[str, str]:
    """(given, family) folded for comparison; a name in Chinese characters becomes pinyin.

    王小明 → ("xiaoming", "wang"): the first character is the family name, as for nearly
    every Chinese name; the Latin spelling "Xiaoming Wang" or "Wang Xiaoming" then matches.
    Each field is normalised once per distinct value (a million cards hold far fewer distinct
    given and family names than distinct combinations of both).
    """
    if not (given or family) and local:
        return _local_person_name(local)
    g, han_given = _name_part(given)
    f, han_family = _name_part(family)
    if han_given or han_family:
        # Pinyin syllables of one name are written together ("xiao ming" = "xiaoming").
        g, f = g.replace(" ", ""), f.replace(" ", "")
    return _given_words(g), f


def organization_name(name: str) -> str:
    """A company name folded, in pinyin if Chinese, without its legal form ("S.A.", "SRL", "有限公司")."""
    latin_forms, han_forms = _legal_forms()
    text = name
    if has_han(text):
        for form in han_forms:
            text = text.replace(form, " ")
        text = _HAN_RUN.sub(lambda m: " " + _pinyin(m.group()) + " ", text)
    words = _latin_words(text)
    # Drop legal-form words at the end ("norte s a", "acme co ltd"), longest form first.
    changed = True
    while changed and len(words) > 1:
        changed = False
        for size in (4, 3, 2, 1):
            if len(words) > size and " ".join(words[-size:]) in latin_forms:
                words = words[:-size]
                changed = True
                break
    return " ".join(words)


def phone_key(raw: str, region: str = "ES") -> str:
    """E.164 for a number typed in ``region``; the bare digits when it cannot be parsed."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if raw.startswith("+") and raw[1:].isdigit():
        return raw
    try:
        number = phonenumbers.parse(raw, region or "ES")
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = _DIGITS.sub("", raw)
    return digits if len(digits) >= 6 else ""


def email_key(raw: str) -> str:
    """An e-mail compared without case, without a +tag, and without dots for Gmail."""
    address = (raw or "").strip().lower()
    if "@" not in address:
        return ""
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local and domain else ""


def tax_key(raw: str) -> str:
    """A tax or registration id compared on letters and digits only, with a country prefix dropped."""
    value = "".join(ch for ch in fold(raw or "") if ch.isalnum()).upper()
    if len(value) > 4 and value[:2].isalpha() and value[2:].isalnum() and any(c.isdigit() for c in value[2:4]):
        value = value[2:]  # "ES B12345678" and "B12345678", "RO123456" and "123456"
    return value


def website_key(raw: str) -> str:
    if not raw:
        return ""
    value = raw.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/", 1)[0].split(":", 1)[0]
    return value[4:] if value.startswith("www.") else value


# --- records --------------------------------------------------------------------------------


@dataclass(slots=True)
class MatchRecord:
    """What the engine compares about one card (or one row being imported), normalised once."""

    id: int
    kind: str  # organization | person
    external_id: str = ""
    given: str = ""  # persons: folded given name(s), nicknames resolved
    family: str = ""
    name: str = ""  # folded full name (organisations: without legal form)
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    birth_date: str = ""  # ISO date
    tax_id: str = ""
    website: str = ""
    postal_code: str = ""
    city: str = ""
    street: str = ""
    display: str = ""
    phone_tails: frozenset[str] = frozenset()  # the last PHONE_TAIL digits of each phone
    sound: str = ""  # phonetic codes of the name words, in alphabetical order of the words


def build_record(
    *,
    id: int,
    kind: str,
    name: str = "",
    given_name: str = "",
    family_name: str = "",
    local_name: str = "",
    external_id: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    birth_date: str = "",
    tax_id: str = "",
    website: str = "",
    address: dict[str, str] | None = None,
    region: str = "ES",
) -> MatchRecord:
    """A match record from raw card data: phones in E.164 or as typed, e-mails as typed."""
    address = address or {}
    return make_record(
        id, kind, name, given_name, family_name, local_name, external_id, phones, emails, birth_date, tax_id, website,
        address.get("street", "") or "", address.get("city", "") or "", address.get("postal_code", "") or "", region,
    )


def make_record(
    id: int, kind: str, name: str, given_name: str, family_name: str, local_name: str, external_id: str,
    phones: Iterable[str], emails: Iterable[str], birth_date: str, tax_id: str, website: str,
    street: str, city: str, postal_code: str, region: str = "ES",
) -> MatchRecord:
    """``build_record`` with every value in order: what a scan calls a million times."""
    if kind == "person":
        given, family = person_name(given_name, family_name, local_name)
        if not (given or family) and name:
            words = _latin_words(name)
            given, family = " ".join(name_token(w) for w in words[:-1]), (words[-1] if words else "")
        full = f"{given} {family}" if given and family else given or family
    else:
        given, family = "", ""
        full = organization_name(name or local_name)
    phone_keys = frozenset(filter(None, [phone_key(p, region) for p in phones])) if phones else _NOTHING
    return MatchRecord(
        id,
        kind,
        external_id or "",
        given,
        family,
        full,
        phone_keys,
        frozenset(filter(None, [email_key(e) for e in emails])) if emails else _NOTHING,
        birth_date[:10] if birth_date else "",
        tax_key(tax_id) if tax_id else "",
        website_key(website) if website else "",
        _postal_key(postal_code) if postal_code else "",
        _place_key(city) if city else "",
        _place_key(street) if street else "",
        name or (f"{given_name} {family_name}" if given_name and family_name else given_name or family_name) or local_name,
        frozenset(_phone_tail(p) for p in phone_keys) if phone_keys else _NOTHING,
        _sound(full) if full else "",
    )


_NOTHING: frozenset[str] = frozenset()


@lru_cache(maxsize=100_000)
def _postal_key(postal: str) -> str:
    return _DIGITS.sub("", postal) or fold(postal)


@lru_cache(maxsize=500_000)
def _place_key(text: str) -> str:
    """A city or a street folded to its words (cached: both repeat across a million cards)."""
    return " ".join(_latin_words(text))


def _phone_tail(key: str) -> str:
    digits = _DIGITS.sub("", key)
    return digits[-PHONE_TAIL:]


_SOUNDEX = str.maketrans("bfpvcgjkqsxzdtlmnr", "111122222222334556", "aeiouyhw")


@lru_cache(maxsize=500_000)
def phonetic(word: str) -> str:
    """A Soundex-like code of one folded word (first letter and up to five consonant classes).

    "neumann" and "newman", "smith" and "smyth" share a code; digits and other scripts are
    kept as they are.
    """
    if not word:
        return ""
    coded = word[1:].translate(_SOUNDEX)
    out = [word[0]]
    last = word[0].translate(_SOUNDEX)
    for ch in coded:
        if ch != last:
            out.append(ch)
        last = ch
    return "".join(out)[:6]


@lru_cache(maxsize=500_000)
def _sound(name: str) -> str:
    return " ".join(sorted(phonetic(w) for w in name.split()))


# --- blocking -------------------------------------------------------------------------------

# The blocking rules, by the first letter of the keys they make (see ``blocking_keys``); the
# sorted-neighbourhood pass has no keys. The benchmark reports the share of true
# pairs each rule reaches.
RULES = {
    "p": "phone (last 7 digits)",
    "e": "e-mail",
    "d": "company e-mail domain",
    "t": "tax id",
    "x": "external id",
    "w": "website",
    "c": "name prefixes + postcode or city",
    "k": "name prefixes + postcode or city",
    "y": "name prefixes + birth year",
    "z": "name prefixes + birth year",
    "b": "birth date + initial",
    "f": "one name word's sound + birth date",
    "a": "street",
    "s": "phonetic name",
    "o": "organisation name word",
    "q": "organisation initials",
}
SORTED_RULES = ("sorted neighbourhood on the phonetic name",)


def blocking_keys(r: MatchRecord) -> list[str]:
    """The keys a record is filed under; two records are compared if they share one.

    Keys of a kind start with the same letter (``RULES``).
    """
    keys = ["p" + p for p in r.phone_tails]
    for e in r.emails:
        keys.append("e" + e)
        if r.kind == "organization":
            domain = "d" + e.rpartition("@")[2]
            if domain[1:] not in free_mail_domains() and domain not in keys:
                keys.append(domain)  # once, even for two addresses at the same company
    if r.tax_id:
        keys.append("t" + r.tax_id)
    if r.external_id:
        keys.append("x" + r.external_id)
    if r.website:
        keys.append("w" + r.website)
    if r.sound:
        keys.append("s" + r.sound)
    if r.street:
        keys += _street_keys(r.street)
    birth = r.birth_date
    if r.kind == "person":
        # Names together with a place or a birth year. Two keys each, so a typo in the first
        # letters of either word still leaves one shared.
        initial, with_place, with_year = _name_keys(r.name)
        if birth:
            keys.append(f"b{birth}{initial}")
            # One name word that sounds the same, with the birth date: a given name replaced or a
            # family name changed still leaves the other. (With the town instead of the date the
            # blocks of a common family name in a city made a million-card scan three times slower
            # for 0.4 % more true pairs reached on FEBRL.)
            keys += [f"f{sound}|{birth}" for sound in _word_sounds(r.given, r.family)]
        place = r.postal_code or r.city
        if with_place and place:
            keys += [f"{key}|{place}" for key in with_place]
        if with_year and birth:
            year = birth[:4]
            keys += [f"{key}|{year}" for key in with_year]
    elif r.name:
        keys += _organization_keys(r.name)
    return keys


@lru_cache(maxsize=200_000)
def _street_keys(street: str) -> tuple[str, ...]:
    # The street as written, and its number with its longest word: "8 stanley street" and
    # "8 stanley st" meet; a street name without a number ("high street") is too common.
    parts = street.split()
    numbers = [p for p in parts if p[:1].isdigit()]
    names = [p for p in parts if not p[:1].isdigit() and len(p) > 2]
    if numbers and names:
        return "a" + street, f"a{numbers[0]}|{names[0][:5]}"
    return ("a" + street,)


@lru_cache(maxsize=500_000)
def _name_keys(name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(the initial of the first name word in alphabetical order, the name parts of the keys with
    a place, those with a birth year)."""
    words = sorted(name.split())
    if not words:
        return "", (), ()
    a, b = words[0], words[-1]
    return a[:1], (f"c{a[:3]}|{b[:1]}", f"k{a[:1]}|{b[:3]}"), (f"y{a[:3]}|{b[:1]}", f"z{a[:1]}|{b[:3]}")


@lru_cache(maxsize=500_000)
def _word_sounds(given: str, family: str) -> tuple[str, ...]:
    """The sounds of the first given name and the last family name (once if they sound alike)."""
    return tuple(dict.fromkeys(phonetic(w) for w in (given.split()[:1] + family.split()[-1:])))


@lru_cache(maxsize=200_000)
def _organization_keys(name: str) -> tuple[str, ...]:
    words = sorted(name.split())
    if not words:
        return ()
    longest = max(words, key=len)
    return "o" + longest[:6], "q" + "".join(w[:1] for w in name.split())[:8] + words[0][:2]


def sorted_passes(records: Iterable[MatchRecord]) -> list[list[int]]:
    """The record ids in sorted-neighbourhood order (records without a name left out).

    One pass, by the phonetic codes of the name words in alphabetical order of the words
    (a second pass, last word first, reached 0.1 % more true pairs on FEBRL for a million
    more comparisons per million cards).
    """
    named = [(r.sound, r.name, r.id) for r in records if r.sound]
    return [[i for _s, _n, i in sorted(named)]]


# --- scoring --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairScore:
    left: int
    right: int
    score: float
    reasons: tuple[str, ...]


def score_pair(a: MatchRecord, b: MatchRecord, model: Model | None = None) -> PairScore:
    """How likely ``a`` and ``b`` are the same customer, and why (default weights without a model)."""
    model = model or scoring.default_model(a.kind)
    w, reasons = scoring.weigh(a, b, model, free_mail_domains())
    left, right = (a.id, b.id) if a.id < b.id else (b.id, a.id)
    return PairScore(left, right, round(scoring.probability(w), 4), tuple(reasons))


def evidence(a: MatchRecord, b: MatchRecord, model: Model) -> float:
    """The most a pair can weigh: everything but the name, plus the best name weight."""
    return scoring.evidence(a, b, model, model.prior + model.name_best, free_mail_domains())


# --- finding pairs --------------------------------------------------------------------------


@dataclass
class RunStats:
    records: int = 0
    keys: int = 0
    compared: int = 0  # pairs looked at (each once per process; see ``find_pairs``)
    found: int = 0
    large_blocks: int = 0
    names_compared: int = 0  # pairs whose other evidence left the name to decide
    workers: int = 1


@dataclass
class Index:
    """Records filed under their blocking keys; ``candidates_for`` looks one new record up.

    A record is compared as the scan would compare it: with everyone in a small block, and in
    a large one with the ``WINDOW`` records either side of it in name order (each large block
    is sorted once, when a look-up first needs it, and kept sorted as records are added).
    """

    model: Model | None = None
    records: dict[int, MatchRecord] = field(default_factory=dict)
    blocks: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    ordered: dict[str, list[tuple[str, int]]] = field(default_factory=dict, repr=False)

    def add(self, record: MatchRecord) -> None:
        self.records[record.id] = record
        for key in set(blocking_keys(record)):
            self.blocks[key].append(record.id)
            ordered = self.ordered.get(key)
            if ordered is not None:
                bisect.insort(ordered, (record.name, record.id))

    def neighbours(self, key: str, record: MatchRecord) -> list[int]:
        """The ids of block ``key`` that ``record`` is compared with."""
        ids = self.blocks.get(key, [])
        if len(ids) <= SMALL_BLOCK:
            return ids
        ordered = self.ordered.get(key)
        if ordered is None:
            ordered = self.ordered[key] = sorted({(self.records[i].name, i) for i in ids})
        at = bisect.bisect_left(ordered, (record.name, -1))
        return [i for _name, i in ordered[max(0, at - WINDOW) : at + WINDOW]]

    def candidates_for(self, record: MatchRecord, *, threshold: float, limit: int = 10) -> list[PairScore]:
        """Existing records likely to be ``record`` (which need not be in the index), best first."""
        model = self.model or scoring.default_model(record.kind)
        free = free_mail_domains()
        seen: set[int] = set()
        found: list[PairScore] = []
        floor, best = hopeless_below(threshold), model.prior + model.name_best
        for key in set(blocking_keys(record)):
            for other in self.neighbours(key, record):
                if other == record.id or other in seen:
                    continue
                seen.add(other)
                candidate = self.records[other]
                if scoring.evidence(record, candidate, model, best, free) < floor:
                    continue
                pair = score_pair(record, candidate, model)
                if pair.score >= threshold:
                    found.append(pair)
        found.sort(key=lambda p: -p.score)
        return found[:limit]


PARALLEL_MIN_RECORDS = 50_000  # below this, starting processes costs more than it saves


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def candidate_blocks(records: Iterable[MatchRecord], stats: RunStats | None = None) -> tuple[dict[int, MatchRecord], list[list[int]], list[list[int]]]:
    """(records by id, the blocks of records sharing a key, the sorted-neighbourhood passes)."""
    by_id: dict[int, MatchRecord] = {}
    # Most keys belong to one record only: a key's first record is kept as a plain id, and a
    # list is made only when a second record shares the key.
    first: dict[str, int] = {}
    shared: dict[str, list[int]] = {}
    for r in records:
        rid = r.id
        by_id[rid] = r
        for key in blocking_keys(r):
            other = first.setdefault(key, rid)
            if other != rid:
                ids = shared.get(key)
                if ids is None:
                    shared[key] = [other, rid]
                else:
                    ids.append(rid)
    if stats is not None:
        stats.records = len(by_id)
        stats.keys = len(first)
    return by_id, list(shared.values()), sorted_passes(by_id.values())


def find_pairs(
    records: Iterable[MatchRecord], *, threshold: float = DEFAULT_THRESHOLD, stats: RunStats | None = None, workers: int = 1,
    model: Model | None = None,
) -> list[PairScore]:
    """Every pair of records at or above ``threshold``, each pair once, best first.

    The pairs are those the blocking rules bring together (see ``candidate_blocks``), scored
    as ``score_pair`` scores them; records of different kinds are never paired. The work is
    done on arrays (``rapport.dedup.batch``). With ``workers`` > 1 (and enough records, on a
    system that can fork) it is shared between that many processes; the pairs found are the same.
    """
    stats = stats if stats is not None else RunStats()
    by_kind: dict[str, dict[int, MatchRecord]] = {}
    for r in records:
        by_kind.setdefault(r.kind, {})[r.id] = r
    stats.records = sum(len(group) for group in by_kind.values())
    found: list[PairScore] = []
    parts = max(1, min(workers, 8))
    if parts > 1 and (stats.records < PARALLEL_MIN_RECORDS or not can_fork()):
        parts = 1
    stats.workers = parts
    for kind, group in sorted(by_kind.items()):
        ordered = list(group.values())
        pairs = batch.candidate_arrays(ordered)
        stats.keys += pairs.keys
        stats.large_blocks += pairs.large_blocks
        columns = batch.Columns(ordered, model or scoring.default_model(kind), person=kind == "person")
        if parts > 1:
            outcomes = batch.score_in_parallel(columns, pairs.a, pairs.b, threshold, parts)
        else:
            outcomes = [batch.score_pairs(columns, pairs.a, pairs.b, threshold)]
        for outcome in outcomes:
            found.extend(outcome.found)
            stats.compared += outcome.compared
            stats.names_compared += outcome.names_compared
    found.sort(key=lambda p: (-p.score, p.left, p.right))
    stats.found = len(found)
    return found


def candidate_pairs(records: Iterable[MatchRecord]) -> Iterator[tuple[MatchRecord, MatchRecord]]:
    """Every pair the blocking rules bring together, once: what training learns from."""
    by_id, blocks, passes = candidate_blocks(records)
    seen: set[tuple[int, int]] = set()
    for ids, presorted in [(ids, False) for ids in blocks] + [(ids, True) for ids in passes]:
        n = len(ids)
        if presorted:
            reach = SN_WINDOW
        elif n > SMALL_BLOCK:
            ids = sorted(set(ids), key=lambda i: (by_id[i].name, i))
            n, reach = len(ids), WINDOW
        else:
            reach = n
        for i in range(n - 1):
            for j in range(i + 1, min(n, i + 1 + reach)):
                x, y = ids[i], ids[j]
                key = (x, y) if x < y else (y, x)
                if x != y and key not in seen:
                    seen.add(key)
                    yield by_id[key[0]], by_id[key[1]]
