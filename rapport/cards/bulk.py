"""Loading many cards at once (imports, migrations from another CRM, benchmarks).

Each row is validated exactly as ``create_organization`` / ``create_person`` and ``add_fact``
validate it (the same parsing functions and helpers), and the result is the same: cards,
phones, e-mails, addresses, the "created" stage change, employments, facts, current values,
the denormalised ``Card.profile`` and the search index. What differs is the writing: one
multi-row statement per table and batch instead of a dozen statements per card.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db import connection, transaction
from django.utils import timezone
from email_validator import SPECIAL_USE_DOMAIN_NAMES

from rapport.accounts.models import User
from rapport.cards.models import (
    Address,
    Card,
    CurrentValue,
    Email,
    Employment,
    Fact,
    Kind,
    Phone,
    PhoneKind,
    SizeBand,
    Stage,
    StageChange,
    Tier,
)
from rapport.cards.services import (
    ContactPoints,
    Errors,
    _common_fields,
    _contact_points,
    _resolve_owner_and_team,
    completeness_percent,
    person_display_name,
)
from rapport.cards.values import (
    parse_observed_at,
    clean_text,
    parse_email,
    parse_item_value,
    parse_phone,
    parse_url,
)
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, InformationSource, ItemType, Sensitivity
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.text import fold
from rapport.privacy import crypto
from rapport.privacy.legal import clean_legal_basis
from rapport.privacy.models import LegalBasis, Purpose
from rapport.core.visibility import scope_for, visible_to
from rapport.search.models import Term, Variant
from rapport.search.services import CONTACT_WEIGHT, card_terms, typo_variants

# Fast paths. Each accepts only input the general function would accept and returns exactly
# what it would return; anything else takes the general function (and its error messages).
# rapport/cards/tests/test_bulk.py checks each against the function it stands in for.
_TIERS = frozenset(Tier.values)
_STAGES = frozenset(Stage.values)
_SIZES = frozenset(SizeBand.values)
_PHONE_KINDS = frozenset(PhoneKind.values)
_CACHE_LIMIT = 200_000  # entries per memo table; a load of random values must not grow without bound

ErrorHandler = Callable[[int, ValidationError], None]
CreatedHandler = Callable[[list[tuple[int, int]]], None]  # [(row index, new card id)], inside the batch's transaction

FACT_FIELDS = {"item", "value", "source", "confidence", "observed_at", "note", "verified", "legal_basis"}
_QUICK_FACT_FIELDS = {"item", "value", "source", "confidence", "observed_at", "note"}


class BulkError(ValidationError):
    """A bad row: ``errors`` are keyed ``rows[i].field``; ``created`` rows of earlier batches were saved."""

    def __init__(self, row: int, errors: dict[str, list[str]], created: int = 0) -> None:
        super().__init__({f"rows[{row}].{name}": messages for name, messages in errors.items()})
        self.row = row
        self.created = created


@dataclass(slots=True)
class _FactIn:
    item: InformationItem
    value: Any
    value_json: str
    value_text: str
    source: InformationSource
    observed_at: dt.datetime
    confidence: int
    verified: bool
    note: str
    basis: Any = None  # the LegalBasisIn of a special-category fact

    def __reduce__(self) -> tuple[Any, ...]:
        # Catalog entries travel as their keys (to the importer's main process): pickling the
        # model instances of every fact would cost more than validating the fact again.
        return (_fact_in, (self.item.key, self.source.key, self.value, self.value_json, self.value_text,
                           self.observed_at, self.confidence, self.verified, self.note, self.basis))


@dataclass(slots=True)
class _RowIn:
    """One validated row, ready to be written once ids are known."""

    index: int
    kind: str
    display_name: str
    given_name: str
    family_name: str
    local_name: str
    fields: dict[str, Any]
    phones: list[tuple[str, str, str, str]]
    emails: list[tuple[str, str]]
    addresses: list[dict[str, str]]
    owner_id: int
    team_id: int | None
    terms: dict[str, int]
    sort_name: str = ""
    facts: list[_FactIn] = field(default_factory=list)
    organization_id: int | None = None
    title: str = ""
    person_refs: list[int] = field(default_factory=list)

    def __reduce__(self) -> tuple[Any, ...]:
        # As a plain tuple of its fields: a slotted dataclass's own state is rebuilt field by
        # field in Python, three times slower to unpickle (the importer's worker sends these).
        return (_RowIn, tuple(getattr(self, name) for name in self.__slots__))


@dataclass(slots=True)
class Checked:
    """A row ``Loader.check`` validated ahead of ``bulk_create_cards`` (perhaps in another process)."""

    row: dict[str, Any]
    prepared: _RowIn
    facts: int  # how many of the row's facts were validated; later ones are checked when it is loaded

    def __reduce__(self) -> tuple[Any, ...]:
        return (Checked, (self.row, self.prepared, self.facts))

    def extend(self, facts: list[_FactIn]) -> None:
        """Adds facts ``Loader.check_more`` accepted, appended to the row's facts in that order."""
        self.prepared.facts.extend(facts)
        self.prepared.person_refs.extend(f.value for f in facts if f.item.type == ItemType.PERSON)
        self.facts += len(facts)


