"""Write use-cases for customer cards. Views, API, CLI and importers all call these."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, Container, Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import Role, Team, User
from rapport.audit.models import Action
from rapport.audit.services import REDACTED, record as audit, record_changes
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, ItemType, Sensitivity
from rapport.cards.models import (
    Address,
    AddressKind,
    Card,
    CurrentValue,
    Email,
    EmailKind,
    Employment,
    Fact,
    Function,
    Kind,
    Level,
    Phone,
    PhoneKind,
    Share,
    SizeBand,
    Stage,
    StageChange,
    Tier,
)
from rapport.cards.values import (
    clean_text,
    parse_date,
    parse_email,
    parse_item_value,
    parse_observed_at,
    parse_phone,
    parse_url,
)
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.core.text import fold
from rapport.core.visibility import scope_for, visible_to
from rapport.privacy import crypto
from rapport.privacy.legal import LegalBasisIn, clean_legal_basis
from rapport.search import services as search


class Errors:
    """Collects field errors so one answer names every bad field at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            for key, messages in exc.errors.items():
                self.errors.setdefault(key, []).extend(messages)
            return None

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


@dataclass
class ContactPoints:
    phones: list[tuple[str, str, str, str]] = field(default_factory=list)  # e164, raw, region, kind
    emails: list[tuple[str, str]] = field(default_factory=list)  # address, kind
    addresses: list[dict[str, str]] = field(default_factory=list)


def _choice(errors: Errors, name: str, value: Any, choices: Iterable[str], *, blank: bool = True) -> str:
    if value in (None, "") and blank:
        return ""
    if not isinstance(value, str) or value not in set(choices):
        errors.add(name, f"{value!r} is not one of: {', '.join(choices)}.")
        return ""
    return value


def _contact_points(errors: Errors, phones: Any, emails: Any, addresses: Any, region: str | None) -> ContactPoints:
    points = ContactPoints()
    for name, value in (("phones", phones), ("emails", emails), ("addresses", addresses)):
        if value is not None and not isinstance(value, list):
            errors.add(name, "Expected a list.")
    if len(phones or []) > 20 or len(emails or []) > 20 or len(addresses or []) > 20:
        errors.add("__all__", "At most 20 phones, e-mails and addresses each.")
        return points
    for i, entry in enumerate(phones or [] if isinstance(phones, list) else []):
        if isinstance(entry, dict):
            raw, entry_region = entry.get("number"), entry.get("region") or region
            kind = _choice(errors, f"phones[{i}].kind", entry.get("kind") or "mobile", PhoneKind.values)
        else:
            raw, entry_region, kind = entry, region, PhoneKind.MOBILE
        parsed = errors.run(parse_phone, f"phones[{i}]", raw, entry_region)
        if parsed:
            points.phones.append((parsed[0], str(raw).strip(), parsed[1], kind or PhoneKind.MOBILE))
    for i, entry in enumerate(emails or [] if isinstance(emails, list) else []):
        raw, kind = (entry.get("address"), entry.get("kind") or "work") if isinstance(entry, dict) else (entry, "work")
        kind = _choice(errors, f"emails[{i}].kind", kind, EmailKind.values) or EmailKind.WORK
        address = errors.run(parse_email, f"emails[{i}]", raw)
        if address:
            points.emails.append((address, kind))
    for i, entry in enumerate(addresses or [] if isinstance(addresses, list) else []):
        if not isinstance(entry, dict):
            errors.add(f"addresses[{i}]", "Expected an address object.")
            continue
        cleaned = {
            "kind": _choice(errors, f"addresses[{i}].kind", entry.get("kind") or "office", AddressKind.values),
            "street": errors.run(clean_text, f"addresses[{i}].street", entry.get("street"), max_length=300) or "",
            "city": errors.run(clean_text, f"addresses[{i}].city", entry.get("city"), max_length=120) or "",
            "region": errors.run(clean_text, f"addresses[{i}].region", entry.get("region"), max_length=120) or "",
            "postal_code": errors.run(clean_text, f"addresses[{i}].postal_code", entry.get("postal_code"), max_length=20) or "",
            "country": (errors.run(clean_text, f"addresses[{i}].country", entry.get("country"), max_length=2) or "").upper(),
        }
        if cleaned["country"] and not cleaned["country"].isalpha():
            errors.add(f"addresses[{i}].country", "Expected an ISO 3166 two-letter country code.")
        points.addresses.append(cleaned)
    return points


