"""API schemas for cards and facts: explicit fields, separate In / Out / Patch."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

from rapport.cards.models import Card, Fact
from rapport.privacy.crypto import unseal, unseal_text

if TYPE_CHECKING:
    from rapport.cards.selectors import Contacts

PhoneIn = str | dict[str, str]
EmailIn = str | dict[str, str]
# Input schemas refuse fields they do not declare (422): ids, versions, audit columns and
# anything else a client might try to set are never silently taken or silently dropped.
STRICT = ConfigDict(extra="forbid")


class AddressSchema(Schema):
    model_config = STRICT

    kind: str = "office"
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


class SocialSchema(Schema):
    model_config = STRICT

    network: str = ""
    url: str


class OrganizationIn(Schema):
    model_config = STRICT

    name: str
    website: str | None = None
    phones: list[PhoneIn] | None = None
    emails: list[EmailIn] | None = None
    addresses: list[AddressSchema] | None = None
    social: list[SocialSchema] | None = None
    industry: str | None = None
    size_band: str | None = None
    tier: str | None = None
    lifecycle_stage: str | None = None
    region: str | None = Field(None, description="Region phone numbers were typed in (ISO 3166), e.g. MX")
    owner: int | None = None
    team: int | None = None
    external_id: str | None = None


class PersonIn(Schema):
    model_config = STRICT

    given_name: str = ""
    family_name: str = ""
    local_name: str | None = None
    phones: list[PhoneIn] | None = None
    emails: list[EmailIn] | None = None
    addresses: list[AddressSchema] | None = None
    social: list[SocialSchema] | None = None
    organization: int | None = None
    title: str | None = None
    industry: str | None = None
    tier: str | None = None
    lifecycle_stage: str | None = None
    region: str | None = None
    owner: int | None = None
    team: int | None = None
    external_id: str | None = None


class CardPatch(Schema):
    model_config = STRICT

    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    local_name: str | None = None
    website: str | None = None
    phones: list[PhoneIn] | None = None
    emails: list[EmailIn] | None = None
    addresses: list[AddressSchema] | None = None
    social: list[SocialSchema] | None = None
    industry: str | None = None
    size_band: str | None = None
    tier: str | None = None
    lifecycle_stage: str | None = None
    region: str | None = None
    owner: int | None = None
    team: int | None = None
    external_id: str | None = None


class Out(BaseModel):
    """An answer this module builds as a dict, field by field: validated by pydantic alone.

    ninja's ``Schema`` wraps every object it validates (each card of a list, each of its phones,
    owners and teams) in an attribute reader written in Python, which costs a search answer of 20
    cards more than its queries; the fields, their order, the JSON and the OpenAPI schema are the
    same. Reading attributes of objects still works (``from_attributes``).
    """

    model_config = ConfigDict(from_attributes=True)


class Ref(Out):
    id: int
    name: str


class PhoneOut(Out):
    e164: str
    raw: str
    region: str
    kind: str


class EmailOut(Out):
    address: str
    kind: str


class ProfileValueOut(Out):
    value: Any
    source: str
    confidence: int
    verified: bool
    observed_at: str
    fact_id: int


class CardOut(Out):
    id: int
    kind: str
    name: str
    given_name: str
    family_name: str
    local_name: str
    website: str
    industry: str
    size_band: str
    tier: str
    lifecycle_stage: str
    owner: Ref
    team: Ref | None
    phones: list[PhoneOut]
    emails: list[EmailOut]
    external_id: str
    completeness: int
    archived: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def from_card(card: Card, contacts: Contacts | None = None) -> dict[str, Any]:
        """The answer for a card (``owner`` and ``team`` selected with it); its phones and e-mails
        from ``contacts`` when given, else from the card's relations (prefetched by lists)."""
        return {
            "id": card.id,
            "kind": card.kind,
            "name": card.display_name,
            "given_name": card.given_name,
            "family_name": card.family_name,
            "local_name": card.local_name,
            "website": card.website,
            "industry": card.industry,
            "size_band": card.size_band,
            "tier": card.tier,
            "lifecycle_stage": card.lifecycle_stage,
            "owner": {"id": card.owner_id, "name": card.owner.get_username()},
            "team": {"id": card.team_id, "name": card.team.name} if card.team_id and card.team else None,
            "phones": contacts.phones if contacts is not None else [
                {"e164": p.e164, "raw": p.raw, "region": p.region, "kind": p.kind} for p in card.phones.all()
            ],
            "emails": contacts.emails if contacts is not None else [
                {"address": e.address, "kind": e.kind} for e in card.emails.all()
            ],
            "external_id": card.external_id,
            "completeness": card.completeness,
            "archived": card.archived_at is not None,
            "version": card.version,
            "created_at": card.created_at,
            "updated_at": card.updated_at,
        }


    @staticmethod
    def from_row(row: dict[str, Any]) -> dict[str, Any]:
        """The same answer from a row of ``selectors.card_rows``."""
        contacts = row["contacts"]
        return {
            "id": row["id"],
            "kind": row["kind"],
            "name": row["display_name"],
            "given_name": row["given_name"],
            "family_name": row["family_name"],
            "local_name": row["local_name"],
            "website": row["website"],
            "industry": row["industry"],
            "size_band": row["size_band"],
            "tier": row["tier"],
            "lifecycle_stage": row["lifecycle_stage"],
            "owner": {"id": row["owner_id"], "name": row["owner__username"]},
            "team": {"id": row["team_id"], "name": row["team__name"]} if row["team_id"] and row["team__name"] is not None else None,
            "phones": contacts.phones,
            "emails": contacts.emails,
            "external_id": row["external_id"],
            "completeness": row["completeness"],
            "archived": row["archived_at"] is not None,
            "version": row["version"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }


class CardDetailOut(CardOut):
    addresses: list[AddressSchema]
    social: list[SocialSchema]
    profile: dict[str, ProfileValueOut]


class PossibleDuplicateOut(Out):
    id: int
    display_name: str
    score: float
    reasons: list[str]
    candidate_id: int | None = None


class CardCreatedOut(CardDetailOut):
    possible_duplicates: list[PossibleDuplicateOut] = Field(
        default_factory=list, description="Existing cards this one looks like: a warning, the card is created"
    )


class CardList(Out):
    items: list[CardOut]
    count: int
    count_exact: bool = True  # false when the list has more cards than the API counts


class LegalBasisIn(Schema):
    model_config = STRICT

    basis: str = Field(..., max_length=24, description="explicit_consent, or another basis an administrator allows")
    obtained_at: str | None = Field(None, max_length=40, description="Date consent was given (YYYY-MM-DD)")
    wording: str | None = Field(None, max_length=2000, description="The wording the person agreed to")


class FactIn(Schema):
    model_config = STRICT

    item: str
    value: Any
    source: str
    observed_at: str | None = None
    confidence: float | None = None
    note: str | None = None
    legal_basis: LegalBasisIn | None = Field(
        None, description="Required for special-category items: explicit consent (with date and wording) or another allowed basis"
    )


class FactOut(Schema):
    id: int
    item: str
    value: Any
    source: str
    recorded_by: str
    observed_at: dt.datetime
    recorded_at: dt.datetime
    confidence: int
    verified: bool
    note: str

    @staticmethod
    def from_fact(fact: Fact) -> dict[str, Any]:
        return {
            "id": fact.id,
            "item": fact.item.key,
            "value": unseal(fact.value),
            "source": fact.source.key,
            "recorded_by": fact.recorded_by.get_username(),
            "observed_at": fact.observed_at,
            "recorded_at": fact.recorded_at,
            "confidence": fact.confidence,
            "verified": fact.verified,
            "note": unseal_text(fact.note),
        }


class FactList(Schema):
    items: list[FactOut]
    count: int


class TimelineEntryOut(Schema):
    at: dt.datetime
    type: Literal["activity", "fact", "stage"]
    kind: str
    title: str
    detail: str
    by: str
    ref_id: int
    rule: str = ""


class TimelineOut(Schema):
    items: list[TimelineEntryOut]
    count: int


class EmploymentIn(Schema):
    model_config = STRICT

    organization: int
    title: str | None = None
    level: str | None = None
    function: str | None = None
    started_on: str | None = None
    ended_on: str | None = None


class EmploymentOut(Schema):
    id: int
    person: Ref
    organization: Ref
    title: str
    level: str
    function: str
    started_on: dt.date | None
    ended_on: dt.date | None
    current: bool


class EmploymentList(Schema):
    items: list[EmploymentOut]
    count: int