def _fact_in(item_key: str, source_key: str, value: Any, value_json: str, value_text: str, *rest: Any) -> _FactIn:
    return _FactIn(catalog.items()[item_key], value, value_json, value_text, catalog.sources()[source_key], *rest)


_EMAIL = re.compile(
    r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})\Z"
)


def fast_email(raw: Any) -> str | None:
    """``parse_email`` for plain ASCII addresses (nearly all of them) in a tenth of the time.

    email-validator spends most of its time on Unicode and IDNA rules that a plain
    ``local@domain.tld`` never needs. For such an address its normalised form is the local
    part as typed and the domain lower-cased; anything unusual returns None and goes to
    ``parse_email``.
    """
    if type(raw) is not str or len(raw) > 254:
        return None
    value = raw.strip()
    match = _EMAIL.match(value)
    if match is None or match.start(1) > 65:  # local part of at most 64 characters
        return None
    domain = match.group(1).lower()
    if "--" in domain or len(domain) > 253:
        return None
    for special in SPECIAL_USE_DOMAIN_NAMES:
        if domain == special or domain.endswith("." + special):
            return None
    return value[: match.start(1)] + domain


def _plain_text(value: Any, limit: int) -> str | None:
    """``clean_text`` for an ordinary string; None sends anything else to ``clean_text``."""
    if value is None:
        return ""
    if type(value) is str:
        value = value.strip()
        if len(value) <= limit and "\x00" not in value:
            return value
    return None


def _simple_fields(errors: Errors, row: dict[str, Any]) -> dict[str, Any] | None:
    """``services._common_fields`` for rows without social pages and with valid choices."""
    social = row.get("social")
    if social not in (None, "") and social != []:
        return None
    industry = _plain_text(row.get("industry"), 120)
    external_id = _plain_text(row.get("external_id"), 200)
    tier, size_band = row.get("tier"), row.get("size_band")
    stage = row.get("lifecycle_stage") or Stage.SUSPECT
    if industry is None or external_id is None:
        return None
    if tier in (None, ""):
        tier = ""
    elif type(tier) is not str or tier not in _TIERS:
        return None
    if size_band in (None, ""):
        size_band = ""
    elif type(size_band) is not str or size_band not in _SIZES:
        return None
    if not isinstance(stage, str) or stage not in _STAGES:
        return None
    website = row.get("website")
    return {
        "website": errors.run(parse_url, "website", website) or "" if website not in (None, "") else "",
        "industry": industry,
        "size_band": size_band,
        "tier": tier,
        "lifecycle_stage": stage,
        "external_id": external_id,
        "social": [],
    }


def _simple_points(errors: Errors, row: dict[str, Any]) -> ContactPoints | None:
    """``services._contact_points`` for phones and e-mails given as strings (or phones as
    ``{"number", "kind"}``) and no addresses; e-mails take ``fast_email`` when they can."""
    phones, emails, addresses = row.get("phones"), row.get("emails"), row.get("addresses")
    if addresses not in (None, []):
        return None
    for values in (phones, emails):
        if values is not None and (type(values) is not list or len(values) > 20):
            return None
    region = row.get("region")
    entries: list[tuple[Any, Any, str]] = []
    for entry in phones or ():
        if type(entry) is str:
            entries.append((entry, region, PhoneKind.MOBILE))
        elif type(entry) is dict and entry.keys() <= {"number", "kind", "region"}:
            kind = entry.get("kind") or "mobile"
            if type(kind) is not str or kind not in _PHONE_KINDS:
                return None
            entries.append((entry.get("number"), entry.get("region") or region, kind))
        else:
            return None
    if any(type(entry) is not str for entry in emails or ()):
        return None
    points = ContactPoints()
    for i, (raw, entry_region, kind) in enumerate(entries):
        parsed = errors.run(parse_phone, f"phones[{i}]", raw, entry_region)
        if parsed:
            points.phones.append((parsed[0], str(raw).strip(), parsed[1], kind))
    for i, raw in enumerate(emails or ()):
        address = fast_email(raw) or errors.run(parse_email, f"emails[{i}]", raw)
        if address:
            points.emails.append((address, "work"))
    return points


class _JsonStrings(dict[str, str]):
    """JSON text of item and source keys, computed once each."""

    def __missing__(self, key: str) -> str:
        value = self[key] = json.dumps(key)
        return value