def _resolve_owner_and_team(errors: Errors, user: User, owner_id: Any, team_id: Any) -> tuple[User, Team | None]:
    """Reps own what they create; managers and admins may assign within their reach."""
    scope = scope_for(user)
    owner = user
    if owner_id not in (None, "", user.id):
        if scope.role not in (Role.ADMIN, Role.MANAGER):
            errors.add("owner", "You may not assign cards to other users.")
        else:
            candidate = User.objects.filter(pk=owner_id, is_active=True).first() if str(owner_id).isdigit() else None
            if candidate is None or (scope.role == Role.MANAGER and candidate.id not in scope.managed_user_ids):
                errors.add("owner", "Unknown user.")
            else:
                owner = candidate
    team: Team | None = None
    if team_id not in (None, ""):
        allowed = None if scope.role == Role.ADMIN else set(scope.team_ids) | set(scope.managed_team_ids)
        candidate_team = Team.objects.filter(pk=team_id).first() if str(team_id).isdigit() else None
        if candidate_team is None or (allowed is not None and candidate_team.id not in allowed):
            errors.add("team", "Unknown team.")
        else:
            team = candidate_team
    else:
        owner_teams = list(owner.teams.values_list("id", flat=True)[:2])
        if len(owner_teams) >= 1:
            team = Team.objects.get(pk=owner_teams[0])
    return owner, team


def _save_contact_points(card: Card, points: ContactPoints, *, replace: bool) -> None:
    if replace:
        card.phones.all().delete()
        card.emails.all().delete()
        card.addresses.all().delete()
    Phone.objects.bulk_create(
        Phone(card=card, e164=e164, raw=raw, region=region, kind=kind, position=i)
        for i, (e164, raw, region, kind) in enumerate(points.phones)
    )
    Email.objects.bulk_create(
        Email(card=card, address=address, kind=kind, position=i) for i, (address, kind) in enumerate(points.emails)
    )
    Address.objects.bulk_create(Address(card=card, position=i, **a) for i, a in enumerate(points.addresses))


def _common_fields(errors: Errors, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "website": errors.run(parse_url, "website", data.get("website")) or "",
        "industry": errors.run(clean_text, "industry", data.get("industry"), max_length=120) or "",
        "size_band": _choice(errors, "size_band", data.get("size_band"), SizeBand.values),
        "tier": _choice(errors, "tier", data.get("tier"), Tier.values),
        "lifecycle_stage": _choice(errors, "lifecycle_stage", data.get("lifecycle_stage") or Stage.SUSPECT, Stage.values),
        "external_id": errors.run(clean_text, "external_id", data.get("external_id"), max_length=200) or "",
        "social": _social(errors, data.get("social")),
    }


def _social(errors: Errors, social: Any) -> list[dict[str, str]]:
    if social in (None, ""):
        return []
    if not isinstance(social, list) or len(social) > 20:
        errors.add("social", "Expected a list of at most 20 pages.")
        return []
    pages = []
    for i, page in enumerate(social):
        url = errors.run(parse_url, f"social[{i}]", page.get("url") if isinstance(page, dict) else page)
        if url:
            network = page.get("network", "") if isinstance(page, dict) else ""
            pages.append({"network": str(network)[:40], "url": url})
    return pages


def person_display_name(given: str, family: str, local: str) -> str:
    return " ".join(part for part in (given, family) if part) or local


