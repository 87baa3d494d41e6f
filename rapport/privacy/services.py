"""Privacy use-cases: legal bases and consent, data-subject export and erasure, tombstones,
retention sweeps and the rotation of encryption keys.

Export and erasure find a person's data by introspection: every model with a foreign key to
``cards.Card`` is visited, so a model added later by another app is covered without a change
here. Apps whose rows need more than the default treatment register an erasure handler.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from rapport.audit.models import Action
from rapport.audit.services import record as audit
from rapport.audit.services import redact_item_values, redact_subject
from rapport.core.errors import NotFound, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for
from rapport.privacy import crypto
from rapport.privacy.legal import LegalBasisIn, clean_legal_basis
from rapport.privacy.models import Basis, ConsentStatus, Erasure, LegalBasis, Purpose, Tombstone

DATA_DIR = Path(__file__).resolve().parent / "data"
ERASED_NAME = "Erased person"


def _require_privacy_officer(user: Any) -> None:
    """Export and erasure are the privacy officer's work: administrators (the CLI runs as the operator)."""
    if user is not None and scope_for(user).role != "admin":
        raise PermissionDenied("Only administrators handle data-subject requests.")


def _person(user: Any, card_id: Any) -> Any:
    from rapport.cards import selectors
    from rapport.cards.models import Card, Kind

    if user is not None:
        return selectors.get_card(user, card_id, Kind.PERSON)
    if isinstance(card_id, bool) or not str(card_id).isdigit():
        raise NotFound("person")
    card = Card.objects.filter(pk=int(card_id), kind=Kind.PERSON).first()
    if card is None:
        raise NotFound("person")
    return card


# --- legal bases and consent ------------------------------------------------------------------


def record_special_basis(*, user: Any, card: Any, item_key: str, basis: LegalBasisIn, fact: Any) -> LegalBasis:
    """The ground on which a special item was recorded; called by ``cards.services.add_fact``."""
    row = LegalBasis.objects.create(
        card=card, purpose=Purpose.SPECIAL, item_key=item_key, basis=basis.basis, obtained_at=basis.obtained_at,
        wording=basis.wording, recorded_by=user, fact=fact,
    )
    audit(action=Action.CONSENT, record=card, actor=user, field=item_key, new={"basis": basis.basis, "purpose": Purpose.SPECIAL})
    return row


@transaction.atomic
def record_consent(*, user: Any, card: Any, purpose: Any, legal_basis: Any) -> LegalBasis:
    """Records the legal basis (e.g. consent) for one purpose of processing a person's data."""
    from rapport.cards.models import Kind

    errors: dict[str, list[str]] = {}
    if card.kind != Kind.PERSON:
        errors["card"] = ["Consent is recorded for people."]
    if not isinstance(purpose, str) or purpose not in Purpose.values:
        errors["purpose"] = [f"{purpose!r} is not one of: {', '.join(Purpose.values)}."]
    basis: LegalBasisIn | None = None
    try:
        basis = clean_legal_basis(legal_basis, special=purpose == Purpose.SPECIAL)
    except ValidationError as exc:
        errors.update(exc.errors)
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    if errors:
        raise ValidationError(errors)
    assert basis is not None
    row = LegalBasis.objects.create(
        card=card, purpose=purpose, basis=basis.basis, obtained_at=basis.obtained_at, wording=basis.wording,
        recorded_by=user,
    )
    audit(action=Action.CONSENT, record=card, actor=user, field=str(purpose), new={"basis": basis.basis, "id": row.pk})
    return row


@transaction.atomic
def withdraw_consent(*, user: Any, card: Any, basis_id: Any) -> LegalBasis:
    """Marks a consent withdrawn; the record stays as evidence of what was agreed and when."""
    if isinstance(basis_id, bool) or not str(basis_id).isdigit():
        raise NotFound("consent")
    row = LegalBasis.objects.select_for_update().filter(pk=int(basis_id), card=card).first()
    if row is None:
        raise NotFound("consent")
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    if row.purpose == Purpose.SPECIAL and not scope_for(user).may_see_special:
        raise NotFound("consent")
    if row.status == ConsentStatus.WITHDRAWN:
        raise ValidationError.single("status", "This consent was already withdrawn.")
    LegalBasis.objects.filter(pk=row.pk).update(status=ConsentStatus.WITHDRAWN, withdrawn_at=timezone.now())
    row.refresh_from_db()
    audit(action=Action.CONSENT, record=card, actor=user, field=row.purpose, old=ConsentStatus.GIVEN, new=ConsentStatus.WITHDRAWN)
    return row