class Loader:
    """Caches of one load (one call, or all the calls of one import): catalog lookups, owner/team
    decisions and parsed dates repeat across rows."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.scope = scope_for(user)
        self.items = catalog.items()
        self.sources = catalog.sources()
        self.now = timezone.now()
        self._owner_team: dict[Any, tuple[int, int | None, dict[str, list[str]]]] = {}
        self._allowed: dict[tuple[int, int | None], frozenset[str]] = {}
        self._observed: dict[Any, tuple[dt.datetime | None, dict[str, list[str]]]] = {}
        self._required: dict[tuple[str, str], list[InformationItem]] = {}
        self._values: dict[tuple[Any, ...], tuple[Any, str, str]] = {}
        self.moments: dict[dt.datetime, tuple[Any, str]] = {}  # observed_at -> (database value, JSON of isoformat)
        self.keys_json = _JsonStrings()
        self._name_terms: dict[str, dict[str, int]] = {}
        self.known_words: set[str] = set()

    # --- validation ---------------------------------------------------------------------------

    def prepare(self, index: int, row: Any) -> _RowIn:
        if not isinstance(row, dict):
            raise BulkError(index, {"__all__": ["Expected an object."]})
        errors = Errors()
        prepared = self._core(errors, index, row)
        self._links(errors, prepared, row, first_fact=0)
        if errors.errors:
            raise BulkError(index, errors.errors)
        self._finish(prepared)
        return prepared

    def check(self, row: dict[str, Any]) -> Checked | None:
        """Validates a row ahead of ``bulk_create_cards`` without touching the database, or
        None when the row has a problem (``prepare`` then names it, in the loading call).

        Safe in a worker process: every lookup that could query (owner and team, clearances,
        the catalog) was answered in the parent first; see ``warm``. The row's employer and any
        fact added to it later are checked by ``complete``, in the loading call.
        """
        try:
            prepared = self.prepare(0, row)
        except BulkError:
            return None
        facts = row.get("facts")
        return Checked(row, prepared, len(facts) if type(facts) is list else 0)

    def check_more(self, checked: Checked, facts: list[Any]) -> list[_FactIn] | None:
        """Validates facts to be appended to a checked row (see ``Checked.extend``), or None
        when one has a problem (then they are validated, and named, when the row is loaded)."""
        prepared = checked.prepared
        errors = Errors()
        found = []
        for i, raw in enumerate(facts, start=checked.facts):
            fact = self._fact(errors, f"facts[{i}]", prepared.kind, prepared.owner_id, prepared.team_id, raw)
            if fact is None or errors.errors:
                return None
            found.append(fact)
        return found

    def warm(self) -> None:
        """Answers, once, the lookups ``check`` needs that could query the database (the
        importer's rows name no owner or team: the user's own, and what they may see there)."""
        owner_id, team_id = self._owner_and_team(Errors(), None, None)
        self._allowed_on(owner_id, team_id)

    def complete(self, index: int, checked: Checked) -> _RowIn:
        """The ``prepare`` of a row ``check`` accepted: only its employer and the facts added
        since are validated here. Any problem sends the whole row through ``prepare``, so the
        errors are exactly the ones it names."""
        row, prepared = checked.row, checked.prepared
        errors = Errors()
        self._links(errors, prepared, row, first_fact=checked.facts)
        if errors.errors:
            return self.prepare(index, row)
        prepared.index = index
        return prepared

    def _core(self, errors: Errors, index: int, row: dict[str, Any]) -> _RowIn:
        """Names, core fields, contact points, owner and team."""
        kind = row.get("kind") or (Kind.ORGANIZATION if "name" in row else Kind.PERSON)
        if kind not in Kind.values:
            errors.add("kind", f"{kind!r} is not one of: {', '.join(Kind.values)}.")
            kind = Kind.PERSON
        given = family = local = ""
        if kind == Kind.ORGANIZATION:
            display = errors.run(clean_text, "name", row.get("name"), required=True, max_length=300) or ""
        else:
            given = errors.run(clean_text, "given_name", row.get("given_name"), max_length=150) or ""
            family = errors.run(clean_text, "family_name", row.get("family_name"), max_length=150) or ""
            local = errors.run(clean_text, "local_name", row.get("local_name"), max_length=150) or ""
            if not (given or family or local) and "given_name" not in errors.errors:
                errors.add("given_name", "A person needs a given name, a family name or a local-script name.")
            display = person_display_name(given, family, local)[:300]
        fields = _simple_fields(errors, row) or _common_fields(errors, row)
        points = _simple_points(errors, row) or _contact_points(
            errors, row.get("phones"), row.get("emails"), row.get("addresses"), row.get("region")
        )
        owner_id, team_id = self._owner_and_team(errors, row.get("owner"), row.get("team"))
        return _RowIn(
            index=index, kind=kind, display_name=display, given_name=given, family_name=family, local_name=local,
            fields=fields, phones=points.phones, emails=points.emails, addresses=points.addresses,
            owner_id=owner_id, team_id=team_id, terms={},
        )

    def _links(self, errors: Errors, prepared: _RowIn, row: dict[str, Any], *, first_fact: int) -> None:
        """The employer and the facts from ``first_fact`` on."""
        if prepared.kind == Kind.PERSON and row.get("organization") not in (None, ""):
            org = row["organization"]
            if isinstance(org, bool) or not str(org).isdigit():
                errors.add("organization", "Expected a card id.")
            else:
                prepared.organization_id = int(org)
                prepared.title = errors.run(clean_text, "title", row.get("title"), max_length=200) or ""
        facts = row.get("facts")
        if facts not in (None, []):
            if not isinstance(facts, list):
                errors.add("facts", "Expected a list of facts.")
            else:
                for i in range(first_fact, len(facts)):
                    fact = self._fact(errors, f"facts[{i}]", prepared.kind, prepared.owner_id, prepared.team_id, facts[i])
                    if fact is not None:
                        prepared.facts.append(fact)
                        if fact.item.type == ItemType.PERSON:
                            prepared.person_refs.append(fact.value)

    def _finish(self, prepared: _RowIn) -> None:
        prepared.terms = self._terms(prepared)
        prepared.sort_name = fold(prepared.display_name)[:300]

    def _owner_and_team(self, errors: Errors, owner: Any, team: Any) -> tuple[int, int | None]:
        # The same rules as one-by-one creation, decided once per distinct (owner, team) pair.
        # Keyed with the types too: the rules tell 5 from "5" (only the user's own id is free).
        key: tuple[Any, ...] | None = (type(owner), owner, type(team), team)
        cached: tuple[int, int | None, dict[str, list[str]]] | None
        try:
            cached = self._owner_team.get(key)
        except TypeError:  # an unhashable value (list, dict): decide without caching
            key, cached = None, None
        if cached is None:
            probe = Errors()
            owner_user, team_obj = _resolve_owner_and_team(probe, self.user, owner, team)
            cached = (owner_user.id, team_obj.id if team_obj else None, probe.errors)
            if key is not None:
                self._owner_team[key] = cached
        for name, messages in cached[2].items():
            for message in messages:
                errors.add(name, message)
        return cached[0], cached[1]

    def _fact(self, errors: Errors, where: str, kind: str, owner_id: int, team_id: int | None, raw: Any) -> _FactIn | None:
        quick = self._quick_fact(kind, owner_id, team_id, raw)
        if quick is not None:
            return quick
        if not isinstance(raw, dict):
            errors.add(where, "Expected a fact object.")
            return None
        unknown = set(raw) - FACT_FIELDS
        if unknown:
            errors.add(where, f"Unknown fields: {', '.join(sorted(map(str, unknown)))}.")
        local = Errors()
        item_key, source_key = raw.get("item"), raw.get("source")
        item = self.items.get(item_key) if isinstance(item_key, str) else None
        if item is None:
            local.add("item", f"Unknown catalog item {item_key!r}.")
        elif item.applies_to not in ("any", kind):
            local.add("item", f"{item.key!r} does not apply to a {kind}.")
        elif item.sensitivity not in self._allowed_on(owner_id, team_id):
            # Above the user's clearance: answered as if the item did not exist, like add_fact.
            local.add("item", f"Unknown catalog item {item.key!r}.")
            item = None
        source = self.sources.get(source_key) if isinstance(source_key, str) else None
        if source is None:
            local.add("source", f"Unknown information source {source_key!r}.")
        parsed = local.run(parse_item_value, item, raw.get("value")) if item is not None and "item" not in local.errors else None
        when = self.now
        if raw.get("observed_at") not in (None, ""):
            when = self._observed_at(local, raw["observed_at"]) or when
        confidence = raw.get("confidence")
        if confidence in (None, ""):
            conf = source.default_confidence if source else 60
        elif isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 100:
            local.add("confidence", "Expected a number from 0 to 100.")
            conf = 0
        else:
            conf = round(confidence * 100 if isinstance(confidence, float) and confidence <= 1 else confidence)
        note = local.run(clean_text, "note", raw.get("note", ""), max_length=2000) or ""
        verified = raw.get("verified", False)
        if not isinstance(verified, bool):
            local.add("verified", "Expected true or false.")
        special = item is not None and item.sensitivity == Sensitivity.SPECIAL
        basis = local.run(clean_legal_basis, raw.get("legal_basis")) if special else None
        if not special and raw.get("legal_basis") not in (None, {}, ""):
            local.add("legal_basis", "Only special-category items take a legal basis.")
        if local.errors:
            for name, messages in local.errors.items():
                for message in messages:
                    errors.add(f"{where}.{name}", message)
            return None
        assert item is not None and source is not None and parsed is not None
        if special:
            # Sealed like add_fact does: the value, its index entry and the note never reach the
            # database in clear.
            sealed = crypto.seal(parsed[0])
            return _FactIn(item, sealed, json.dumps(sealed), crypto.blind_index(item.key, parsed[1][:500]), source, when,
                           conf, verified, crypto.seal_text(note), basis)
        return _FactIn(item, parsed[0], json.dumps(parsed[0]), parsed[1][:500], source, when, conf, verified, note)

    def _quick_fact(self, kind: str, owner_id: int, team_id: int | None, raw: Any) -> _FactIn | None:
        """The everyday fact (known item and source, valid value, whole-number confidence, plain note)
        without error bookkeeping; None sends the fact through the full checks above."""
        if type(raw) is not dict or not raw.keys() <= _QUICK_FACT_FIELDS:
            return None
        item_key, source_key = raw.get("item"), raw.get("source")
        if type(item_key) is not str or type(source_key) is not str:
            return None
        item, source = self.items.get(item_key), self.sources.get(source_key)
        if item is None or source is None or item.applies_to not in ("any", kind):
            return None
        if item.sensitivity == Sensitivity.SPECIAL or item.sensitivity not in self._allowed_on(owner_id, team_id):
            return None
        parsed = self._parse_value(item, raw.get("value"))
        if parsed is None:
            return None
        observed = raw.get("observed_at")
        if observed is None or observed == "":
            when = self.now
        elif type(observed) is str:
            cached = self._observed.get(observed) or self._observe(observed)
            if cached[0] is None:
                return None
            when = cached[0]
        else:
            return None
        confidence = raw.get("confidence")
        if confidence is None or confidence == "":
            conf = source.default_confidence
        elif type(confidence) is int and 0 <= confidence <= 100:
            conf = confidence
        else:
            return None
        note = _plain_text(raw.get("note"), 2000)  # a provenance note, as clean_text would keep it
        if note is None:
            return None
        return _FactIn(item, parsed[0], parsed[2], parsed[1][:500], source, when, conf, False, note)

    def _parse_value(self, item: InformationItem, raw: Any) -> tuple[Any, str, str] | None:
        """``parse_item_value`` (plus the value's JSON), remembered per item and raw value:
        choices, dates and numbers repeat across a data set."""
        kind = type(raw)
        key: tuple[Any, ...] | None = None
        if kind is str or kind is int:
            key = (item.id, kind, raw)
        elif kind is list and len(raw) <= 50 and all(type(v) is str for v in raw):
            key = (item.id, kind, *raw)
        elif kind is dict and len(raw) == 2:
            amount, currency = raw.get("amount"), raw.get("currency")
            if type(amount) in (str, int) and type(currency) is str:
                key = (item.id, kind, type(amount), amount, currency)
        if key is not None:
            hit = self._values.get(key)
            if hit is not None:
                return hit
        try:
            value, text = parse_item_value(item, raw)
        except ValidationError:
            return None
        parsed = (value, text, json.dumps(value))
        if key is not None and len(self._values) < _CACHE_LIMIT:
            self._values[key] = parsed
        return parsed

    def _observe(self, raw: Any) -> tuple[dt.datetime | None, dict[str, list[str]]]:
        probe = Errors()
        result = (probe.run(parse_observed_at, raw), probe.errors)
        if isinstance(raw, (str, dt.date)) and len(self._observed) < _CACHE_LIMIT:
            self._observed[raw] = result
        return result

    def _allowed_on(self, owner_id: int, team_id: int | None) -> frozenset[str]:
        key = (owner_id, team_id)
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = self.scope.sensitivities_on(Card(owner_id=owner_id, team_id=team_id))
            self._allowed[key] = allowed
        return allowed

    def _observed_at(self, errors: Errors, raw: Any) -> dt.datetime | None:
        cached = self._observed.get(raw) if isinstance(raw, (str, dt.date)) else None
        if cached is None:
            cached = self._observe(raw)
        for name, messages in cached[1].items():
            for message in messages:
                errors.add(name, message)
        return cached[0]

    def _terms(self, row: _RowIn) -> dict[str, int]:
        # card_terms keeps the highest weight of each term, so the terms of a card are the union
        # (highest weight wins) of the terms of each name and of the e-mails. Names repeat a lot
        # across a data set; their terms are computed once.
        terms: dict[str, int] = {}
        for text in (row.display_name, row.given_name, row.family_name, row.local_name):
            if text:
                named = self._name_terms.get(text)
                if named is None:
                    named = card_terms(display_name=text)
                    if len(self._name_terms) < _CACHE_LIMIT:
                        self._name_terms[text] = named
                terms.update(named)  # every name term has the same (name) weight
        website = row.fields.get("website") or ""
        if row.emails or website:
            for term, weight in card_terms(display_name="", emails=[a for a, _kind in row.emails], website=website).items():
                if terms.get(term, 0) < weight:
                    terms[term] = weight
        # The phone terms of search.services.phone_terms, without parsing the E.164 form again.
        for e164, _raw, _region, _kind in row.phones:
            for digits in _phone_digits(e164):
                digits = digits[:64]
                if terms.get(digits, 0) < CONTACT_WEIGHT:
                    terms[digits] = CONTACT_WEIGHT
        return terms

    def required_items(self, tier: str, kind: str) -> list[InformationItem]:
        key = (tier, kind)
        items = self._required.get(key)
        if items is None:
            items = catalog.required_items(tier, kind)
            self._required[key] = items
        return items

    # --- references resolved once per batch ---------------------------------------------------

    def check_references(self, rows: list[_RowIn]) -> dict[int, dict[str, list[str]]]:
        """Employer organisations and person-valued facts must be cards the user can see."""
        org_ids = {r.organization_id for r in rows if r.organization_id is not None}
        person_ids = {p for r in rows for p in r.person_refs}
        problems: dict[int, dict[str, list[str]]] = {}
        if org_ids:
            visible = set(visible_to(self.user).filter(pk__in=org_ids, kind=Kind.ORGANIZATION).values_list("id", flat=True))
            for r in rows:
                if r.organization_id is not None and r.organization_id not in visible:
                    problems.setdefault(r.index, {}).setdefault("organization", []).append("Unknown organization.")
        # People erased at their request are not brought back by an import (their tombstones).
        from rapport.privacy.services import tombstoned_rows

        erased = tombstoned_rows({
            r.index: ([e[0] for e in r.emails], [p[0] for p in r.phones], [r.fields.get("external_id")] if r.fields.get("external_id") else [])
            for r in rows if r.kind == Kind.PERSON
        })
        for index in erased:
            problems.setdefault(index, {}).setdefault("__all__", []).append(
                "This person was erased at their request and is not imported again."
            )
        if person_ids:
            visible = set(visible_to(self.user).filter(pk__in=person_ids, kind=Kind.PERSON).values_list("id", flat=True))
            for r in rows:
                for i, f in enumerate(r.facts):
                    if f.item.type == ItemType.PERSON and f.value not in visible:
                        problems.setdefault(r.index, {}).setdefault(f"facts[{i}].value", []).append("Unknown person.")
        return problems

    def new_variants(self, rows: list[_RowIn]) -> list[tuple[str, str]]:
        """Typo variants of words not indexed earlier in this load (the table ignores repeats)."""
        fresh: set[str] = set()
        for r in rows:
            for term in r.terms:
                if term not in self.known_words:
                    fresh.add(term)
        self.known_words.update(fresh)
        return sorted(typo_variants(fresh))


def _phone_digits(e164: str) -> list[str]:
    """Same result as ``search.services.phone_terms``: international digits and the national number."""
    digits = e164.lstrip("+")
    for length in (1, 2, 3):  # country calling codes are prefix-free
        if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = str(int(digits[length:])) if digits[length:] else digits
            return [digits, national] if national != digits else [digits]
    return [digits]


# --- writing ------------------------------------------------------------------------------------


def insert_rows(model: Any, columns: list[str], rows: list[tuple[Any, ...]], *, ignore_conflicts: bool = False) -> None:
    """One multi-row insert: COPY on PostgreSQL, executemany on SQLite's own connection."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if ignore_conflicts:
                # COPY cannot skip duplicates; one INSERT over column arrays can.
                arrays = ", ".join("%s::text[]" for _ in columns)
                cursor.execute(
                    f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",
                    [list(column) for column in zip(*rows)],
                )
            else:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        return
    # Straight to sqlite3: Django's cursor wrapper would route every row through itertools.tee.
    placeholders = ", ".join("?" * len(columns))
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    connection.connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders}){conflict}", rows)


