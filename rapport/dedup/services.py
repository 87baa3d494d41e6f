"""Write use-cases of duplicate handling: scanning into the review queue, deciding, merging, undoing.

Every entry point (web queue, API, command line, the creation-time check, the importer) calls
these functions. Reading cards goes through ``rapport.core.visibility``: a user only ever
finds, compares and merges cards they may see, and merges only cards they may write.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, ForeignObjectRel, Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from rapport.accounts.models import User
from rapport.cards.models import Address, Card, CurrentValue, Email, Fact, Kind, Phone, Share
from rapport.cards.services import refresh_current_value
from rapport.catalog import selectors as catalog
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.core.text import fold
from rapport.core.visibility import scope_for, visible_to
from rapport.dedup import matching, scoring, training
from rapport.dedup.matching import DEFAULT_THRESHOLD, MatchRecord, PairScore, RunStats
from rapport.dedup.models import Candidate, CandidateStatus, MatchModel, Merge
from rapport.search import services as search
from rapport.search.models import Term

KINDS = (Kind.ORGANIZATION.value, Kind.PERSON.value)
_CHUNK = 900  # ids per IN (...) list: below SQLite's parameter limit with room to spare
WHOLE_TABLES_FROM = 20_000  # cards read: from here on, related tables are read in one pass each


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise ValidationError.single("kind", f"Expected one of: {', '.join(KINDS)}.")
    return str(kind)


def _check_threshold(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationError.single(name, "Expected a number from 0 to 1.")
    return float(value)


def _chunks(ids: list[int], size: int = _CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- building match records from cards --------------------------------------------------------


def records_for(user: User, kind: str, *, card_ids: Iterable[int] | None = None) -> list[MatchRecord]:
    """Match records of the live cards of ``kind`` the user may see (all, or only ``card_ids``).

    One query per table, read as plain tuples: building a million records must not build a
    million model instances. For many cards, the phones, e-mails, addresses and values are read
    whole and kept only for the cards just read (those the user sees): one pass over each table
    costs less than asking the database to match every row against a million card ids.
    """
    cards = visible_to(user).filter(kind=kind, archived_at__isnull=True)
    wanted: list[int] | None = None
    if card_ids is not None:
        wanted = sorted(set(card_ids))
        if not wanted:
            return []
    rows: list[tuple[Any, ...]] = []
    columns = ("id", "display_name", "given_name", "family_name", "local_name", "external_id", "website")
    if wanted is None:
        rows = list(cards.order_by().values_list(*columns).iterator(chunk_size=20_000))
    else:
        for chunk in _chunks(wanted):
            rows.extend(cards.filter(pk__in=chunk).order_by().values_list(*columns))
    ids = [r[0] for r in rows]
    live = set(ids)
    phones: dict[int, list[str]] = {}
    emails: dict[int, list[str]] = {}
    addresses: dict[int, tuple[str, str, str]] = {}
    values: dict[int, dict[int, str]] = {}
    items = catalog.items()
    item_ids = {key: items[key].id for key in ("birth_date", "tax_id") if key in items}

    birth_id, tax_id = item_ids.get("birth_date", -1), item_ids.get("tax_id", -1)
    if wanted is not None and len(ids) < WHOLE_TABLES_FROM:
        # A look-up: a few dozen cards, their rows of all four tables read in one statement.
        for chunk in _chunks(ids, _CHUNK // 4):
            for table, card_id, first, second, third in _related_rows(chunk, list(item_ids.values())):
                if table == 0:
                    phones.setdefault(card_id, []).append(first)
                elif table == 1:
                    emails.setdefault(card_id, []).append(first)
                elif table == 2:
                    addresses.setdefault(card_id, (first, second, third))
                else:
                    values.setdefault(card_id, {})[int(second)] = first
    else:

        def related(model: Any, *fields: str, **extra: Any) -> Iterator[tuple[Any, ...]]:
            if wanted is None and len(ids) >= WHOLE_TABLES_FROM:
                every = model.objects.filter(**extra).order_by().values_list("card_id", *fields).iterator(chunk_size=20_000)
                yield from (row for row in every if row[0] in live)
            else:
                for chunk in _chunks(ids):
                    yield from model.objects.filter(card_id__in=chunk, **extra).order_by().values_list("card_id", *fields)

        for card_id, e164 in related(Phone, "e164"):
            if card_id in phones:
                phones[card_id].append(e164)
            else:
                phones[card_id] = [e164]
        for card_id, address in related(Email, "address"):
            if card_id in emails:
                emails[card_id].append(address)
            else:
                emails[card_id] = [address]
        for card_id, street, city, postal in related(Address, "street", "city", "postal_code"):
            addresses.setdefault(card_id, (street, city, postal))
        if item_ids:
            for card_id, item_id, text in related(CurrentValue, "item_id", "value_text", item_id__in=list(item_ids.values())):
                values.setdefault(card_id, {})[item_id] = text
    no_values: dict[int, str] = {}
    no_address = ("", "", "")
    make = matching.make_record
    records = []
    for card_id, display, given, family, local, external, website in rows:
        card_values = values.get(card_id, no_values)
        street, city, postal = addresses.get(card_id, no_address)
        records.append(make(
            card_id, kind, display, given, family, local, external, phones.get(card_id, ()), emails.get(card_id, ()),
            card_values.get(birth_id, ""), card_values.get(tax_id, ""), website, street, city, postal,
        ))
    return records


def _related_rows(card_ids: list[int], item_ids: list[int]) -> list[tuple[int, int, str, str, str]]:
    """The phones (0), e-mails (1), addresses (2) and current values of ``item_ids`` (3) of a few
    cards, as (table, card id, value, value, value), in one statement instead of four queries."""
    q = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(card_ids))
    parts = [
        f"SELECT 0, {q('card_id')}, {q('e164')}, '', '' FROM {q(Phone._meta.db_table)} WHERE {q('card_id')} IN ({marks})",
        f"SELECT 1, {q('card_id')}, {q('address')}, '', '' FROM {q(Email._meta.db_table)} WHERE {q('card_id')} IN ({marks})",
        f"SELECT 2, {q('card_id')}, {q('street')}, {q('city')}, {q('postal_code')} FROM {q(Address._meta.db_table)} "
        f"WHERE {q('card_id')} IN ({marks})",
    ]
    params: list[Any] = [*card_ids, *card_ids, *card_ids]
    if item_ids:
        # The item id travels as text so that every part of the union has the same column types.
        parts.append(
            f"SELECT 3, {q('card_id')}, {q('value_text')}, CAST({q('item_id')} AS VARCHAR(20)), '' "
            f"FROM {q(CurrentValue._meta.db_table)} WHERE {q('card_id')} IN ({marks}) "
            f"AND {q('item_id')} IN ({', '.join(['%s'] * len(item_ids))})"
        )
        params += [*card_ids, *item_ids]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [tuple(row) for row in cursor.fetchall()]


def record_from_data(kind: str, data: dict[str, Any], *, region: str | None = None) -> MatchRecord:
    """A match record from card data as the API, the forms and the importer hold it.

    ``data`` may hold ``name`` (organisations), ``given_name``/``family_name``/``local_name``,
    ``phones`` and ``emails`` (strings or ``{"number"}``/``{"address"}`` objects), ``addresses``,
    ``birth_date``, ``tax_id``, ``website``, ``external_id``. Unparseable values are simply
    not used for matching: validating them is the creating service's job.
    """

    def texts(value: Any, key: str) -> list[str]:
        out: list[str] = []
        for entry in value if isinstance(value, list) else []:
            if isinstance(entry, dict):
                entry = entry.get(key)
            if isinstance(entry, str) and len(entry) <= 254:
                out.append(entry)
        return out[:20]

    def text(key: str) -> str:
        value = data.get(key)
        return value[:300] if isinstance(value, str) else ""

    addresses = data.get("addresses")
    first = addresses[0] if isinstance(addresses, list) and addresses and isinstance(addresses[0], dict) else {}
    address = {k: str(first.get(k) or "")[:300] for k in ("street", "city", "postal_code")}
    region_value = data.get("region")
    region = region or settings.RAPPORT_DEFAULT_REGION
    return matching.build_record(
        id=0,
        kind=kind,
        name=text("name"),
        given_name=text("given_name"),
        family_name=text("family_name"),
        local_name=text("local_name"),
        external_id=text("external_id"),
        phones=texts(data.get("phones"), "number"),
        emails=texts(data.get("emails"), "address"),
        birth_date=text("birth_date"),
        tax_id=text("tax_id"),
        website=text("website"),
        address=address,
        region=region_value if isinstance(region_value, str) and len(region_value) == 2 else region,
    )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """A million small, acyclic records: the cyclic collector would rescan the growing heap
    again and again for nothing (the same reason bulk loading switches it off)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


