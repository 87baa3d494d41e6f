"""Scoring a pair of match records with Fellegi–Sunter weights: the comparison levels and the model.

Each field of two records is compared into one *level* ("same", "similar", "different"…; a
field missing on either side says nothing). A level carries a weight, the natural log of
m / u: how much more often two records of one customer land on that level (m) than two
records of different customers (u). The score is the logistic of the prior plus every
weight, so it reads as the probability that the two records are the same customer.

The weights come from a :class:`Model`: the default one below (set by hand, used until a
model is trained) or one estimated from the user's own cards by ``rapport.dedup.training``
(expectation-maximisation) and stored in the database. A trained model also holds
term-frequency weights: two cards sharing a common name, street or postcode ("Smith",
"Main Street", a city's centre) are less alike than two sharing a rare one.

Every weight that counted is kept as a reason ("same_name", "similar_name:0.93",
"same_address"), so a score can always be explained.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import Hamming, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio, token_sort_ratio

DEFAULT_THRESHOLD = 0.80  # pairs at or above it enter the review queue
NULL = -1  # a field missing on either side: no level, no weight

# The fields compared and their levels, best first. The order of FIELDS is the order of reasons.
LEVELS: dict[str, tuple[str, ...]] = {
    "name": ("same", "very_similar", "similar", "somewhat_similar", "different"),
    "birth_date": ("same", "close", "different"),
    "phone": ("same", "same_local", "different"),  # same_local: the same number, one without area code
    "email": ("same", "different"),
    "email_domain": ("same", "different"),  # organisations: a company domain (free mail ignored)
    "tax_id": ("same", "different"),
    "website": ("same", "different"),
    "external_id": ("same",),  # the same id in the system both came from; a different one says nothing
    "street": ("same", "similar", "different"),
    "place": ("same_postal_code", "same_city", "different"),
}
FIELDS = tuple(LEVELS)
OTHER_FIELDS = FIELDS[1:]  # everything but the name: cheap to compare
NAME_CUTS = (0.97, 0.92, 0.85, 0.75)  # name similarity at or above: same, very similar, similar, somewhat
STREET_CUTS = (0.95, 0.85)
TF_FIELDS = ("name", "street", "place")  # fields whose best level is weighed by how common the value is

# Reason code for a level, when its weight counted (|weight| ≥ REASON_MIN). "{sim}" is the similarity.
REASONS: dict[tuple[str, int], str] = {
    ("name", 0): "same_name",
    ("name", 1): "similar_name:{sim}",
    ("name", 2): "similar_name:{sim}",
    ("name", 3): "similar_name:{sim}",
    ("name", 4): "different_name",
    ("birth_date", 0): "same_birth_date",
    ("birth_date", 1): "birth_date_close",
    ("birth_date", 2): "birth_date_differs",
    ("phone", 0): "same_phone",
    ("phone", 1): "same_phone_without_area_code",
    ("phone", 2): "phone_differs",
    ("email", 0): "same_email",
    ("email", 1): "email_differs",
    ("email_domain", 0): "same_email_domain",
    ("tax_id", 0): "same_tax_id",
    ("tax_id", 1): "tax_id_differs",
    ("website", 0): "same_website",
    ("website", 1): "website_differs",
    ("external_id", 0): "same_external_id",
    ("street", 0): "same_address",
    ("street", 1): "similar_address:{sim}",
    ("street", 2): "address_differs",
    ("place", 0): "same_postal_code",
    ("place", 1): "same_city",
    ("place", 2): "different_place",
}
REASON_MIN = 0.7  # weights smaller than this (either sign) are not worth a reason
WEIGHT_RANGE = (-12.0, 14.0)  # no single field decides more than this, whatever the data


# The hand-set weights used until a model is trained (prior: two records sharing a blocking key).
DEFAULT_WEIGHTS: dict[str, tuple[float, ...]] = {
    "name": (3.2, 2.4, 1.0, -1.5, -5.0),
    "birth_date": (3.5, 1.0, -5.0),
    "phone": (4.5, 3.5, -0.8),
    "email": (5.5, -0.8),
    "email_domain": (3.0, 0.0),
    "tax_id": (7.0, -7.0),
    "website": (4.0, -1.0),
    "external_id": (8.0,),
    "street": (2.0, 1.0, -0.3),
    "place": (0.5, 0.3, -0.5),
}
DEFAULT_PRIOR = -4.0


@dataclass
class Model:
    """The weights a scan scores with: a prior and one weight per field level, plus term frequencies.

    ``tf[field][tf_key(value)]`` replaces the weight of the field's best level when both records hold
    that (common) value. ``about`` says where the weights came from (counts, iterations…).
    """

    kind: str
    prior: float = DEFAULT_PRIOR
    weights: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    about: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Plain attributes for the scoring loop, read millions of times.
        w = self.weights
        self.w_name, self.w_birth, self.w_phone, self.w_email = w["name"], w["birth_date"], w["phone"], w["email"]
        self.w_domain, self.w_tax, self.w_web, self.w_ext = w["email_domain"], w["tax_id"], w["website"], w["external_id"]
        self.w_street, self.w_place = w["street"], w["place"]
        self.tf_name = self.tf.get("name", {})
        self.tf_street = self.tf.get("street", {})
        self.tf_place = self.tf.get("place", {})
        self.name_best = max(self.w_name)  # the most a name can add: the bound that lets a scan skip hopeless pairs

    @property
    def trained(self) -> bool:
        return bool(self.about.get("trained"))

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "prior": self.prior, "weights": {k: list(v) for k, v in self.weights.items()},
            "tf": self.tf, "about": self.about,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Model":
        weights = dict(DEFAULT_WEIGHTS)
        for name, values in (data.get("weights") or {}).items():
            if name in LEVELS and isinstance(values, list) and len(values) == len(LEVELS[name]):
                weights[name] = tuple(float(v) for v in values)
        tf = {
            f: {str(k): float(v) for k, v in (data.get("tf") or {}).get(f, {}).items()}
            for f in TF_FIELDS if isinstance((data.get("tf") or {}).get(f), dict)
        }
        return cls(kind=str(data.get("kind") or ""), prior=float(data.get("prior", DEFAULT_PRIOR)), weights=weights, tf=tf,
                   about=dict(data.get("about") or {}))


def default_model(kind: str) -> Model:
    return Model(kind=kind)


# --- comparing one field ----------------------------------------------------------------------


def person_name_similarity(a: Any, b: Any) -> float:
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


def organization_name_similarity(a: Any, b: Any) -> float:
    if not a.name or not b.name:
        return 0.0
    if a.name == b.name:
        return 1.0
    sorted_ratio = token_sort_ratio(a.name, b.name) / 100.0
    # A name contained in the other ("Norte" / "Distribuidora Norte") counts a little less.
    set_ratio = token_set_ratio(a.name, b.name) / 100.0 * 0.92
    return max(sorted_ratio, set_ratio)


@lru_cache(maxsize=200_000)
def _words_meet(x: str, y: str) -> bool:
    """Some word of ``x`` is some word of ``y``, mistyped, shortened or as an initial."""
    for u in x.split():
        for v in y.split():
            if u[:1] == v[:1] and (u.startswith(v) or v.startswith(u)) or JaroWinkler.normalized_similarity(u, v) >= 0.8:
                return True
    return False


def given_names_clash(a: Any, b: Any) -> bool:
    """Two people whose given names have nothing in common (Lance and Rachel Torres): relatives, not one person.

    Same family, same home, same phone make household members look alike on every other
    field, so the name must say they differ. The given name may be in the family field of
    the other card (swapped) or be an initial.
    """
    if not (a.given and b.given and a.family and b.family):
        return False
    return not (_words_meet(a.given, b.given) or _words_meet(a.given, b.family) or _words_meet(a.family, b.given))


def name_level(a: Any, b: Any) -> tuple[int, float]:
    """(level, similarity) of the two names; NULL when either has none."""
    if not a.name or not b.name:
        return NULL, 0.0
    sim = person_name_similarity(a, b) if a.kind == "person" else organization_name_similarity(a, b)
    if a.kind == "person" and sim < NAME_CUTS[0] and given_names_clash(a, b):
        return 4, sim
    for level, cut in enumerate(NAME_CUTS):
        if sim >= cut:
            return level, sim
    return 4, sim


def dates_close(a: str, b: str) -> bool:
    """Day and month swapped, or one digit typed wrong: the same birth date, mistyped."""
    if len(a) != 10 or len(b) != 10:
        return False
    if a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return True
    return Hamming.distance(a, b) == 1


def street_level(a: str, b: str) -> tuple[int, float]:
    if not a or not b:
        return NULL, 0.0
    if a == b:
        return 0, 1.0
    na, nb = _house_number(a), _house_number(b)
    if na and nb and na != nb:
        return 2, 0.0  # "18 e 54th st" and "182 w 58th st": two buildings, however alike the rest
    sim = max(JaroWinkler.normalized_similarity(a, b), token_sort_ratio(a, b) / 100.0)
    return (0 if sim >= STREET_CUTS[0] else 1 if sim >= STREET_CUTS[1] else 2), sim


@lru_cache(maxsize=200_000)
def tf_key(value: str) -> str:
    """How a common value is kept in a stored model: a short hash, never the name or street itself."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()