def _reserve_ids(model: Any, count: int) -> list[int]:
    """Ids for rows we insert ourselves, so children can point at them without reading them back.

    Called inside the batch's transaction. On SQLite the write lock is already held
    (BEGIN IMMEDIATE), so the next ids are free; AUTOINCREMENT's counter moves past them on
    insert. On PostgreSQL the ids come from the table's sequence, like any other insert.
    """
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":  # pragma: no cover - Rapport supports SQLite and PostgreSQL
            raise NotImplementedError(f"bulk_create_cards does not support {connection.vendor}")
        cursor.execute(f'SELECT MAX(id) FROM "{table}"')
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
    first = max(top, seq[0] if seq else 0) + 1
    return list(range(first, first + count))


_CARD_COLUMNS = [
    "id", "kind", "display_name", "sort_name", "given_name", "family_name", "local_name", "website", "social",
    "industry", "size_band", "owner_id", "team_id", "tier", "lifecycle_stage", "external_id", "profile",
    "completeness", "created_at", "updated_at", "archived_at", "version",
]
_FACT_COLUMNS = [
    "id", "card_id", "item_id", "value", "value_text", "source_id", "recorded_by_id", "observed_at", "recorded_at",
    "confidence", "verified", "verified_by_id", "verified_at", "note",
]