@transaction.atomic
def create_organization(*, user: User, data: dict[str, Any]) -> Card:
    """Creates an organisation card owned by ``user`` (or whom a manager assigns)."""
    errors = Errors()
    name = errors.run(clean_text, "name", data.get("name"), required=True, max_length=300)
    fields = _common_fields(errors, data)
    points = _contact_points(errors, data.get("phones"), data.get("emails"), data.get("addresses"), data.get("region"))
    owner, team = _resolve_owner_and_team(errors, user, data.get("owner"), data.get("team"))
    if not scope_for(user).may_write_card(Card(owner=owner)):
        raise PermissionDenied("Your role may not create cards.")
    errors.raise_if_any()
    card = Card.objects.create(
        kind=Kind.ORGANIZATION, display_name=name, sort_name=fold(name)[:300], owner=owner, team=team, **fields
    )
    _save_contact_points(card, points, replace=False)
    StageChange.objects.create(card=card, from_stage="", to_stage=card.lifecycle_stage, changed_by=user, reason="created")
    search.index_card(card)
    audit(action=Action.CREATE, record=card, actor=user, detail={"kind": card.kind, "owner": owner.pk, "team": team.pk if team else None})
    return card


@transaction.atomic
def create_person(*, user: User, data: dict[str, Any]) -> Card:
    """Creates a person card; with ``organization`` it also records where they work."""
    errors = Errors()
    given = errors.run(clean_text, "given_name", data.get("given_name"), max_length=150) or ""
    family = errors.run(clean_text, "family_name", data.get("family_name"), max_length=150) or ""
    local = errors.run(clean_text, "local_name", data.get("local_name"), max_length=150) or ""
    if not (given or family or local) and "given_name" not in errors.errors:
        errors.add("given_name", "A person needs a given name, a family name or a local-script name.")
    fields = _common_fields(errors, data)
    points = _contact_points(errors, data.get("phones"), data.get("emails"), data.get("addresses"), data.get("region"))
    owner, team = _resolve_owner_and_team(errors, user, data.get("owner"), data.get("team"))
    organization = None
    if data.get("organization") not in (None, ""):
        organization = _visible_card_or_error(errors, user, "organization", data["organization"], Kind.ORGANIZATION)
    if not scope_for(user).may_write_card(Card(owner=owner)):
        raise PermissionDenied("Your role may not create cards.")
    errors.raise_if_any()
    display = person_display_name(given, family, local)
    card = Card.objects.create(
        kind=Kind.PERSON,
        display_name=display[:300],
        sort_name=fold(display)[:300],
        given_name=given,
        family_name=family,
        local_name=local,
        owner=owner,
        team=team,
        **fields,
    )
    _save_contact_points(card, points, replace=False)
    StageChange.objects.create(card=card, from_stage="", to_stage=card.lifecycle_stage, changed_by=user, reason="created")
    if organization is not None:
        Employment.objects.create(
            person=card,
            organization=organization,
            title=errors.run(clean_text, "title", data.get("title"), max_length=200) or "",
            started_on=None,
        )
    search.index_card(card)
    audit(action=Action.CREATE, record=card, actor=user, detail={"kind": card.kind, "owner": owner.pk, "team": team.pk if team else None})
    return card


def _visible_card_or_error(errors: Errors, user: User, name: str, card_id: Any, kind: str) -> Card | None:
    if isinstance(card_id, bool) or not str(card_id).isdigit():
        errors.add(name, "Expected a card id.")
        return None
    card = visible_to(user).filter(pk=int(card_id), kind=kind).first()
    if card is None:
        errors.add(name, f"Unknown {kind}.")
    return card


UPDATABLE = {
    "name", "given_name", "family_name", "local_name", "website", "industry", "size_band", "tier",
    "lifecycle_stage", "external_id", "social", "phones", "emails", "addresses", "owner", "team",
    "region",  # the region new phone numbers were typed in
}