# --- looking one card up (creation-time check, importer) --------------------------------------


@dataclass(frozen=True)
class Match:
    """An existing card that is likely the same customer as the data looked up."""

    card_id: int
    display_name: str
    external_id: str
    score: float
    reasons: tuple[str, ...]
    candidate_id: int | None = None  # the review-queue entry, once stored

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.card_id, "display_name": self.display_name, "external_id": self.external_id,
            "score": self.score, "reasons": list(self.reasons), "candidate_id": self.candidate_id,
        }


def _candidate_ids(user: User, kind: str, record: MatchRecord, data: dict[str, Any]) -> set[int]:
    """Cards worth scoring against ``record``, each found through an index, in one statement.

    A shared phone, e-mail (or, for organisations, a company e-mail domain), tax id or birth
    date, or the same name at the start of the card's sorted name. A similar name alone
    cannot reach the default threshold, so typo-tolerant name look-ups are not needed here.
    The look-ups by value are not narrowed to visible cards here (a subquery there makes
    SQLite scan the index by card): ``records_for`` applies ``visible_to`` to every id found.
    The look-ups by name are (among many namesakes, the first hundred the user sees).
    """
    q = connection.ops.quote_name
    parts: list[str] = []
    params: list[Any] = []

    def look_up(sql: str, values: list[Any]) -> None:
        parts.append(f"SELECT * FROM ({sql}) {q('c' + str(len(parts)))}")
        params.extend(values)

    def marks(values: list[Any]) -> str:
        return ", ".join(["%s"] * len(values))

    if record.phones:
        phones = sorted(record.phones)
        look_up(f"SELECT {q('card_id')} FROM {q(Phone._meta.db_table)} WHERE {q('e164')} IN ({marks(phones)}) LIMIT 200", phones)
    raw_emails = {e.strip() for e in (x.get("address") if isinstance(x, dict) else x for x in data.get("emails") or []) if isinstance(e, str)}
    email_terms = {fold(e) for e in raw_emails} | set(record.emails)
    if kind == Kind.ORGANIZATION:
        email_terms |= {e.rpartition("@")[2] for e in record.emails} - matching.free_mail_domains()
    if email_terms:
        terms = sorted(email_terms)[:40]
        look_up(f"SELECT {q('card_id')} FROM {q(Term._meta.db_table)} WHERE {q('term')} IN ({marks(terms)}) LIMIT 200", terms)
    items = catalog.items()
    values_table = q(CurrentValue._meta.db_table)
    by_value = f"SELECT {q('card_id')} FROM {values_table} WHERE {q('item_id')} = %s AND {q('value_text')} IN (%s, %s)"
    if record.tax_id and "tax_id" in items:
        raw = str(data.get("tax_id") or "").strip().casefold()
        look_up(f"{by_value} LIMIT 100", [items["tax_id"].id, raw, record.tax_id.casefold()])
    if record.birth_date and "birth_date" in items and len(record.birth_date) == 10:
        dob = record.birth_date
        look_up(f"{by_value} LIMIT 200", [items["birth_date"].id, dob, f"{dob[:4]}-{dob[8:10]}-{dob[5:7]}"])
    if record.external_id:
        look_up(f"SELECT {q('id')} FROM {q(Card._meta.db_table)} WHERE {q('external_id')} = %s LIMIT 20", [record.external_id])
    names: set[str] = set()
    if kind == Kind.PERSON:
        given, family = fold(text_of(data, "given_name")), fold(text_of(data, "family_name"))
        names = {f"{given} {family}".strip(), f"{family} {given}".strip(), fold(text_of(data, "local_name"))}
    else:
        names = {fold(text_of(data, "name")), record.name}
    prefixes = [name[:300] for name in sorted(n for n in names if len(n) >= 3)]
    if prefixes:
        # The visible cards whose sorted name starts with a prefix, as the ORM writes it (with the
        # user's visibility), compiled once and repeated for each prefix with its own bounds.
        low, high = "\x00rapport:low\x00", "\x00rapport:high\x00"
        base = visible_to(user).filter(kind=kind, archived_at__isnull=True)
        visible = base.filter(sort_name__gte=low, sort_name__lt=high)
        sql, template = visible.order_by("sort_name").values_list("id", flat=True)[:100].query.sql_with_params()
        if list(template).count(low) == 1 and list(template).count(high) == 1:
            for prefix in prefixes:
                look_up(sql, [prefix if v == low else prefix + "\uffff" if v == high else v for v in template])
        else:  # not expected: the bounds are plain parameters
            ids: set[int] = set()
            for prefix in prefixes:
                ids.update(base.filter(sort_name__gte=prefix, sort_name__lt=prefix + "\uffff").order_by("sort_name").values_list("id", flat=True)[:100])
            return ids | _ids_of(parts, params)
    return _ids_of(parts, params)