def _write(loader: Loader, rows: list[_RowIn]) -> list[int]:
    """Inserts one validated batch and returns the new card ids; the caller holds the transaction."""
    adapt_dt = connection.ops.adapt_datetimefield_value
    user_id = loader.user.id
    by = str(user_id)
    now_db = adapt_dt(timezone.now())
    # Profiles are assembled from JSON fragments: the same few keys, sources and dates repeat.
    moments = loader.moments
    keys_json = loader.keys_json
    cards, phones, emails, addresses, stages, employments = [], [], [], [], [], []
    facts, currents, terms = [], [], []
    bases: list[Any] = []
    card_ids = _reserve_ids(Card, len(rows))
    fact_ids = iter(_reserve_ids(Fact, sum(len(r.facts) for r in rows)))
    for card_id, r in zip(card_ids, rows):
        best: dict[str, tuple[Any, ...]] = {}
        for f in r.facts:
            next_fact = next(fact_ids)
            observed = moments.get(f.observed_at)
            if observed is None:
                observed = moments[f.observed_at] = (adapt_dt(f.observed_at), json.dumps(f.observed_at.isoformat()))
            facts.append((
                next_fact, card_id, f.item.id, f.value_json, f.value_text, f.source.id, user_id, observed[0], now_db,
                f.confidence, f.verified, user_id if f.verified else None, now_db if f.verified else None, f.note,
            ))
            if f.basis is not None:
                bases.append(LegalBasis(
                    card_id=card_id, purpose=Purpose.SPECIAL, item_key=f.item.key, basis=f.basis.basis,
                    obtained_at=f.basis.obtained_at, wording=f.basis.wording, recorded_by_id=user_id, fact_id=next_fact,
                ))
            # services._best: the latest verified fact, else the latest, most confident one.
            rank = (f.verified, f.observed_at, f.confidence, next_fact)
            current = best.get(f.item.key)
            if current is None or rank > current[0]:
                best[f.item.key] = (rank, f, next_fact, observed[1])
        entries = []
        for key, (_rank, f, fid, at_json) in best.items():
            # The entry of services._profile_entry: {"v", "f", "s", "c", "ok", "at", "by"}.
            entries.append(
                f'{keys_json[key]}:{{"v":{f.value_json},"f":{fid},"s":{keys_json[f.source.key]},"c":{f.confidence},'
                f'"ok":{"true" if f.verified else "false"},"at":{at_json},"by":{by}}}'
            )
            currents.append((card_id, f.item.id, fid, f.value_text, r.kind, False, r.sort_name, r.owner_id, r.team_id))
        fields = r.fields
        completeness = completeness_percent(loader.required_items(fields["tier"], r.kind), best, fields["tier"])
        cards.append((
            card_id, r.kind, r.display_name, r.sort_name, r.given_name, r.family_name, r.local_name,
            fields["website"], json.dumps(fields["social"]) if fields["social"] else "[]", fields["industry"],
            fields["size_band"], r.owner_id, r.team_id, fields["tier"], fields["lifecycle_stage"], fields["external_id"],
            "{" + ",".join(entries) + "}", completeness, now_db, now_db, None, 1,
        ))
        for i, (e164, raw, region, kind) in enumerate(r.phones):
            phones.append((card_id, e164, raw, region, kind, i))
        for i, (address, kind) in enumerate(r.emails):
            emails.append((card_id, address, kind, i))
        for i, a in enumerate(r.addresses):
            addresses.append((card_id, a["kind"], a["street"], a["city"], a["region"], a["postal_code"], a["country"], i))
        stages.append((card_id, "", fields["lifecycle_stage"], now_db, user_id, "created", "", "{}"))
        if r.organization_id is not None:
            employments.append((card_id, r.organization_id, r.title, "", "", None, None))
        for term, weight in r.terms.items():
            terms.append((term, card_id, weight, r.kind, False, r.owner_id, r.team_id))
    insert_rows(Card, _CARD_COLUMNS, cards)
    insert_rows(Phone, ["card_id", "e164", "raw", "region", "kind", "position"], phones)
    insert_rows(Email, ["card_id", "address", "kind", "position"], emails)
    insert_rows(Address, ["card_id", "kind", "street", "city", "region", "postal_code", "country", "position"], addresses)
    insert_rows(StageChange, ["card_id", "from_stage", "to_stage", "changed_at", "changed_by_id", "reason", "rule", "evidence"], stages)
    insert_rows(Employment, ["person_id", "organization_id", "title", "level", "function", "started_on", "ended_on"], employments)
    insert_rows(Fact, _FACT_COLUMNS, facts)
    insert_rows(
        CurrentValue,
        ["card_id", "item_id", "fact_id", "value_text", "kind", "archived", "sort_name", "owner_id", "team_id"],
        currents,
    )
    LegalBasis.objects.bulk_create(bases)
    insert_rows(Term, ["term", "card_id", "weight", "kind", "archived", "owner_id", "team_id"], terms)
    insert_rows(Variant, ["variant", "word"], loader.new_variants(rows), ignore_conflicts=True)
    return card_ids


