"""The duplicate detection engine: normalised match records, blocking and fuzzy scoring.

Pure Python over plain records, no database: ``services`` builds the records from cards
(or from a row being imported) and stores what the engine finds. The same records feed the
review queue, the command line, the creation-time check and the benchmark.

How a score is made (a Fellegi–Sunter style sum of evidence): each compared field adds
log-odds weight for agreement and subtracts for disagreement, and the total goes through a
logistic curve, so the score reads as "how likely these two are the same customer" (0..1).
Each weight that counted is kept as a reason ("phone", "name~0.93", "birth_date_differs").

Blocking keeps the comparison count near-linear: only records that share a key (a phone, an
e-mail, a tax id, a website, a birth date with an initial, or a name key) are compared. A key
shared by very many records (a switchboard number, a very common name) is not compared
all-against-all: its records are sorted by name and each is compared with its next
``WINDOW`` neighbours (sorted-neighbourhood), so one hot key cannot make the run quadratic.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import token_set_ratio, token_sort_ratio

from rapport.core.text import fold, has_han

DATA = Path(__file__).resolve().parent / "data" / "matching.yaml"

DEFAULT_THRESHOLD = 0.80  # pairs at or above it enter the review queue
SMALL_BLOCK = 40  # blocks up to this size are compared all-against-all
WINDOW = 6  # neighbours compared in larger blocks, after sorting by name
PRIOR = -4.0  # log-odds that two records sharing a key are the same before any evidence

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


@lru_cache(maxsize=1_000_000)
def person_name(given: str, family: str, local: str = "") -> tuple[str, str]:
    """(given, family) folded for comparison; a name in Chinese characters becomes pinyin.

    王小明 → ("xiaoming", "wang"): the first character is the family name, as for nearly
    every Chinese name; the Latin spelling "Xiaoming Wang" or "Wang Xiaoming" then matches.
    """
    if not (given or family) and local:
        if has_han(local):
            chars = "".join(_HAN.findall(local))
            return _pinyin(chars[1:]), _pinyin(chars[:1])
        words = _latin_words(local)
        return " ".join(words[:-1]), words[-1] if words else ""
    g = " ".join(_pinyin(w) if has_han(w) else w for w in _latin_words(given))
    f = " ".join(_pinyin(w) if has_han(w) else w for w in _latin_words(family))
    if has_han(given + family):
        # Pinyin syllables of one name are written together ("xiao ming" = "xiaoming").
        g, f = g.replace(" ", ""), f.replace(" ", "")
    return " ".join(name_token(w) for w in g.split()), f


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
    if kind == "person":
        given, family = person_name(given_name, family_name, local_name)
        if not (given or family) and name:
            words = _latin_words(name)
            given, family = " ".join(name_token(w) for w in words[:-1]), (words[-1] if words else "")
        full = " ".join(p for p in (given, family) if p)
    else:
        given, family = "", ""
        full = organization_name(name or local_name)
    address = address or {}
    postal = address.get("postal_code", "") or ""
    return MatchRecord(
        id=id,
        kind=kind,
        external_id=external_id or "",
        given=given,
        family=family,
        name=full,
        phones=frozenset(k for k in (phone_key(p, region) for p in phones) if k),
        emails=frozenset(k for k in (email_key(e) for e in emails) if k),
        birth_date=(birth_date or "")[:10],
        tax_id=tax_key(tax_id),
        website=website_key(website),
        postal_code=(_DIGITS.sub("", postal) or fold(postal)) if postal else "",
        city=" ".join(_latin_words(address.get("city", "") or "")),
        street=" ".join(_latin_words(address.get("street", "") or "")),
        display=name or " ".join(p for p in (given_name, family_name) if p) or local_name,
    )


def blocking_keys(r: MatchRecord) -> Iterator[str]:
    """The keys a record is filed under; two records are compared only if they share one."""
    for p in r.phones:
        yield "p" + p
    for e in r.emails:
        yield "e" + e
        if r.kind == "organization":
            domain = e.rpartition("@")[2]
            if domain not in free_mail_domains():
                yield "d" + domain
    if r.tax_id:
        yield "t" + r.tax_id
    if r.external_id:
        yield "x" + r.external_id
    if r.website:
        yield "w" + r.website
    words = sorted(r.name.split())
    if r.kind == "person":
        # A name alone never reaches the default threshold (same name: -4 + 3.2), so names are
        # blocked together with a place or a birth year: the only evidence that, added to a
        # similar name, can make a pair without a shared phone, e-mail or birth date. Two
        # keys each, so a typo in the first letters of either word still leaves one shared.
        if r.birth_date:
            yield f"b{r.birth_date}{words[0][:1] if words else ''}"
        if words:
            a, b = words[0], words[-1]
            place = r.postal_code or r.city
            if place:
                yield f"c{a[:3]}|{b[:1]}|{place}"
                yield f"k{a[:1]}|{b[:3]}|{place}"
            if r.birth_date:
                year = r.birth_date[:4]
                yield f"y{a[:3]}|{b[:1]}|{year}"
                yield f"z{a[:1]}|{b[:3]}|{year}"
    else:
        if words:
            longest = max(words, key=len)
            yield "o" + longest[:6]
            yield "q" + "".join(w[:1] for w in r.name.split())[:8] + (words[0][:2] if words else "")


# --- scoring --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairScore:
    left: int
    right: int
    score: float
    reasons: tuple[str, ...]


def _person_name_similarity(a: MatchRecord, b: MatchRecord) -> float:
    if not a.name or not b.name:
        return 0.0
    if a.name == b.name:
        return 1.0
    straight = 0.0
    if a.given and b.given and a.family and b.family:
        straight = 0.5 * (JaroWinkler.normalized_similarity(a.given, b.given) + JaroWinkler.normalized_similarity(a.family, b.family))
        swapped = 0.5 * (JaroWinkler.normalized_similarity(a.given, b.family) + JaroWinkler.normalized_similarity(a.family, b.given))
        straight = max(straight, swapped)
    # Sorted tokens catch swaps, compound names and a given name written into the family field.
    tokens = token_sort_ratio(a.name, b.name) / 100.0
    joined = JaroWinkler.normalized_similarity(a.name.replace(" ", ""), b.name.replace(" ", ""))
    return max(straight, tokens, joined * 0.97)


def _organization_name_similarity(a: MatchRecord, b: MatchRecord) -> float:
    if not a.name or not b.name:
        return 0.0
    if a.name == b.name:
        return 1.0
    sorted_ratio = token_sort_ratio(a.name, b.name) / 100.0
    # A name contained in the other ("Norte" / "Distribuidora Norte") counts a little less.
    set_ratio = token_set_ratio(a.name, b.name) / 100.0 * 0.92
    return max(sorted_ratio, set_ratio)


def _dates_close(a: str, b: str) -> bool:
    """Day and month swapped, or one digit typed wrong: the same birth date, mistyped."""
    if len(a) != 10 or len(b) != 10:
        return False
    ya, ma, da = a[:4], a[5:7], a[8:10]
    yb, mb, db = b[:4], b[5:7], b[8:10]
    if ya == yb and ma == db and da == mb:
        return True
    return sum(x != y for x, y in zip(a, b)) == 1


def score_pair(a: MatchRecord, b: MatchRecord) -> PairScore:
    """How likely ``a`` and ``b`` are the same customer, and why."""
    w = PRIOR
    reasons: list[str] = []
    person = a.kind == "person"
    sim = _person_name_similarity(a, b) if person else _organization_name_similarity(a, b)
    if not a.name or not b.name:
        pass
    elif sim >= 0.97:
        w += 3.2
        reasons.append("same_name")
    elif sim >= 0.90:
        w += 2.4
        reasons.append(f"similar_name:{sim:.2f}")
    elif sim >= 0.84:
        w += 1.0
        reasons.append(f"similar_name:{sim:.2f}")
    elif sim >= 0.75:
        w -= 1.5
    else:
        w -= 5.0
        reasons.append("different_name")
    if a.phones and b.phones:
        if a.phones & b.phones:
            w += 4.5
            reasons.append("same_phone")
        else:
            w -= 0.8
    if a.emails and b.emails:
        if a.emails & b.emails:
            w += 5.5
            reasons.append("same_email")
        else:
            w -= 0.8
    if a.external_id and a.external_id == b.external_id:
        # The same id in the system both came from (an import run twice, a CRM export).
        w += 8.0
        reasons.append("same_external_id")
    if a.tax_id and b.tax_id:
        if a.tax_id == b.tax_id:
            w += 7.0
            reasons.append("same_tax_id")
        else:
            w -= 7.0
            reasons.append("tax_id_differs")
    if a.birth_date and b.birth_date:
        if a.birth_date == b.birth_date:
            w += 3.5
            reasons.append("same_birth_date")
        elif _dates_close(a.birth_date, b.birth_date):
            w += 1.0
            reasons.append("birth_date_close")
        else:
            w -= 5.0
            reasons.append("birth_date_differs")
    if not person and a.website and b.website:
        if a.website == b.website:
            w += 4.0
            reasons.append("same_website")
        else:
            w -= 1.0
    if not person and a.emails and b.emails and not (a.emails & b.emails):
        da = {e.rpartition("@")[2] for e in a.emails} - free_mail_domains()
        db = {e.rpartition("@")[2] for e in b.emails} - free_mail_domains()
        if da & db:
            w += 3.0
            reasons.append("same_email_domain")
    if a.street and b.street and (a.postal_code == b.postal_code or a.city == b.city):
        if JaroWinkler.normalized_similarity(a.street, b.street) >= 0.9:
            w += 2.0
            reasons.append("same_address")
    elif a.city and b.city and a.city != b.city and a.postal_code != b.postal_code:
        w -= 0.5
    score = 1.0 / (1.0 + math.exp(-w))
    left, right = (a.id, b.id) if a.id < b.id else (b.id, a.id)
    return PairScore(left, right, round(score, 4), tuple(reasons))


# --- finding pairs --------------------------------------------------------------------------


@dataclass
class RunStats:
    records: int = 0
    keys: int = 0
    compared: int = 0
    found: int = 0
    large_blocks: int = 0


@dataclass
class Index:
    """Records filed under their blocking keys; ``candidates_for`` looks one new record up."""

    records: dict[int, MatchRecord] = field(default_factory=dict)
    blocks: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, record: MatchRecord) -> None:
        self.records[record.id] = record
        for key in set(blocking_keys(record)):
            self.blocks[key].append(record.id)

    def candidates_for(self, record: MatchRecord, *, threshold: float, limit: int = 10) -> list[PairScore]:
        """Existing records likely to be ``record`` (which need not be in the index), best first."""
        seen: set[int] = set()
        found: list[PairScore] = []
        for key in set(blocking_keys(record)):
            ids = self.blocks.get(key, ())
            if len(ids) > 2000:
                continue  # a key shared by thousands says nothing about this record
            for other in ids:
                if other == record.id or other in seen:
                    continue
                seen.add(other)
                pair = score_pair(record, self.records[other])
                if pair.score >= threshold:
                    found.append(pair)
        found.sort(key=lambda p: -p.score)
        return found[:limit]


def find_pairs(records: Iterable[MatchRecord], *, threshold: float = DEFAULT_THRESHOLD, stats: RunStats | None = None) -> list[PairScore]:
    """Every pair of records at or above ``threshold``, each pair once, best first."""
    stats = stats if stats is not None else RunStats()
    by_id: dict[int, MatchRecord] = {}
    blocks: dict[str, list[int]] = defaultdict(list)
    for r in records:
        by_id[r.id] = r
        for key in blocking_keys(r):
            blocks[key].append(r.id)
    stats.records = len(by_id)
    stats.keys = len(blocks)
    seen: set[int] = set()
    found: list[PairScore] = []
    shift = 1 << 32
    for ids in blocks.values():
        n = len(ids)
        if n < 2:
            continue
        if n <= SMALL_BLOCK:
            pairs: Iterator[tuple[int, int]] = ((ids[i], ids[j]) for i in range(n) for j in range(i + 1, n))
        else:
            stats.large_blocks += 1
            ordered = sorted(set(ids), key=lambda i: by_id[i].name)
            pairs = ((ordered[i], ordered[j]) for i in range(len(ordered)) for j in range(i + 1, min(i + 1 + WINDOW, len(ordered))))
        for x, y in pairs:
            code = x * shift + y if x < y else y * shift + x
            if code in seen:
                continue
            seen.add(code)
            stats.compared += 1
            pair = score_pair(by_id[x], by_id[y])
            if pair.score >= threshold:
                found.append(pair)
    found.sort(key=lambda p: (-p.score, p.left, p.right))
    stats.found = len(found)
    return found