def _ids_of(parts: list[str], params: list[Any]) -> set[int]:
    if not parts:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {row[0] for row in cursor.fetchall()}


def text_of(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value[:300] if isinstance(value, str) else ""


def find_duplicates(
    *, user: User, kind: str, data: dict[str, Any], threshold: float = DEFAULT_THRESHOLD, limit: int = 10,
    exclude: Iterable[int] = (),
) -> list[Match]:
    """Existing cards the user can see that are likely the customer described by ``data``, best first.

    The importer and the creation forms call this before (or right after) saving a card.
    """
    kind = _check_kind(kind)
    threshold = _check_threshold("threshold", threshold)
    if not isinstance(data, dict):
        raise ValidationError.single("data", "Expected an object.")
    record = record_from_data(kind, data)
    ids = _candidate_ids(user, kind, record, data) - set(exclude)
    if not ids:
        return []
    model = current_model(kind)
    # Every candidate is scored (no blocking keys are needed: they cost more than the scores),
    # after the cheap fields say the pair can still reach the threshold.
    free = matching.free_mail_domains()
    floor, best = scoring.hopeless_below(threshold), model.prior + model.name_best
    others: dict[int, MatchRecord] = {}
    pairs = []
    for other in records_for(user, kind, card_ids=ids):
        if scoring.evidence(record, other, model, best, free) < floor:
            continue
        pair = matching.score_pair(record, other, model)
        if pair.score >= threshold:
            pairs.append(pair)
            others[other.id] = other
    pairs = sorted(pairs, key=lambda p: -p.score)[: max(1, min(limit, 50))]
    return [
        Match(p.right, others[p.right].display, others[p.right].external_id, p.score, p.reasons) for p in pairs
    ]


class DuplicateFinder:
    """Likely duplicates of many rows at once, looked up in memory: what an import uses.

    Built once per run from every live card of ``kind`` the user can see (one query per
    table); each ``find`` is then a few dictionary look-ups and scores, with no query. Rows
    saved during the run are ``add``-ed so that a file's own repeated rows are caught too::

        finder = DuplicateFinder(user=user, kind="person")
        for row in rows:
            matches = finder.find(row)          # [Match(card_id, display_name, external_id, score, reasons)]
            card = ...                          # skip, merge or create
            finder.add(card.pk, row)
    """

    def __init__(self, *, user: User, kind: str, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.kind = _check_kind(kind)
        self.threshold = _check_threshold("threshold", threshold)
        self.index = matching.Index(model=current_model(self.kind))
        with _no_cyclic_gc():
            for record in records_for(user, self.kind):
                self.index.add(record)

    def find(self, data: dict[str, Any], *, limit: int = 5) -> list[Match]:
        if not isinstance(data, dict):
            raise ValidationError.single("data", "Expected an object.")
        record = record_from_data(self.kind, data)
        found = self.index.candidates_for(record, threshold=self.threshold, limit=limit)
        # The looked-up record has id 0, so each pair's right side is the existing card.
        return [
            Match(p.right, self.index.records[p.right].display, self.index.records[p.right].external_id, p.score, p.reasons)
            for p in found
        ]

    def add(self, card_id: int, data: dict[str, Any]) -> None:
        record = record_from_data(self.kind, data)
        record.id = card_id
        self.index.add(record)


def check_new_card(*, user: User, card: Card, threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """The creation-time check: likely duplicates of a card just created, queued for review.

    A warning, never a block: the card is saved; the matches go to the review queue and the
    caller shows them ("this looks like …").
    """
    data: dict[str, Any] = {
        "name": card.display_name,
        "given_name": card.given_name,
        "family_name": card.family_name,
        "local_name": card.local_name,
        "website": card.website,
        "external_id": card.external_id,
        "phones": list(card.phones.values_list("e164", flat=True)),
        "emails": list(card.emails.values_list("address", flat=True)),
        "addresses": list(card.addresses.values("street", "city", "postal_code")[:1]),
    }
    for key in ("birth_date", "tax_id"):
        entry = (card.profile or {}).get(key)
        if entry:
            data[key] = str(entry.get("v") or "")
    found = find_duplicates(user=user, kind=card.kind, data=data, threshold=threshold, limit=5, exclude=[card.pk])
    if not found:
        return []
    store_candidates(
        card.kind,
        [PairScore(min(m.card_id, card.pk), max(m.card_id, card.pk), m.score, m.reasons) for m in found],
    )
    ids = {
        (right if left == card.pk else left): pk
        for left, right, pk in Candidate.objects.filter(Q(left=card) | Q(right=card)).values_list("left_id", "right_id", "id")
    }
    return [Match(m.card_id, m.display_name, m.external_id, m.score, m.reasons, ids.get(m.card_id)) for m in found]


# --- scanning into the review queue -----------------------------------------------------------


@dataclass
class ScanResult:
    pairs: list[PairScore]
    stats: RunStats
    records: dict[int, MatchRecord] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall seconds: read, compare, store
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # this process's CPU seconds, same phases


def scan(*, user: User, kind: str, threshold: float = DEFAULT_THRESHOLD, store: bool = True, workers: int = 1) -> ScanResult:
    """Finds every likely duplicate pair among the cards the user sees; stores them for review.

    ``workers`` > 1 shares the scoring between that many processes (forked copies of this
    one): for the command line, not for a web request.
    """
    kind = _check_kind(kind)
    threshold = _check_threshold("threshold", threshold)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValidationError.single("workers", "Expected a whole number of at least 1.")
    clock, cpu = time.perf_counter, time.process_time
    started, cpu_started = clock(), cpu()
    with _no_cyclic_gc():
        records = records_for(user, kind)
        read, cpu_read = clock(), cpu()
        stats = RunStats()
        pairs = matching.find_pairs(records, threshold=threshold, stats=stats, workers=workers, model=current_model(kind))
        result = ScanResult(pairs=pairs, stats=stats, records={r.id: r for r in records})
    compared, cpu_compared = clock(), cpu()
    if store:
        result.created, result.updated = store_candidates(kind, pairs)
    result.seconds = {
        "read": round(read - started, 2), "compare": round(compared - read, 2), "store": round(clock() - compared, 2),
    }
    result.cpu_seconds = {
        "read": round(cpu_read - cpu_started, 2), "compare": round(cpu_compared - cpu_read, 2), "store": round(cpu() - cpu_compared, 2),
    }
    return result


def current_model(kind: str) -> scoring.Model:
    """The weights scans and checks of ``kind`` score with: the newest trained model, else the defaults.

    Kept in memory while the newest stored model stays the same (one small query per call).
    """
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q('id')}, {q('trained_at')} FROM {q(MatchModel._meta.db_table)} WHERE {q('kind')} = %s "
            f"ORDER BY {q('id')} DESC LIMIT 1",
            [kind],
        )
        row = cursor.fetchone()
    newest = (row[0], row[1]) if row else None
    if newest is None:
        return scoring.default_model(kind)
    cached = _MODELS.get(kind)
    if cached is None or cached[0] != newest:
        parameters = MatchModel.objects.filter(pk=newest[0]).values_list("parameters", flat=True).first() or {}
        cached = (newest, scoring.Model.from_json({**parameters, "kind": kind}))
        _MODELS[kind] = cached
    return cached[1]


_MODELS: dict[str, tuple[tuple[int, Any], scoring.Model]] = {}
MODELS_KEPT = 5  # earlier models of a kind kept for comparison; older ones are deleted


@dataclass
class TrainResult:
    model: scoring.Model
    stored: MatchModel | None
    seconds: float


def train(*, user: User, kind: str, store: bool = True) -> TrainResult:
    """Learns the matching weights of ``kind`` from the cards the user sees and stores them.

    Only an admin trains: the weights then serve every user's scans and checks. No label is
    needed (see ``rapport.dedup.training``). With fewer than 50 cards the defaults stay.
    """
    kind = _check_kind(kind)
    if not user.is_admin_role:
        raise PermissionDenied("Only an administrator can train the duplicate finder.")
    started = time.perf_counter()
    with _no_cyclic_gc():
        records = records_for(user, kind)
        model = training.train(records, kind)
    stored = None
    if store and model.trained:
        with transaction.atomic():
            stored = MatchModel.objects.create(kind=kind, parameters=model.as_json(), records=len(records), trained_by=user)
            # Models of a kind are only ever read newest first: the old ones are history.
            old = list(MatchModel.objects.filter(kind=kind).order_by("-id").values_list("id", flat=True)[MODELS_KEPT:])
            if old:
                MatchModel.objects.filter(pk__in=old).delete()
    return TrainResult(model=model, stored=stored, seconds=round(time.perf_counter() - started, 2))


def store_candidates(kind: str, pairs: list[PairScore]) -> tuple[int, int]:
    """Adds new pairs to the queue and refreshes the score of pending ones; decided pairs stay decided.

    Written with one prepared statement per batch rather than through model instances: a
    first scan of a million cards queues a few hundred thousand pairs.
    """
    if not pairs:
        return 0, 0
    existing: dict[tuple[int, int], tuple[int, str, float, list[str]]] = {}
    lefts = sorted({p.left for p in pairs})
    for chunk in _chunks(lefts):
        for pk, left, right, status, score, reasons in Candidate.objects.filter(left_id__in=chunk).values_list(
            "id", "left_id", "right_id", "status", "score", "reasons"
        ):
            existing[(left, right)] = (pk, status, score, reasons)
    now = timezone.now()
    new: list[PairScore] = []
    changed: list[tuple[int, PairScore]] = []
    for p in pairs:
        found = existing.get((p.left, p.right))
        if found is None:
            new.append(p)
        elif found[1] == CandidateStatus.PENDING and (found[2] != p.score or list(found[3] or []) != list(p.reasons)):
            changed.append((found[0], p))
    # In the order of the pair index, so that each insert lands next to the one before it.
    new.sort(key=lambda p: (p.left, p.right))
    ops = connection.ops
    table = ops.quote_name(Candidate._meta.db_table)
    as_json: dict[tuple[str, ...], Any] = {}  # a few thousand distinct lists of reasons among many pairs

    def reasons_of(p: PairScore) -> Any:
        value = as_json.get(p.reasons)
        if value is None:
            value = as_json[p.reasons] = ops.adapt_json_value(list(p.reasons), None)
        return value

    insert = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {table} "
        "(kind, left_id, right_id, score, reasons, status, found_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        f"{ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])}"
    )
    update = f"UPDATE {table} SET score = %s, reasons = %s WHERE id = %s"
    found_at = ops.adapt_datetimefield_value(now)
    pending = CandidateStatus.PENDING.value
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(new), 5000):
            cursor.executemany(insert, [
                (kind, p.left, p.right, p.score, reasons_of(p), pending, found_at)
                for p in new[start : start + 5000]
            ])
        for start in range(0, len(changed), 5000):
            cursor.executemany(update, [
                (p.score, reasons_of(p), pk) for pk, p in changed[start : start + 5000]
            ])
    return len(new), len(changed)