@transaction.atomic
def update_card(*, user: User, card: Card, data: dict[str, Any], expected_version: int | None = None) -> Card:
    """Changes core fields of a card; with ``expected_version`` a concurrent change is refused."""
    unknown = set(data) - UPDATABLE
    if unknown:
        raise ValidationError({k: ["Unknown or read-only field."] for k in sorted(unknown)})
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    # Lock the row so two concurrent edits serialise and the version check is exact.
    locked = Card.objects.select_for_update().get(pk=card.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("The card changed since you loaded it.")
    before = _audited_fields(locked, with_points=any(k in data for k in ("phones", "emails", "addresses")))
    errors = Errors()
    merged = {
        "website": locked.website, "industry": locked.industry, "size_band": locked.size_band, "tier": locked.tier,
        "lifecycle_stage": locked.lifecycle_stage, "external_id": locked.external_id, "social": locked.social,
    }
    merged.update({k: v for k, v in data.items() if k in merged})
    fields = _common_fields(errors, merged)
    if locked.kind == Kind.ORGANIZATION:
        if "name" in data:
            name = errors.run(clean_text, "name", data["name"], required=True, max_length=300)
            if name:
                locked.display_name = name
    else:
        for part in ("given_name", "family_name", "local_name"):
            if part in data:
                setattr(locked, part, errors.run(clean_text, part, data[part], max_length=150) or "")
        display = person_display_name(locked.given_name, locked.family_name, locked.local_name)
        if not display:
            errors.add("given_name", "A person needs a given name, a family name or a local-script name.")
        locked.display_name = display[:300]
    replace_points = any(k in data for k in ("phones", "emails", "addresses"))
    points = None
    if replace_points:
        # Untouched lists are re-read as stored, each phone in its own region with its kind.
        current_phones = [{"number": p.e164, "region": p.region, "kind": p.kind} for p in locked.phones.all()]
        current_emails = [{"address": e.address, "kind": e.kind} for e in locked.emails.all()]
        current_addresses = list(locked.addresses.values("kind", "street", "city", "region", "postal_code", "country"))
        points = _contact_points(
            errors,
            data.get("phones", current_phones),
            data.get("emails", current_emails),
            data.get("addresses", current_addresses),
            data.get("region"),
        )
    if "owner" in data or "team" in data:
        owner, team = _resolve_owner_and_team(
            errors, user, data.get("owner", locked.owner_id), data.get("team", locked.team_id)
        )
        locked.owner, locked.team = owner, team
    stage_rule = ""
    if fields["lifecycle_stage"] and fields["lifecycle_stage"] != locked.lifecycle_stage:
        # Stage moves follow the funnel's rules whichever screen they come from.
        from rapport.funnel.services import check_manual_move

        try:
            stage_rule = check_manual_move(locked, fields["lifecycle_stage"], "").key
        except ValidationError as exc:
            for messages in (exc.errors.get("to"), exc.errors.get("reason")):
                for message in messages or []:
                    errors.add("lifecycle_stage", message)
    errors.raise_if_any()
    old_stage, old_tier = locked.lifecycle_stage, locked.tier
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.sort_name = fold(locked.display_name)[:300]
    locked.updated_at = timezone.now()
    locked.version = F("version") + 1
    if locked.tier != old_tier:
        locked.completeness = completeness_of(locked)
    locked.save()
    locked.refresh_from_db(fields=["version"])
    if points is not None:
        _save_contact_points(locked, points, replace=True)
    if locked.lifecycle_stage != old_stage:
        StageChange.objects.create(
            card=locked, from_stage=old_stage, to_stage=locked.lifecycle_stage, changed_by=user, reason="edited",
            rule=stage_rule,
        )
    search.index_card(locked)
    sync_card_copies(locked)
    after = _audited_fields(locked, with_points="phones" in before)
    record_changes(record=locked, actor=user, changes={k: (before[k], after[k]) for k in before})
    return locked


_AUDITED_COLUMNS = (
    "display_name", "given_name", "family_name", "local_name", "website", "industry", "size_band", "tier",
    "lifecycle_stage", "external_id", "social", "owner_id", "team_id",
)


def _audited_fields(card: Card, *, with_points: bool) -> dict[str, Any]:
    """The core fields whose changes the audit log records, as plain values."""
    values: dict[str, Any] = {name: getattr(card, name) for name in _AUDITED_COLUMNS}
    if with_points:
        values["phones"] = [p.e164 for p in card.phones.all()]
        values["emails"] = [e.address for e in card.emails.all()]
        values["addresses"] = [
            ", ".join(v for v in a if v)
            for a in card.addresses.values_list("street", "city", "region", "postal_code", "country")
        ]
    return values


@transaction.atomic
def archive_card(*, user: User, card: Card, archived: bool = True) -> Card:
    """Archives (or restores) a card: the everyday alternative to deleting."""
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    was_archived = card.archived_at is not None
    Card.objects.filter(pk=card.pk).update(
        archived_at=timezone.now() if archived else None, version=F("version") + 1, updated_at=timezone.now()
    )
    card.refresh_from_db()
    search.reindex_scope(card)
    sync_card_copies(card)
    if was_archived != archived:
        audit(action=Action.ARCHIVE if archived else Action.RESTORE, record=card, actor=user)
    return card


@transaction.atomic
def add_employment(*, user: User, person: Card, data: dict[str, Any]) -> Employment:
    """Records that a person works (or worked) at an organisation."""
    errors = Errors()
    organization = None
    if person.kind != Kind.PERSON:
        errors.add("person", "Only people have employments.")
    organization = _visible_card_or_error(errors, user, "organization", data.get("organization"), Kind.ORGANIZATION)
    title = errors.run(clean_text, "title", data.get("title"), max_length=200) or ""
    level = _choice(errors, "level", data.get("level"), Level.values)
    function = _choice(errors, "function", data.get("function"), Function.values)
    started = errors.run(parse_date, "started_on", data["started_on"]) if data.get("started_on") else None
    ended = errors.run(parse_date, "ended_on", data["ended_on"]) if data.get("ended_on") else None
    if started and ended and ended < started:
        errors.add("ended_on", "The end date is before the start date.")
    if not scope_for(user).may_write_card(person):
        raise PermissionDenied("Your role may not change cards.")
    errors.raise_if_any()
    assert organization is not None
    employment = Employment.objects.create(
        person=person, organization=organization, title=title, level=level, function=function,
        started_on=started, ended_on=ended,
    )
    audit(action=Action.CREATE, record=employment, actor=user,
          detail={"person": person.pk, "organization": organization.pk, "title": title})
    return employment


@transaction.atomic
def share_card(*, user: User, card: Card, with_user: User | None = None, with_team: Team | None = None) -> Share:
    """Shares a card with one more user or team. Only those who may see confidential items on it may share."""
    scope = scope_for(user)
    if not scope.may_see_confidential_on(card):
        raise PermissionDenied("Only the owner, their managers and admins may share a card.")
    if (with_user is None) == (with_team is None):
        raise ValidationError.single("__all__", "Share with exactly one user or one team.")
    if with_user is not None and (not with_user.is_active or with_user.pk == card.owner_id):
        raise ValidationError.single("user", "Share with an active colleague other than the owner.")
    share, created = Share.objects.get_or_create(card=card, user=with_user, team=with_team, defaults={"created_by": user})
    if created:
        audit(action=Action.PERMISSION, record=card, actor=user, field="shares",
              new={"user": with_user.pk if with_user else None, "team": with_team.pk if with_team else None})
    return share


@transaction.atomic
def unshare_card(*, user: User, card: Card, share_id: int) -> None:
    """Stops sharing a card with one user or team. The same people who may share may unshare."""
    if not scope_for(user).may_see_confidential_on(card):
        raise PermissionDenied("Only the owner, their managers and admins may change the sharing of a card.")
    share = Share.objects.filter(pk=share_id, card=card).first()
    if share is None:
        raise NotFound("share")
    old = {"user": share.user_id, "team": share.team_id}
    share.delete()
    audit(action=Action.PERMISSION, record=card, actor=user, field="shares", old=old)


# --- facts -----------------------------------------------------------------------------------


def _profile_entry(fact: Fact, item: InformationItem) -> dict[str, Any]:
    source = catalog.source_by_id(fact.source_id)
    return {
        "v": fact.value,
        "f": fact.id,
        "s": source.key if source else "",
        "c": fact.confidence,
        "ok": fact.verified,
        "at": fact.observed_at.isoformat(),
        "by": fact.recorded_by_id,
    }


def _best(facts: list[Fact]) -> Fact | None:
    """The current fact of an item: the latest verified one, else the most recent, most confident one."""
    if not facts:
        return None
    verified = [f for f in facts if f.verified]
    pool = verified or facts
    return max(pool, key=lambda f: (f.observed_at, f.confidence, f.id))


def completeness_percent(required: list[InformationItem], present: Container[str], tier: str) -> int:
    """Share of the tier's required items present, each weighted by how many tiers require it.

    An item every tier needs is basic: missing it counts more than missing one only tier A needs.
    """
    if not required:
        return 100 if tier else 0
    total = sum(max(1, len(item.required_for_tiers)) for item in required)
    have = sum(max(1, len(item.required_for_tiers)) for item in required if item.key in present)
    return round(100 * have / total)


def completeness_of(card: Card) -> int:
    return completeness_percent(catalog.required_items(card.tier, card.kind), card.profile or {}, card.tier)


def _card_copies(card: Card) -> dict[str, Any]:
    return {
        "kind": card.kind,
        "archived": card.archived_at is not None,
        "sort_name": card.sort_name,
        "owner_id": card.owner_id,
        "team_id": card.team_id,
    }


CopySync = Callable[[Card], None]
_copy_syncs: list[CopySync] = []


def register_copy_sync(sync: CopySync) -> None:
    """Lets an app that copies a card's owner and team onto its own rows (for fast lists by
    team or rep) keep them in step; called with the card whenever those may have changed."""
    if sync not in _copy_syncs:
        _copy_syncs.append(sync)


def sync_card_copies(card: Card) -> None:
    """Copies a card's name, archived flag, owner and team onto the rows that carry them for fast lists."""
    CurrentValue.objects.filter(card_id=card.pk).update(**_card_copies(card))
    for sync in _copy_syncs:
        sync(card)


def refresh_current_value(card: Card, item: InformationItem) -> None:
    """Re-derives one item of the card's profile from its facts and stores it denormalised."""
    facts = list(Fact.objects.filter(card=card, item=item))
    best = _best(facts)
    profile = dict(card.profile or {})
    if best is None:
        profile.pop(item.key, None)
        CurrentValue.objects.filter(card=card, item=item).delete()
    else:
        profile[item.key] = _profile_entry(best, item)
        CurrentValue.objects.update_or_create(
            card=card, item=item, defaults={"fact": best, "value_text": best.value_text, **_card_copies(card)}
        )
    card.profile = profile
    card.completeness = completeness_of(card)
    Card.objects.filter(pk=card.pk).update(
        profile=profile, completeness=card.completeness, updated_at=timezone.now(), version=F("version") + 1
    )
    card.refresh_from_db(fields=["version", "updated_at"])


def _check_item_clearance(user: User, card: Card, item: InformationItem) -> None:
    """Writing an item above the user's clearance is refused as if the item did not exist."""
    if item.sensitivity not in scope_for(user).sensitivities_on(card):
        raise ValidationError.single("item", f"Unknown catalog item {item.key!r}.")


@transaction.atomic
def add_fact(
    *,
    user: User,
    card: Card,
    item_key: Any,
    value: Any,
    source_key: Any,
    observed_at: Any = None,
    confidence: Any = None,
    note: Any = "",
    verified: bool = False,
    legal_basis: Any = None,
) -> Fact:
    """Records a fact about a card with its provenance and refreshes the card's current profile.

    A special-category item needs ``legal_basis`` ({basis, obtained_at, wording}); its value
    and note are sealed (encrypted) before they reach the database, and the value index holds
    a keyed hash so lists can still filter on it.
    """
    errors = Errors()
    item = catalog.items().get(item_key) if isinstance(item_key, str) else None
    if item is None:
        errors.add("item", f"Unknown catalog item {item_key!r}.")
    elif item.applies_to not in ("any", card.kind):
        errors.add("item", f"{item.key!r} does not apply to a {card.kind}.")
    else:
        _check_item_clearance(user, card, item)
    source = catalog.sources().get(source_key) if isinstance(source_key, str) else None
    if source is None:
        errors.add("source", f"Unknown information source {source_key!r}.")
    parsed: tuple[Any, str] | None = None
    if item is not None and "item" not in errors.errors:
        parsed = errors.run(parse_item_value, item, value)
        if parsed and item.type == ItemType.PERSON:
            if not visible_to(user).filter(pk=parsed[0], kind=Kind.PERSON).exists():
                errors.add("value", "Unknown person.")
    when = timezone.now()
    if observed_at not in (None, ""):
        when = errors.run(parse_observed_at, observed_at) or when
    if confidence in (None, ""):
        conf = source.default_confidence if source else 60
    elif isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 100:
        errors.add("confidence", "Expected a number from 0 to 100.")
        conf = 0
    else:
        conf = int(round(confidence * 100 if isinstance(confidence, float) and confidence <= 1 else confidence))
    note_text = errors.run(clean_text, "note", note, max_length=2000) or ""
    special = item is not None and item.sensitivity == Sensitivity.SPECIAL
    basis: LegalBasisIn | None = None
    if special:
        basis = errors.run(clean_legal_basis, legal_basis)
    elif legal_basis not in (None, {}, ""):
        errors.add("legal_basis", "Only special-category items take a legal basis.")
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    errors.raise_if_any()
    assert item is not None and source is not None and parsed is not None
    stored_value, value_text = parsed[0], parsed[1][:500]
    if special:
        stored_value, value_text = crypto.seal(stored_value), crypto.blind_index(item.key, value_text)
        note_text = crypto.seal_text(note_text)
    fact = Fact.objects.create(
        card=card,
        item=item,
        value=stored_value,
        value_text=value_text,
        source=source,
        recorded_by=user,
        observed_at=when,
        confidence=conf,
        verified=verified,
        verified_by=user if verified else None,
        verified_at=timezone.now() if verified else None,
        note=note_text,
    )
    refresh_current_value(card, item)
    if basis is not None:
        from rapport.privacy.services import record_special_basis

        record_special_basis(user=user, card=card, item_key=item.key, basis=basis, fact=fact)
    audit(action=Action.CREATE, record=fact, actor=user, field=item.key,
          new=REDACTED if special else parsed[0], detail={"card": card.pk, "source": source.key})
    return fact


@transaction.atomic
def verify_fact(*, user: User, fact: Fact) -> Fact:
    """Marks a fact verified; it becomes the card's current value for its item."""
    card = fact.card
    item = catalog.item_by_id(fact.item_id) or fact.item
    _check_item_clearance(user, card, item)
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    Fact.objects.filter(pk=fact.pk).update(verified=True, verified_by=user, verified_at=timezone.now())
    was_verified = fact.verified
    fact.refresh_from_db()
    refresh_current_value(card, item)
    audit(action=Action.UPDATE, record=fact, actor=user, field="verified", old=was_verified, new=True,
          detail={"card": card.pk})
    return fact