def _batches(rows: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    batch: list[Any] = []
    start = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield start, batch
            start += len(batch)
            batch = []
    if batch:
        yield start, batch


def bulk_create_cards(
    *,
    user: User,
    rows: Iterable[dict[str, Any] | Checked],
    batch_size: int = 5000,
    on_error: ErrorHandler | None = None,
    on_created: CreatedHandler | None = None,
    loader: Loader | None = None,
) -> int:
    """Creates many organisation and person cards; returns how many were created.

    A row is what ``create_organization`` / ``create_person`` take, plus ``kind``
    ("organization" or "person"; by default "organization" when the row has a ``name``) and
    ``facts``: ``[{"item", "value", "source", "confidence"?, "observed_at"?, "note"?, "verified"?}]``.

    Every row of a batch is validated before any of it is written, and each batch is written
    in its own transaction, so a card is never saved without its phones, facts or index
    entries. Without ``on_error`` the first bad row raises ``BulkError`` (keys
    ``rows[i].field``; ``created`` counts the rows of earlier batches, which stay saved; wrap
    the call in ``transaction.atomic()`` for all-or-nothing). With ``on_error`` bad rows are
    reported to it and skipped, and the rest is loaded. ``on_created`` receives the ids of each
    batch's new cards inside that batch's transaction, so what it records commits with them.

    A row may also be a ``Checked`` from ``loader.check`` (the importer validates in a worker
    process while this one writes); pass that ``loader``, which also keeps its caches across calls.
    """
    scope = scope_for(user)
    if not scope.may_write_card(Card(owner=user)):
        raise PermissionDenied("Your role may not create cards.")
    if loader is not None and loader.user.pk != user.pk:
        raise ValueError("The loader was made for another user.")
    # The load allocates millions of small, acyclic objects; the cyclic collector would scan
    # the growing heap again and again (a third of the Python time, measured) for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(loader or Loader(user), rows, max(1, batch_size), on_error, on_created)
    finally:
        if collecting:
            gc.enable()


def _load(
    loader: Loader, rows: Iterable[dict[str, Any] | Checked], batch_size: int, on_error: ErrorHandler | None,
    on_created: CreatedHandler | None,
) -> int:
    user = loader.user
    created = 0
    for start, chunk in _batches(rows, batch_size):
        prepared: list[_RowIn] = []
        failed: list[BulkError] = []
        for offset, raw in enumerate(chunk):
            try:
                if type(raw) is Checked:
                    prepared.append(loader.complete(start + offset, raw))
                else:
                    prepared.append(loader.prepare(start + offset, raw))
            except BulkError as exc:
                # Kept without its traceback: that holds this frame, which holds ``failed``, and the
                # cycle would keep the whole batch alive until a garbage collection (off during loads).
                failed.append(exc.with_traceback(None))
        for index, errors in loader.check_references(prepared).items():
            failed.append(BulkError(index, errors))
        if failed:
            failed.sort(key=lambda e: e.row)
            if on_error is None:
                first = failed[0]
                first.created = created
                raise first
            bad = {e.row for e in failed}
            prepared = [r for r in prepared if r.index not in bad]
            for bad_row in failed:
                on_error(bad_row.row, bad_row)
        if not prepared:
            continue
        with transaction.atomic():
            card_ids = _write(loader, prepared)
            if on_created is not None:
                on_created([(r.index, card_id) for r, card_id in zip(prepared, card_ids)])
            # One entry per batch (not per card): the log says who imported how many, and when.
            from rapport.audit.services import record

            record(action="import", record_type="cards.card", actor=user,
                   detail={"created": len(prepared), "rows": [start, start + len(chunk) - 1]})
        created += len(prepared)
    if created >= ANALYZE_AFTER:
        _refresh_statistics()
    return created


ANALYZE_AFTER = 10_000  # cards; smaller loads do not change the shape of the tables


def _refresh_statistics() -> None:
    """Lets SQLite's planner see the new table sizes. Without statistics it guesses, and picks
    plans that scan every card of a kind for a rep's filtered list (measured in bench/)."""
    if connection.vendor != "sqlite":
        return  # PostgreSQL's autovacuum analyzes on its own
    tables = [m._meta.db_table for m in (Phone, Email, Fact, CurrentValue, Term, Variant, StageChange, Employment)]
    with connection.cursor() as cursor:
        # The cards fully (seconds at a million): sampled statistics make every card index look
        # equally selective, and SQLite then reads a manager's segment through the wrong one.
        cursor.execute(f'ANALYZE "{Card._meta.db_table}"')
        cursor.execute("PRAGMA analysis_limit=1000")  # the other tables sampled: milliseconds, not minutes
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')
        cursor.execute("PRAGMA analysis_limit=0")