# --- deciding -------------------------------------------------------------------------------


def _writable_pair(user: User, left_id: int, right_id: int) -> tuple[Card, Card]:
    cards = {c.pk: c for c in visible_to(user).filter(pk__in=[left_id, right_id])}
    if left_id not in cards or right_id not in cards:
        raise NotFound("card")
    scope = scope_for(user)
    if not (scope.may_write_card(cards[left_id]) and scope.may_write_card(cards[right_id])):
        raise PermissionDenied("Your role may not change cards.")
    return cards[left_id], cards[right_id]


@transaction.atomic
def mark_not_duplicate(*, user: User, candidate: Candidate) -> Candidate:
    """Records that the two cards are different customers; the pair is not proposed again."""
    _writable_pair(user, candidate.left_id, candidate.right_id)
    locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.status != CandidateStatus.PENDING:
        raise Conflict("This pair was already decided.")
    locked.status, locked.decided_by, locked.decided_at = CandidateStatus.NOT_DUPLICATE, user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


@transaction.atomic
def reopen(*, user: User, candidate: Candidate) -> Candidate:
    """Puts a pair marked "not a duplicate" back in the queue."""
    _writable_pair(user, candidate.left_id, candidate.right_id)
    locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.status != CandidateStatus.NOT_DUPLICATE:
        raise Conflict("Only a pair marked as not a duplicate can be reopened.")
    locked.status, locked.decided_by, locked.decided_at = CandidateStatus.PENDING, None, None
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


