"""API schemas of the privacy endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from rapport.privacy.models import LegalBasis

STRICT = ConfigDict(extra="forbid")


class LegalBasisBody(Schema):
    model_config = STRICT

    basis: str = Field(..., max_length=24)
    obtained_at: str | None = Field(None, max_length=40)
    wording: str | None = Field(None, max_length=2000)


class ConsentIn(Schema):
    model_config = STRICT

    purpose: str = Field(..., max_length=16, description="sales, marketing, profiling or special")
    legal_basis: LegalBasisBody


class ConsentOut(Schema):
    id: int
    purpose: str
    item: str
    basis: str
    obtained_at: dt.date | None
    wording: str
    status: str
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_at: dt.datetime | None

    @staticmethod
    def from_row(row: LegalBasis) -> dict[str, Any]:
        return {
            "id": row.pk, "purpose": row.purpose, "item": row.item_key, "basis": row.basis,
            "obtained_at": row.obtained_at, "wording": row.wording, "status": row.status,
            "recorded_by": row.recorded_by.get_username() if row.recorded_by else "",
            "recorded_at": row.recorded_at, "withdrawn_at": row.withdrawn_at,
        }


class ConsentList(Schema):
    items: list[ConsentOut]
    count: int


class EraseIn(Schema):
    model_config = STRICT

    confirm: bool = Field(..., description="Must be true: erasure cannot be undone")


class EraseOut(Schema):
    pseudonym: str
    summary: dict[str, int]


class TombstoneQuery(Schema):
    model_config = STRICT

    emails: list[str] = Field(default_factory=list, max_length=50)
    phones: list[str] = Field(default_factory=list, max_length=50)
    external_ids: list[str] = Field(default_factory=list, max_length=50)


class TombstoneOut(Schema):
    tombstoned: bool