@lru_cache(maxsize=200_000)
def _house_number(street: str) -> str:
    for word in street.split():
        if word[:1].isdigit():
            return word
    return ""


def other_levels(a: Any, b: Any, free_domains: frozenset[str]) -> tuple[int, ...]:
    """The level of every field but the name (in OTHER_FIELDS order), NULL where not comparable."""
    if a.phones and b.phones:
        phone = 2
        if not a.phones.isdisjoint(b.phones):
            phone = 0
        elif not a.phone_tails.isdisjoint(b.phone_tails):
            phone = 1
    else:
        phone = NULL
    if a.emails and b.emails:
        email = 1 if a.emails.isdisjoint(b.emails) else 0
    else:
        email = NULL
    domain = NULL
    if a.kind != "person" and a.emails and b.emails:
        da = {e.rpartition("@")[2] for e in a.emails} - free_domains
        db = {e.rpartition("@")[2] for e in b.emails} - free_domains
        if da and db:
            domain = 1 if da.isdisjoint(db) else 0
    if a.birth_date and b.birth_date:
        birth = 0 if a.birth_date == b.birth_date else 1 if dates_close(a.birth_date, b.birth_date) else 2
    else:
        birth = NULL
    tax = (0 if a.tax_id == b.tax_id else 1) if a.tax_id and b.tax_id else NULL
    web = (0 if a.website == b.website else 1) if a.kind != "person" and a.website and b.website else NULL
    ext = 0 if a.external_id and a.external_id == b.external_id else NULL
    street = street_level(a.street, b.street)[0]
    if a.postal_code and b.postal_code and a.postal_code == b.postal_code:
        place = 0
    elif a.city and b.city and a.city == b.city:
        place = 1
    elif (a.postal_code and b.postal_code) or (a.city and b.city):
        place = 2
    else:
        place = NULL
    return (birth, phone, email, domain, tax, web, ext, street, place)