# --- merging --------------------------------------------------------------------------------

# Rows that are not moved: the queue and merge history themselves, and rows derived from
# the moved ones (current values and search terms are rebuilt after the move).
NOT_MOVED = frozenset({"dedup.candidate", "dedup.merge", "cards.currentvalue", "search.term"})

# Contact points the survivor already has stay with the loser instead of being doubled.
SAME_IF_EQUAL: dict[str, tuple[str, ...]] = {
    "cards.phone": ("e164",),
    "cards.email": ("address",),
    "cards.address": ("kind", "street", "city", "region", "postal_code", "country"),
    "cards.share": ("user_id", "team_id"),
}

# The merge policy for core columns: a blank column of the survivor takes the loser's value;
# a column the survivor has stays as it is (the loser's value remains in the merge record).
FILL_BLANKS = ("website", "industry", "size_band", "tier", "external_id", "local_name", "given_name", "family_name")


@dataclass(frozen=True)
class Relation:
    """A foreign key to Card on some model: rows of the loser move to the survivor along it."""

    model: type[models.Model]
    field: str  # the ForeignKey's name, e.g. "card", "person", "organization"

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def card_relations() -> list[Relation]:
    """Every foreign key to Card in the project, found by introspection.

    A model added later by any app is covered without touching this module: its rows move
    with the merge and move back with the undo.
    """
    found: list[Relation] = []
    for rel in Card._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or not getattr(rel, "auto_created", False):
            continue
        if not (rel.one_to_many or rel.one_to_one):
            continue  # a many-to-many moves through its own "through" model's foreign key
        model = rel.related_model
        if not isinstance(model, type) or model._meta.label_lower in NOT_MOVED or model._meta.auto_created:
            continue
        found.append(Relation(model=model, field=rel.field.name))
    return sorted(found, key=lambda r: (r.label, r.field))