# --- introspection ----------------------------------------------------------------------------


def referring_fields() -> list[tuple[type[models.Model], models.ForeignKey[Any, Any]]]:
    """Every (model, foreign key) pointing at ``cards.Card``, auto-created through tables included."""
    from rapport.cards.models import Card

    found = []
    for model in apps.get_models(include_auto_created=True):
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is Card:
                found.append((model, f))
    return found


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, str):
        return crypto.unseal_text(value)
    if crypto.is_sealed(value):
        return crypto.unseal(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value


def _row(obj: models.Model) -> dict[str, Any]:
    """A row as JSON: concrete fields, sealed values opened, users by name."""
    from rapport.accounts.models import User

    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, models.ForeignKey):
            raw = getattr(obj, f.attname)
            if f.related_model is User and raw is not None:
                user = User.objects.filter(pk=raw).only("username").first()
                data[f.name] = user.username if user else raw
            else:
                data[f.name] = raw
        else:
            data[f.name] = _plain(getattr(obj, f.attname))
    return data


# --- export (GDPR art. 15 and 20) -------------------------------------------------------------


@dataclass
class RetentionRule:
    key: str
    months: int
    sensitivity: str = ""
    block: str = ""
    items: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=lambda: ["person"])
    labels: dict[str, str] = field(default_factory=dict)

    def covers(self, item: Any) -> bool:
        if self.items and item.key not in self.items:
            return False
        if self.sensitivity and item.sensitivity != self.sensitivity:
            return False
        if self.block and item.block != self.block:
            return False
        return True


def retention_rules(path: Path | None = None) -> list[RetentionRule]:
    """Retention rules per item, block or sensitivity, shipped as data (``privacy/data/retention.yaml``)."""
    data = yaml.safe_load((path or DATA_DIR / "retention.yaml").read_text(encoding="utf-8")) or {}
    rules = []
    for raw in data.get("rules", []):
        rules.append(
            RetentionRule(
                key=str(raw["key"]), months=int(raw["inactive_months"]), sensitivity=raw.get("sensitivity", ""),
                block=raw.get("block", ""), items=list(raw.get("items", [])), kinds=list(raw.get("kinds", ["person"])),
                labels=dict(raw.get("labels", {})),
            )
        )
    return rules


def _retention_of(item: Any, rules: list[RetentionRule]) -> str:
    months = [r.months for r in rules if r.covers(item)]
    return f"purged after {min(months)} months without activity" if months else "kept while the customer relationship lasts"


def _purpose_of(item: Any) -> str:
    from rapport.catalog.models import Sensitivity

    return Purpose.SPECIAL.value if item.sensitivity == Sensitivity.SPECIAL else Purpose.SALES.value


def export_person(*, user: Any, card_id: Any) -> dict[str, Any]:
    """Everything held about one person, found by introspection, as one JSON-ready document.

    ``user`` None is the operator on the command line (everything); an administrator without
    sensitive-data clearance gets the export without special items (no key for them at all).
    """
    from rapport.catalog import selectors as catalog
    from rapport.cards.models import Card

    _require_privacy_officer(user)
    card = _person(user, card_id)
    allowed = scope_for(user).sensitivities_on(card) if user is not None else None
    items_by_id = {i.id: i for i in catalog.items().values()}
    rules = retention_rules()

    def hidden_item(item_id: Any = None, key: str = "") -> bool:
        if allowed is None:
            return False
        item = items_by_id.get(item_id) if item_id is not None else catalog.items().get(key)
        return item is not None and item.sensitivity not in allowed

    document: dict[str, Any] = {
        "format": "rapport-subject-export/1",
        "exported_at": timezone.now().isoformat(),
        "person": {k: v for k, v in _row(card).items() if k != "profile"},
        "profile": {},
        "related": {},
    }
    for key, entry in (card.profile or {}).items():
        if hidden_item(key=key):
            continue
        item = catalog.items().get(key)
        document["profile"][key] = {
            "value": _plain(entry.get("v")), "source": entry.get("s"), "observed_at": entry.get("at"),
            "purpose": _purpose_of(item) if item else "", "retention": _retention_of(item, rules) if item else "",
        }
    rows_total = 0
    for model, fk in referring_fields():
        if model is Card:
            continue
        rows: list[dict[str, Any]] = []
        for obj in model._default_manager.filter(**{fk.attname: card.pk}).order_by("pk")[:10_000]:
            row = _row(obj)
            item_id = row.get("item")
            if item_id is not None and model._meta.label_lower in ("cards.fact", "cards.currentvalue"):
                if hidden_item(item_id=item_id):
                    continue
                item = items_by_id.get(item_id)
                if item is not None:
                    row["item"] = item.key
                    row["purpose"] = _purpose_of(item)
                    row["retention"] = _retention_of(item, rules)
                    if "value_text" in row:
                        row.pop("value_text")  # an index column (a keyed hash for special items)
            if model._meta.label_lower == "cards.fact":
                source = catalog.source_by_id(int(row["source"])) if row.get("source") is not None else None
                row["source"] = source.key if source else row.get("source")
            if model._meta.label_lower == "privacy.legalbasis" and row.get("item_key") and hidden_item(key=row["item_key"]):
                continue
            _follow(obj, fk, row)
            rows.append(row)
        if rows:
            document["related"].setdefault(f"{_label(model)}.{fk.name}", []).extend(rows)
            rows_total += len(rows)
    log = []
    for entry in _access_log(card):
        if entry["field"] and hidden_item(key=entry["field"]):
            continue
        entry["items"] = [k for k in entry["items"] if not hidden_item(key=k)]
        log.append(entry)
    document["access_log"] = log
    audit(action=Action.EXPORT, record=card, actor=user, detail={"rows": rows_total, "purpose": "data-subject access"})
    return document