def vector(a: Any, b: Any, free_domains: frozenset[str]) -> tuple[int, ...]:
    """Every field's level, in FIELDS order: what training counts."""
    return (name_level(a, b)[0], *other_levels(a, b, free_domains))


# --- weighing ---------------------------------------------------------------------------------


def evidence(a: Any, b: Any, m: Model, w: float, free_domains: frozenset[str]) -> float:
    """``w`` plus the weight of every field but the name (the name is the expensive part)."""
    birth, phone, email, domain, tax, web, ext, street, place = other_levels(a, b, free_domains)
    if birth >= 0:
        w += m.w_birth[birth]
    if phone >= 0:
        w += m.w_phone[phone]
    if email >= 0:
        w += m.w_email[email]
    if domain >= 0:
        w += m.w_domain[domain]
    if tax >= 0:
        w += m.w_tax[tax]
    if web >= 0:
        w += m.w_web[web]
    if ext >= 0:
        w += m.w_ext[ext]
    if street >= 0:
        w += m.w_street[street]
        if street == 0 and m.tf_street and a.street == b.street:
            w += m.tf_street.get(tf_key(a.street), m.w_street[0]) - m.w_street[0]
    if place >= 0:
        w += m.w_place[place]
        if place < 2 and m.tf_place:
            value = "p:" + a.postal_code if place == 0 else "c:" + a.city
            w += m.tf_place.get(tf_key(value), m.w_place[place]) - m.w_place[place]
    return w


def weigh(a: Any, b: Any, m: Model, free_domains: frozenset[str]) -> tuple[float, list[str]]:
    """The total weight of evidence of a pair (prior included) and the reasons that made it."""
    reasons: list[str] = []
    contributions: list[tuple[str, int, float, float]] = []
    level, sim = name_level(a, b)
    if level >= 0:
        weight = m.w_name[level]
        if level == 0 and a.name == b.name and m.tf_name:
            weight = m.tf_name.get(tf_key(a.name), weight)
        contributions.append(("name", level, weight, sim))
    levels = other_levels(a, b, free_domains)
    for name, level in zip(OTHER_FIELDS, levels):
        if level < 0:
            continue
        weight = m.weights[name][level]
        sim = 1.0
        if name == "street":
            sim = street_level(a.street, b.street)[1]
            if level == 0 and a.street == b.street and m.tf_street:
                weight = m.tf_street.get(tf_key(a.street), weight)
        elif name == "place" and level < 2 and m.tf_place:
            weight = m.tf_place.get(tf_key("p:" + a.postal_code if level == 0 else "c:" + a.city), weight)
        contributions.append((name, level, weight, sim))
    w = m.prior
    for name, level, weight, sim in contributions:
        w += weight
        code = REASONS.get((name, level))
        if level == 0 and sim < 1.0 and name in ("name", "street"):
            code = REASONS[(name, 1)]  # nearly the same, not the same: say how alike
        if code and abs(weight) >= REASON_MIN:
            reasons.append(code.replace("{sim}", f"{math.floor(sim * 100) / 100:.2f}"))
    return w, reasons


def probability(w: float) -> float:
    if w < -50:
        return 0.0
    return 1.0 / (1.0 + math.exp(-w))


def hopeless_below(threshold: float) -> float:
    """A weight of evidence below which a pair cannot score ``threshold``, even after rounding.

    Scores are rounded to 4 decimals, so a pair just under the threshold may round up to it:
    the bound stays 0.0001 below the threshold to keep every such pair.
    """
    floor = threshold - 0.0001
    if floor <= 0:
        return -math.inf
    return math.log(floor / (1.0 - floor)) - 1e-9


def clamp(weight: float) -> float:
    low, high = WEIGHT_RANGE
    return max(low, min(high, weight))