def _unique_sets(model: type[models.Model], field_name: str) -> list[tuple[str, ...]]:
    """Unique column sets of ``model`` that include ``field_name`` (the other columns of each)."""
    sets: list[tuple[str, ...]] = []
    meta = model._meta
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None:
            if field_name in constraint.fields:
                sets.append(tuple(f for f in constraint.fields if f != field_name))
    for together in meta.unique_together:
        if field_name in together:
            sets.append(tuple(f for f in together if f != field_name))
    field = meta.get_field(field_name)
    if isinstance(field, models.Field) and field.unique:
        sets.append(())
    return sets


def _attnames(model: type[models.Model], names: tuple[str, ...]) -> list[str]:
    fields = [model._meta.get_field(n) for n in names]
    return [f.attname if isinstance(f, models.Field) and not n.endswith("_id") else n for n, f in zip(names, fields)]


def _rows_to_move(relation: Relation, survivor: Card, loser: Card) -> list[int]:
    """Ids of the loser's rows along ``relation`` that can move without doubling or a unique clash."""
    model, name = relation.model, relation.field
    rows = model._default_manager.filter(**{name: loser})
    keep_sets = _unique_sets(model, name)
    if relation.label in SAME_IF_EQUAL and name == "card":
        keep_sets.append(SAME_IF_EQUAL[relation.label])
    if not keep_sets:
        return list(rows.values_list("pk", flat=True))
    blocked: set[int] = set()
    for columns in keep_sets:
        if not columns:
            if model._default_manager.filter(**{name: survivor}).exists():
                blocked.update(rows.values_list("pk", flat=True))
            continue
        attnames = _attnames(model, columns)
        taken = set(model._default_manager.filter(**{name: survivor}).values_list(*attnames))
        for pk, *values in rows.values_list("pk", *attnames):
            if tuple(values) in taken:
                blocked.add(pk)
    return [pk for pk in rows.values_list("pk", flat=True) if pk not in blocked]


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _columns(card: Card, names: Iterable[str]) -> dict[str, Any]:
    return {name: _json_value(getattr(card, name)) for name in names}


def _rebuild_profile(card: Card) -> None:
    """Re-derives every item of a card's profile from the facts it has now."""
    fresh = Card.objects.get(pk=card.pk)
    item_ids = set(Fact.objects.filter(card=fresh).values_list("item_id", flat=True).distinct())
    item_ids.update(CurrentValue.objects.filter(card=fresh).values_list("item_id", flat=True))
    keys = set((fresh.profile or {}).keys())
    items = catalog.items()
    for item in items.values():
        if item.id in item_ids or item.key in keys:
            refresh_current_value(fresh, item)
    # Items no longer in the catalog cannot be refreshed; drop them from the profile.
    stale = [k for k in (fresh.profile or {}) if k not in items]
    if stale:
        profile = {k: v for k, v in fresh.profile.items() if k not in stale}
        Card.objects.filter(pk=fresh.pk).update(profile=profile)


def _active_merge_of(card_id: int) -> Merge | None:
    return Merge.objects.filter(loser_id=card_id, undone_at__isnull=True).first()