def _follow(obj: models.Model, via: models.ForeignKey[Any, Any], row: dict[str, Any]) -> None:
    """Rows that hold the person's content through a link table (an activity through its
    participant row) are included whole; plain references to users or the catalog are not."""
    skip_apps = {"accounts", "catalog", "contenttypes", "auth", "cards"}
    for f in obj._meta.concrete_fields:
        if f is via or not isinstance(f, models.ForeignKey) or f.related_model is None:
            continue
        if f.related_model._meta.app_label in skip_apps:
            continue
        target = getattr(obj, f.name, None)
        if target is not None:
            row[f.name] = _row(target)


def _access_log(card: Any) -> list[dict[str, Any]]:
    """Who recorded, read, changed or exported the person's data (art. 15(1)(c): recipients)."""
    from rapport.audit.models import AuditEntry

    entries = AuditEntry.objects.filter(record_type="cards.card", record_id=str(card.pk)).order_by("-at")[:1000]
    return [
        {"at": e.at.isoformat(), "who": e.actor, "action": e.action, "field": e.field,
         "items": (e.detail or {}).get("items", []) if e.action == Action.READ else []}
        for e in entries
    ]


def _vcard_escape(text: str) -> str:
    return (
        str(text).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "").replace(",", "\\,").replace(";", "\\;")
    )


