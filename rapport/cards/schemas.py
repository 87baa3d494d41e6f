"""API schemas for cards and facts: explicit fields, separate In / Out / Patch."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from rapport.cards.models import Card, Fact
from rapport.privacy.crypto import unseal, unseal_text

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


class Ref(Schema):
    id: int
    name: str


class PhoneOut(Schema):
    e164: str
    raw: str
    region: str
    kind: str


class EmailOut(Schema):
    address: str
    kind: str


class ProfileValueOut(Schema):
    value: Any
    source: str
    confidence: int
    verified: bool
    observed_at: str
    fact_id: int


class CardOut(Schema):
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
    def from_card(card: Card) -> dict[str, Any]:
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
            "phones": [{"e164": p.e164, "raw": p.raw, "region": p.region, "kind": p.kind} for p in card.phones.all()],
            "emails": [{"address": e.address, "kind": e.kind} for e in card.emails.all()],
            "external_id": card.external_id,
            "completeness": card.completeness,
            "archived": card.archived_at is not None,
            "version": card.version,
            "created_at": card.created_at,
            "updated_at": card.updated_at,
        }


class CardDetailOut(CardOut):
    addresses: list[AddressSchema]
    social: list[SocialSchema]
    profile: dict[str, ProfileValueOut]


class PossibleDuplicateOut(Schema):
    id: int
    display_name: str
    score: float
    reasons: list[str]
    candidate_id: int | None = None


class CardCreatedOut(CardDetailOut):
    possible_duplicates: list[PossibleDuplicateOut] = Field(
        default_factory=list, description="Existing cards this one looks like: a warning, the card is created"
    )


class CardList(Schema):
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