@transaction.atomic
def merge_cards(*, user: User, survivor: Card, loser: Card, candidate: Candidate | None = None) -> Merge:
    """Folds ``loser`` into ``survivor``: every row pointing at the loser moves, facts keep their provenance.

    The loser is archived, not deleted. The merge is recorded with everything that moved so
    ``undo_merge`` can restore both cards exactly. The user must see and may write both cards.
    """
    if survivor.pk == loser.pk:
        raise ValidationError.single("loser", "A card cannot be merged into itself.")
    survivor, loser = _writable_pair(user, survivor.pk, loser.pk)
    # Lock both cards (in id order, so two merges of the same pair cannot deadlock).
    locked = {c.pk: c for c in Card.objects.select_for_update().filter(pk__in=sorted([survivor.pk, loser.pk])).order_by("pk")}
    survivor, loser = locked[survivor.pk], locked[loser.pk]
    if survivor.kind != loser.kind:
        raise ValidationError.single("loser", "Only cards of the same kind can be merged.")
    for name, card in (("survivor", survivor), ("loser", loser)):
        if _active_merge_of(card.pk) is not None:
            raise ValidationError.single(name, f"Card {card.pk} was already merged into another card.")
    if candidate is not None and candidate.status != CandidateStatus.PENDING:
        raise Conflict("This pair was already decided.")
    now = timezone.now()
    survivor_before = _columns(survivor, FILL_BLANKS + ("social",))
    loser_before = _columns(loser, ("archived_at", "profile", "completeness"))
    moved: list[dict[str, Any]] = []
    touched_items: set[int] = set(Fact.objects.filter(card=loser).values_list("item_id", flat=True).distinct())
    for relation in card_relations():
        ids = _rows_to_move(relation, survivor, loser)
        if ids:
            for chunk in _chunks(ids):
                relation.model._default_manager.filter(pk__in=chunk).update(**{relation.field: survivor})
            moved.append({"model": relation.label, "field": relation.field, "ids": ids})
    for name in FILL_BLANKS:
        if not getattr(survivor, name) and getattr(loser, name):
            setattr(survivor, name, getattr(loser, name))
    known = {page.get("url") for page in survivor.social or [] if isinstance(page, dict)}
    survivor.social = list(survivor.social or []) + [
        page for page in loser.social or [] if isinstance(page, dict) and page.get("url") not in known
    ]
    if survivor.is_person:
        from rapport.cards.services import person_display_name

        survivor.display_name = (person_display_name(survivor.given_name, survivor.family_name, survivor.local_name) or survivor.display_name)[:300]
    survivor.sort_name = fold(survivor.display_name)[:300]
    survivor.updated_at = now
    survivor.version = F("version") + 1
    survivor.save()
    created_shares = _keep_loser_audience(survivor, loser, user)
    # The loser's current values pointed at facts that now belong to the survivor.
    CurrentValue.objects.filter(card=loser).delete()
    Card.objects.filter(pk=loser.pk).update(
        archived_at=now, profile={}, completeness=0, updated_at=now, version=F("version") + 1
    )
    items = {i.id: i for i in catalog.items().values()}
    survivor.refresh_from_db()
    for item_id in sorted(touched_items):
        if item_id in items:
            refresh_current_value(survivor, items[item_id])
    record = {
        "moved": moved,
        "survivor_before": survivor_before,
        "survivor_after": _columns(survivor, FILL_BLANKS + ("social",)),
        "loser_before": loser_before,
        "created_shares": created_shares,
    }
    merge = Merge.objects.create(survivor=survivor, loser=loser, candidate=candidate, merged_by=user, merged_at=now, record=record)
    left, right = sorted([survivor.pk, loser.pk])
    Candidate.objects.update_or_create(
        left_id=left, right_id=right,
        defaults={"kind": survivor.kind, "status": CandidateStatus.MERGED, "decided_by": user, "decided_at": now},
        create_defaults={"kind": survivor.kind, "status": CandidateStatus.MERGED, "decided_by": user, "decided_at": now, "score": 1.0, "reasons": ["merged_by_hand"]},
    )
    _after_merge_change(user, survivor, loser, merge, undone=False)
    return merge


def _after_merge_change(user: User, survivor: Card, loser: Card, merge: Merge, *, undone: bool) -> None:
    """Search index and list copies of both cards brought up to date; the change goes to the audit log."""
    from rapport.audit.services import record as audit
    from rapport.cards.services import sync_card_copies

    for card_id in (survivor.pk, loser.pk):
        fresh = Card.objects.get(pk=card_id)
        search.index_card(fresh)
        sync_card_copies(fresh)
    audit(action="merge", record=survivor, actor=user,
          detail={"merge": merge.pk, "survivor": survivor.pk, "loser": loser.pk, "undone": undone})


def _keep_loser_audience(survivor: Card, loser: Card, user: User) -> list[int]:
    """Who worked with the loser keeps seeing its history: shares the survivor with them if needed."""
    created: list[int] = []
    if loser.team_id and loser.team_id != survivor.team_id:
        if not Share.objects.filter(card=survivor, team_id=loser.team_id).exists():
            created.append(Share.objects.create(card=survivor, team_id=loser.team_id, created_by=user).pk)
    if loser.owner_id != survivor.owner_id:
        owner = User.objects.get(pk=loser.owner_id)
        if not visible_to(owner).filter(pk=survivor.pk).exists():
            created.append(Share.objects.create(card=survivor, user=owner, created_by=user).pk)
    return created