def vcard_of(document: dict[str, Any]) -> str:
    """The contact part of an export as vCard 4.0 (RFC 6350), for moving it to another system."""
    person = document["person"]
    related = document.get("related", {})
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"FN:{_vcard_escape(person.get('display_name', ''))}",
        f"N:{_vcard_escape(person.get('family_name', ''))};{_vcard_escape(person.get('given_name', ''))};;;",
    ]
    for phone in related.get("cards.phone.card", []):
        lines.append(f"TEL;TYPE={_vcard_escape(phone.get('kind', ''))};VALUE=uri:tel:{phone.get('e164', '')}")
    for email in related.get("cards.email.card", []):
        lines.append(f"EMAIL;TYPE={_vcard_escape(email.get('kind', ''))}:{_vcard_escape(email.get('address', ''))}")
    for a in related.get("cards.address.card", []):
        parts = ["", "", a.get("street", ""), a.get("city", ""), a.get("region", ""), a.get("postal_code", ""), a.get("country", "")]
        lines.append(f"ADR;TYPE={_vcard_escape(a.get('kind', ''))}:" + ";".join(_vcard_escape(p) for p in parts))
    for job in related.get("cards.employment.person", []):
        if job.get("title"):
            lines.append(f"TITLE:{_vcard_escape(job['title'])}")
    if person.get("website"):
        lines.append(f"URL:{_vcard_escape(person['website'])}")
    lines.append(f"REV:{document.get('exported_at', '')}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def export_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


# --- tombstones -------------------------------------------------------------------------------


def _identifier_digests(*, emails: Any = (), phones: Any = (), external_ids: Any = ()) -> list[tuple[str, str]]:
    from rapport.core.text import fold

    found: list[tuple[str, str]] = []
    for email in emails or ():
        if email:
            found.append(("email", crypto.keyed_hash("tombstone:email", fold(str(email)).strip(), 64)))
    for phone in phones or ():
        digits = "".join(ch for ch in str(phone) if ch.isdigit())
        if digits:
            found.append(("phone", crypto.keyed_hash("tombstone:phone", digits, 64)))
    for ext in external_ids or ():
        if ext:
            found.append(("external_id", crypto.keyed_hash("tombstone:external_id", str(ext).strip(), 64)))
    return found


def tombstoned_rows(rows: dict[Any, tuple[Any, Any, Any]]) -> set[Any]:
    """Of rows given as ``{key: (emails, phones, external_ids)}``, the keys of those belonging to
    an erased person: one query for a whole batch of an import."""
    if not rows or not Tombstone.objects.exists():
        return set()
    by_digest: dict[str, set[Any]] = {}
    for key, (emails, phones, externals) in rows.items():
        for _kind, digest in _identifier_digests(emails=emails, phones=phones, external_ids=externals):
            by_digest.setdefault(digest, set()).add(key)
    found = Tombstone.objects.filter(digest__in=list(by_digest)).values_list("digest", flat=True)
    return {key for digest in found for key in by_digest[digest]}


def is_tombstoned(*, emails: Any = (), phones: Any = (), external_ids: Any = ()) -> bool:
    """True when any identifier (e-mail, phone in E.164, external id) belongs to an erased person.

    Importers call this before creating a card, so an erasure is not undone by the next file.
    """
    digests = [d for _kind, d in _identifier_digests(emails=emails, phones=phones, external_ids=external_ids)]
    return bool(digests) and Tombstone.objects.filter(digest__in=digests).exists()


# --- erasure (GDPR art. 17) -------------------------------------------------------------------

ErasureHandler = Callable[[Any, type[models.Model], "models.ForeignKey[Any, Any]"], int]
_handlers: dict[str, ErasureHandler] = {}


def register_erasure_handler(model_label: str, handler: ErasureHandler) -> None:
    """Lets an app decide how its rows about an erased person are treated (``app.model``)."""
    _handlers[model_label.lower()] = handler


def _delete_rows(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    return model._default_manager.filter(**{fk.attname: card.pk}).delete()[0]


def _anonymise_rows(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    """The default for rows the law may require us to keep (invoices, orders): free text and
    JSON are emptied, numbers, dates and links stay, so totals and accounting remain true."""
    updates: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or isinstance(f, models.ForeignKey) or f.name in ("kind", "status", "currency"):
            continue
        if isinstance(f, (models.CharField, models.TextField)) and not f.choices:
            updates[f.name] = "" if f.blank or not f.null else None
        elif isinstance(f, models.JSONField):
            updates[f.name] = {} if not f.null else None
    qs = model._default_manager.filter(**{fk.attname: card.pk})
    return qs.update(**updates) if updates else qs.count()


def _erase_participations(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    """Activities with only this person go; shared ones lose the person and their free text."""
    from rapport.activities.models import Activity, Participant

    activity_ids = list(Participant.objects.filter(card_id=card.pk).values_list("activity_id", flat=True))
    alone = list(
        Activity.objects.filter(pk__in=activity_ids).annotate(n=models.Count("participants")).filter(n=1).values_list("pk", flat=True)
    )
    Activity.objects.filter(pk__in=alone).delete()
    Activity.objects.filter(pk__in=activity_ids).exclude(pk__in=alone).update(summary="—", details="")
    Participant.objects.filter(card_id=card.pk).delete()
    return len(activity_ids)


def _erase_stage_changes(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    return model._default_manager.filter(**{fk.attname: card.pk}).update(reason="")


def _erase_employments(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    return _delete_rows(card, model, fk)


def _erase_search_terms(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    """The card's terms, and the typo variants of words no other card uses any more."""
    from rapport.search.models import Term, Variant

    words = list(Term.objects.filter(card_id=card.pk).values_list("term", flat=True))
    removed = Term.objects.filter(card_id=card.pk).delete()[0]
    still_used = set(Term.objects.filter(term__in=words).values_list("term", flat=True))
    orphans = [w for w in words if w not in still_used]
    if orphans:
        Variant.objects.filter(word__in=orphans).delete()
    return removed


def _erase_merges(card: Any, model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> int:
    """A merge's record is a snapshot of both cards (names, profile) kept to undo it: emptied,
    and marked so that the merge can no longer be undone (an undo would bring the erased card
    back from its empty snapshot)."""
    return model._default_manager.filter(**{fk.attname: card.pk}).update(record={"erased": True})


_DEFAULT_HANDLERS: dict[str, ErasureHandler] = {
    "cards.fact": _delete_rows,
    "cards.currentvalue": _delete_rows,
    "cards.phone": _delete_rows,
    "cards.email": _delete_rows,
    "cards.address": _delete_rows,
    "cards.share": _delete_rows,
    "cards.employment": _erase_employments,
    "cards.stagechange": _erase_stage_changes,
    "activities.participant": _erase_participations,
    "search.term": _erase_search_terms,
    "privacy.legalbasis": _delete_rows,
    "dedup.merge": _erase_merges,
}


@dataclass
class ErasureResult:
    pseudonym: str
    summary: dict[str, int]


def _absorbed_cards(card_id: int) -> list[int]:
    """The cards merged into this one, and into those, by merges still in force: the same
    person, archived, with their own names and ids."""
    if not apps.is_installed("rapport.dedup"):
        return []
    from rapport.dedup.models import Merge

    found: list[int] = []
    frontier = [card_id]
    while frontier:
        losers = list(
            Merge.objects.filter(survivor_id__in=frontier, undone_at__isnull=True).values_list("loser_id", flat=True)
        )
        frontier = [pk for pk in losers if pk not in found and pk != card_id]
        found.extend(frontier)
    return found


# Names shorter than this (one short word, "Ana") are not looked for in other cards' texts:
# they would match other people and ordinary words.
_MIN_NAME_CHARS = 6


def _names_of(card: Any) -> list[str]:
    names = {card.display_name, " ".join(p for p in (card.given_name, card.family_name) if p), card.local_name}
    return sorted({n.strip() for n in names if n and len(n.strip()) >= _MIN_NAME_CHARS}, key=len, reverse=True)


def _scrub(text: str, needles: list[str]) -> str:
    import re

    for needle in needles:
        text = re.sub(re.escape(needle), f"[{ERASED_NAME}]", text, flags=re.IGNORECASE)
    return text


def _scrub_references(card_ids: list[int], names: list[str], identifiers: list[str]) -> dict[str, int]:
    """The erased person's name where other records refer to them in free text: notes of facts
    on other cards, the summaries of other cards' activities, the filters of export records,
    and the import error rows that held their values."""
    from rapport.activities.models import Activity
    from rapport.cards.models import Fact

    counts: dict[str, int] = {}
    needles = names + [i for i in identifiers if len(i) >= _MIN_NAME_CHARS]
    if needles:
        match = Q()
        for needle in needles:
            match |= Q(note__icontains=needle)
        facts = list(Fact.objects.filter(match).exclude(card_id__in=card_ids).only("pk", "note"))
        for fact in facts:
            fact.note = _scrub(fact.note, needles)
        Fact.objects.bulk_update(facts, ["note"], batch_size=500)
        counts["other cards' fact notes"] = len(facts)
        match = Q()
        for needle in needles:
            match |= Q(summary__icontains=needle) | Q(details__icontains=needle)
        activities = list(Activity.objects.filter(match).only("pk", "summary", "details"))
        for activity in activities:
            activity.summary = _scrub(activity.summary, needles)
            activity.details = _scrub(activity.details, needles)
        Activity.objects.bulk_update(activities, ["summary", "details"], batch_size=500)
        counts["other cards' activities"] = len(activities)
    if apps.is_installed("rapport.imports"):
        from rapport.imports.models import ExportRecord, ImportedRow, RowError

        from rapport.core.text import fold

        folded = [fold(n) for n in names]

        def quoted(value: Any) -> Any:
            """A filter value naming the person: their name in it, or a name prefix that selects them."""
            if not isinstance(value, str):
                return value
            if len(value.strip()) >= 3 and any(n.startswith(fold(value.strip())) for n in folded):
                return f"[{ERASED_NAME}]"
            return _scrub(value, needles)

        exports = []
        for record in ExportRecord.objects.exclude(filters={}).only("pk", "filters").iterator(chunk_size=500):
            filters = record.filters if isinstance(record.filters, dict) else {}
            cleaned = {k: quoted(v) for k, v in filters.items()}
            if cleaned != filters:
                record.filters = cleaned
                exports.append(record)
        ExportRecord.objects.bulk_update(exports, ["filters"], batch_size=500)
        counts["export filters"] = len(exports)
        # The error rows of the rows that became these cards, and any error row holding one of
        # their values (a row refused for a bad phone still shows the name it came with).
        rows = Q(pk__in=[])
        for job_id, row in ImportedRow.objects.filter(card_id__in=card_ids).values_list("job_id", "row"):
            rows |= Q(job_id=job_id, row=row)
        for needle in needles:
            rows |= Q(value__icontains=needle)
        counts["import error rows"] = RowError.objects.filter(rows).update(value="", reason=f"[{ERASED_NAME}]")
    return {k: v for k, v in counts.items() if v}


@transaction.atomic
def erase_person(*, user: Any, card_id: Any) -> ErasureResult:
    """Removes or anonymises everything held about one person, leaves tombstones of their
    identifiers, and keeps in the audit log only a pseudonym of them.

    The cards merged into this one are the same person: they are erased too, and the merges
    can no longer be undone. Their names are also removed where other records quote them.
    """
    from rapport.cards.models import Card

    _require_privacy_officer(user)
    card = _person(user, card_id)
    card = Card.objects.select_for_update().get(pk=card.pk)
    pseudonym = crypto.pseudonym("cards.card", card.pk)
    if Erasure.objects.filter(card_id_hash=pseudonym).exists():
        raise ValidationError.single("person", "This person was already erased.")
    absorbed = list(Card.objects.select_for_update().filter(pk__in=_absorbed_cards(card.pk)).order_by("pk"))
    everyone = [card, *absorbed]
    names = sorted({n for c in everyone for n in _names_of(c)}, key=len, reverse=True)
    identifiers = [
        *(a for c in everyone for a in c.emails.values_list("address", flat=True)),
        *(e for c in everyone for e in c.phones.values_list("e164", flat=True)),
    ]
    summary = _erase_card(user, card, pseudonym)
    for other in absorbed:
        other_pseudonym = crypto.pseudonym("cards.card", other.pk)
        if Erasure.objects.filter(card_id_hash=other_pseudonym).exists():
            continue
        _erase_card(user, other, other_pseudonym)
        summary["merged-away cards"] = summary.get("merged-away cards", 0) + 1
    summary.update(_scrub_references([c.pk for c in everyone], names, identifiers))
    Erasure.objects.filter(card_id_hash=pseudonym).update(summary=summary)
    audit(action=Action.ERASE, record_type="cards.card", record_id=pseudonym, actor=user, detail=summary)
    return ErasureResult(pseudonym=pseudonym, summary=summary)


def _erase_card(user: Any, card: Any, pseudonym: str) -> dict[str, int]:
    """One card's part of an erasure: its rows, its columns, its audit entries, its tombstones."""
    from rapport.cards.models import Card, CurrentValue, Fact

    emails = list(card.emails.values_list("address", flat=True))
    phones = list(card.phones.values_list("e164", flat=True))
    externals = [card.external_id] if card.external_id else []
    for kind, digest in _identifier_digests(emails=emails, phones=phones, external_ids=externals):
        Tombstone.objects.get_or_create(digest=digest, defaults={"kind": kind})
    fact_ids = list(Fact.objects.filter(card_id=card.pk).values_list("pk", flat=True))
    employment_ids = list(card.employments.values_list("pk", flat=True))
    summary: dict[str, int] = {}
    for model, fk in referring_fields():
        if model is Card:
            continue  # other cards pointing here (none today) keep their link to the anonymised card
        label = model._meta.label_lower
        if label == "cards.employment" and fk.name == "organization":
            continue  # a person card has no staff
        handler = _handlers.get(label) or _DEFAULT_HANDLERS.get(label) or _anonymise_rows
        count = handler(card, model, fk)
        if count:
            summary[f"{label}.{fk.name}"] = count
    Card.objects.filter(pk=card.pk).update(
        display_name=ERASED_NAME, sort_name=ERASED_NAME.casefold(), given_name="", family_name="", local_name="",
        website="", social=[], industry="", external_id="", profile={}, completeness=0,
        archived_at=card.archived_at or timezone.now(), updated_at=timezone.now(), version=models.F("version") + 1,
    )
    # The profile is gone, so is its value index (which also copied the card's name for lists).
    CurrentValue.objects.filter(card_id=card.pk).delete()
    redacted = redact_subject(record_type="cards.card", record_ids=[card.pk], pseudonym=pseudonym)
    redacted += redact_subject(record_type="cards.fact", record_ids=fact_ids, pseudonym=pseudonym)
    redacted += redact_subject(record_type="cards.employment", record_ids=employment_ids, pseudonym=pseudonym)
    summary["audit entries pseudonymised"] = redacted
    Erasure.objects.create(card_id_hash=pseudonym, erased_by=user, summary=summary)
    return summary


# --- retention sweep --------------------------------------------------------------------------


@dataclass
class SweepLine:
    rule: str
    months: int
    cards: int = 0
    facts: int = 0


@transaction.atomic
def sweep(*, now: dt.datetime | None = None, dry_run: bool = False, rules: list[RetentionRule] | None = None) -> list[SweepLine]:
    """Applies every retention rule: facts of the items it covers, on cards with no activity for
    its number of months (and recorded before that), are purged and the profiles re-derived."""
    from rapport.activities.models import Participant
    from rapport.catalog import selectors as catalog
    from rapport.cards.models import Card, Fact
    from rapport.cards.services import refresh_current_value

    now = now or timezone.now()
    report = []
    for rule in rules if rules is not None else retention_rules():
        line = SweepLine(rule=rule.key, months=rule.months)
        report.append(line)
        items = [i for i in catalog.items().values() if rule.covers(i)]
        if not items:
            continue
        cutoff = now - dt.timedelta(days=round(rule.months * 30.44))
        recent = Participant.objects.filter(activity__occurred_at__gte=cutoff).values("card_id")
        facts = Fact.objects.filter(item__in=items, recorded_at__lt=cutoff, card__kind__in=rule.kinds).exclude(
            card_id__in=recent
        )
        by_card: dict[int, set[int]] = {}
        for card_id, item_id in facts.values_list("card_id", "item_id"):
            by_card.setdefault(card_id, set()).add(item_id)
        line.cards = len(by_card)
        line.facts = facts.count()
        if dry_run or not by_card:
            continue
        facts.delete()
        items_by_id = {i.id: i for i in items}
        for card in Card.objects.filter(pk__in=list(by_card)):
            for item_id in sorted(by_card[card.pk]):
                refresh_current_value(card, items_by_id[item_id])
            audit(action=Action.PURGE, record=card, detail={"rule": rule.key, "items": sorted(items_by_id[i].key for i in by_card[card.pk])})
    return report


# --- key rotation -----------------------------------------------------------------------------


@dataclass
class RotationResult:
    facts: int = 0
    cards: int = 0
    key: str = ""


def _seal_fact_chunk(chunk: list[Any], keys: dict[int, str]) -> int:
    """Seals (or re-seals under the newest key) value and note of each fact, and puts the blind
    index in ``value_text``; ``keys`` maps item ids to item keys. Returns how many changed."""
    from rapport.cards.models import Fact

    changed_rows = []
    for fact in chunk:
        value, changed = crypto.rotate_value(fact.value) if crypto.is_sealed(fact.value) else (crypto.seal(fact.value), True)
        text = fact.value_text
        if not text.startswith(crypto.BLIND_PREFIX):
            text = crypto.blind_index(keys[fact.item_id], text)
        note, note_changed = crypto.rotate_text(fact.note)
        if fact.note and not fact.note.startswith(crypto.TEXT_PREFIX):
            note, note_changed = crypto.seal_text(fact.note), True
        if changed or note_changed or text != fact.value_text:
            fact.value, fact.value_text, fact.note = value, text, note
            changed_rows.append(fact)
    if changed_rows:
        Fact.objects.bulk_update(changed_rows, ["value", "value_text", "note"])
    return len(changed_rows)


def _facts_after(keys: dict[int, str], last: int, batch: int) -> list[Any]:
    from rapport.cards.models import Fact

    return list(
        Fact.objects.select_for_update().filter(item_id__in=list(keys), pk__gt=last)
        .order_by("pk").only("pk", "item_id", "value", "value_text", "note")[:batch]
    )


def _blind_index_current_values(keys: dict[int, str], batch: int) -> int:
    """Current values of the items still in clear get their blind index instead."""
    from rapport.cards.models import CurrentValue

    done = 0
    last = 0
    while True:
        chunk = list(
            CurrentValue.objects.filter(item_id__in=list(keys), pk__gt=last).order_by("pk").only("pk", "item_id", "value_text")[:batch]
        )
        if not chunk:
            return done
        clear = [c for c in chunk if not c.value_text.startswith(crypto.BLIND_PREFIX)]
        for current in clear:
            current.value_text = crypto.blind_index(keys[current.item_id], current.value_text)
        if clear:
            CurrentValue.objects.bulk_update(clear, ["value_text"])
            done += len(clear)
        last = chunk[-1].pk


def _seal_profile_chunk(card_ids: list[int], item_keys: set[str]) -> int:
    """Seals (or re-seals) the items' entries in the profiles of these cards."""
    from rapport.cards.models import Card

    changed_cards = []
    for card in Card.objects.select_for_update().filter(pk__in=card_ids).only("pk", "profile"):
        profile = dict(card.profile or {})
        changed_any = False
        for key, entry in profile.items():
            if key not in item_keys:
                continue
            stored = entry.get("v")
            value, changed = crypto.rotate_value(stored) if crypto.is_sealed(stored) else (crypto.seal(stored), True)
            if changed:
                profile[key] = {**entry, "v": value}
                changed_any = True
        if changed_any:
            card.profile = profile
            changed_cards.append(card)
    if changed_cards:
        Card.objects.bulk_update(changed_cards, ["profile"])
    return len(changed_cards)


def _cards_with(keys: dict[int, str]) -> list[int]:
    from rapport.cards.models import CurrentValue

    return sorted(set(CurrentValue.objects.filter(item_id__in=list(keys)).values_list("card_id", flat=True)))


def rotate_keys(*, batch: int = 500) -> RotationResult:
    """Re-encrypts every sealed value with the newest key, and seals values of special items
    still in clear (written by a process whose catalog cache did not yet know the item was
    special). Safe to interrupt and run again: each batch commits on its own, and rows not yet
    done stay readable."""
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import Sensitivity

    result = RotationResult(key=crypto.primary_key_id())
    special_keys = {i.id: i.key for i in catalog.items().values() if i.sensitivity == Sensitivity.SPECIAL}
    last = 0
    while True:
        with transaction.atomic():
            chunk = _facts_after(special_keys, last, batch)
            if not chunk:
                break
            result.facts += _seal_fact_chunk(chunk, special_keys)
            last = chunk[-1].pk
    with transaction.atomic():
        _blind_index_current_values(special_keys, batch)
    card_ids = _cards_with(special_keys)
    for start in range(0, len(card_ids), batch):
        with transaction.atomic():
            result.cards += _seal_profile_chunk(card_ids[start : start + batch], set(special_keys.values()))
    audit(action=Action.KEYS, record_type="privacy.keys", detail={"facts": result.facts, "cards": result.cards, "key": result.key})
    return result


# --- an item becomes special ------------------------------------------------------------------


@dataclass
class SealResult:
    facts: int = 0
    current_values: int = 0
    cards: int = 0
    merges: int = 0
    audit_entries: int = 0


def seal_item(*, item: Any, batch: int = 500) -> SealResult:
    """Seals every stored value of ``item``, which has just become special: its facts (value
    and note encrypted, ``value_text`` replaced by the blind index), its current values (blind
    index), the cards' profile entries, the profiles kept by merges for their undo, and the
    values the audit log recorded when the item was created (replaced by ``[special]``).

    Runs inside the caller's transaction (``rapport.catalog.services.change_sensitivity``), in
    batches of ``batch`` rows so that memory stays flat on large tables: either the item is
    special and every copy is sealed, or nothing changed.
    """
    keys = {item.id: item.key}
    result = SealResult()
    last = 0
    while chunk := _facts_after(keys, last, batch):
        result.facts += _seal_fact_chunk(chunk, keys)
        last = chunk[-1].pk
    result.current_values = _blind_index_current_values(keys, batch)
    card_ids = _cards_with(keys)
    for start in range(0, len(card_ids), batch):
        result.cards += _seal_profile_chunk(card_ids[start : start + batch], {item.key})
    result.merges = _seal_merge_snapshots(item.key)
    result.audit_entries = redact_item_values(record_type="cards.fact", field=item.key)
    return result


def _seal_merge_snapshots(item_key: str) -> int:
    """A merge keeps the loser's profile as it was, to undo the merge: seal the item there too."""
    if not apps.is_installed("rapport.dedup"):
        return 0
    from rapport.dedup.models import Merge

    changed = []
    for merge in Merge.objects.select_for_update().only("pk", "record").iterator(chunk_size=500):
        profile = ((merge.record or {}).get("loser_before") or {}).get("profile") or {}
        entry = profile.get(item_key) if isinstance(profile, dict) else None
        if not isinstance(entry, dict) or crypto.is_sealed(entry.get("v")):
            continue
        profile[item_key] = {**entry, "v": crypto.seal(entry.get("v"))}
        changed.append(merge)
    if changed:
        Merge.objects.bulk_update(changed, ["record"], batch_size=500)
    return len(changed)


def last_activity_of(card: Any) -> dt.datetime | None:
    from rapport.activities.models import Participant

    return Participant.objects.filter(card=card).aggregate(last=Max("activity__occurred_at"))["last"]


__all__ = [
    "Basis", "ErasureResult", "erase_person", "export_person", "is_tombstoned", "record_consent", "register_erasure_handler",
    "rotate_keys", "seal_item", "sweep", "vcard_of", "withdraw_consent",
]