@transaction.atomic
def undo_merge(*, user: User, merge: Merge) -> Merge:
    """Restores both cards as they were: moved rows go back, the loser comes back to life.

    Rows added to the survivor after the merge stay with it. A later merge involving either
    card must be undone first.
    """
    _writable_pair(user, merge.survivor_id, merge.loser_id)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict("This merge was already undone.")
    record = merge.record or {}
    if record.get("erased") or "moved" not in record:
        # The person was erased: the snapshot an undo restores from is gone, and restoring the
        # loser would bring an erased card back.
        from django.utils.translation import gettext

        raise Conflict(gettext("A card of this merge was erased at the person's request; the merge cannot be undone."))
    ids = [merge.survivor_id, merge.loser_id]
    later = Merge.objects.filter(undone_at__isnull=True, merged_at__gte=merge.merged_at).exclude(pk=merge.pk).filter(
        Q(survivor_id__in=ids) | Q(loser_id__in=ids)
    )
    if later.filter(pk__gt=merge.pk).exists():
        raise Conflict("A later merge involves one of these cards; undo it first.")
    locked = {c.pk: c for c in Card.objects.select_for_update().filter(pk__in=sorted(ids)).order_by("pk")}
    survivor, loser = locked[merge.survivor_id], locked[merge.loser_id]
    models_by_label = {r.label: r.model for r in card_relations()}
    for entry in record.get("moved", []):
        model = models_by_label.get(entry["model"])
        if model is None:
            continue
        for chunk in _chunks(list(entry["ids"])):
            model._default_manager.filter(pk__in=chunk, **{entry["field"]: survivor}).update(**{entry["field"]: loser})
    Share.objects.filter(pk__in=record.get("created_shares", []), card=survivor).delete()
    after = record.get("survivor_after", {})
    for name, value in record.get("survivor_before", {}).items():
        # A column changed by someone after the merge keeps that newer value.
        if _json_value(getattr(survivor, name)) == after.get(name, value):
            setattr(survivor, name, value)
    if survivor.is_person:
        from rapport.cards.services import person_display_name

        survivor.display_name = (person_display_name(survivor.given_name, survivor.family_name, survivor.local_name) or survivor.display_name)[:300]
    survivor.sort_name = fold(survivor.display_name)[:300]
    survivor.updated_at = timezone.now()
    survivor.version = F("version") + 1
    survivor.save()
    loser_before = record.get("loser_before", {})
    archived = loser_before.get("archived_at")
    Card.objects.filter(pk=loser.pk).update(
        archived_at=dt.datetime.fromisoformat(archived) if archived else None,
        updated_at=timezone.now(),
        version=F("version") + 1,
    )
    _rebuild_profile(survivor)
    _rebuild_profile(loser)
    merge.undone_at, merge.undone_by = timezone.now(), user
    merge.save(update_fields=["undone_at", "undone_by"])
    left, right = sorted(ids)
    Candidate.objects.filter(left_id=left, right_id=right).update(status=CandidateStatus.PENDING, decided_by=None, decided_at=None)
    _after_merge_change(user, survivor, loser, merge, undone=True)
    return merge


def merge_candidate(*, user: User, candidate: Candidate, survivor_id: int | None = None) -> Merge:
    """Merges the pair of a queue entry; the survivor is ``survivor_id`` or, by default, the older card."""
    keep = survivor_id if survivor_id is not None else candidate.left_id
    if keep not in (candidate.left_id, candidate.right_id):
        raise ValidationError.single("survivor", "The card to keep must be one of the pair.")
    drop = candidate.right_id if keep == candidate.left_id else candidate.left_id
    survivor, loser = _writable_pair(user, keep, drop)
    return merge_cards(user=user, survivor=survivor, loser=loser, candidate=candidate)


@dataclass
class AutoMergeResult:
    merged: int = 0
    skipped: int = 0


def auto_merge(*, user: User, pairs: list[PairScore], above: float) -> AutoMergeResult:
    """Merges every pair scoring at or above ``above`` (older card survives); chains are followed.

    When A–B and B–C both qualify, B goes into A first and C then goes into A.
    """
    above = _check_threshold("auto_merge_above", above)
    result = AutoMergeResult()
    into: dict[int, int] = {}

    def final(card_id: int) -> int:
        while card_id in into:
            card_id = into[card_id]
        return card_id

    for pair in sorted(pairs, key=lambda p: (-p.score, p.left, p.right)):
        if pair.score < above:
            continue
        keep, drop = sorted([final(pair.left), final(pair.right)])
        if keep == drop:
            continue
        try:
            survivor, loser = _writable_pair(user, keep, drop)
            candidate = Candidate.objects.filter(left_id=pair.left, right_id=pair.right, status=CandidateStatus.PENDING).first()
            if Candidate.objects.filter(left_id=pair.left, right_id=pair.right, status=CandidateStatus.NOT_DUPLICATE).exists():
                result.skipped += 1
                continue
            merge_cards(user=user, survivor=survivor, loser=loser, candidate=candidate)
        except (ValidationError, NotFound, PermissionDenied, Conflict):
            result.skipped += 1
            continue
        into[drop] = keep
        result.merged += 1
    return result
