"""API schemas of information quality: explicit fields, separate In and Out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema

from rapport.quality.selectors import Completeness, Conflict, Suggestion


class ConflictFactOut(Schema):
    fact_id: int
    value: str
    source: str
    confidence: int
    verified: bool
    observed_at: dt.datetime
    recorded_by: str
    current: bool


class ConflictOut(Schema):
    card_id: int
    item: str
    label: str
    facts: list[ConflictFactOut]

    @staticmethod
    def from_conflict(c: Conflict) -> dict[str, Any]:
        return {"card_id": c.card_id, "item": c.item.key, "label": c.item.label, "facts": [f.__dict__ for f in c.facts]}


class ConflictList(Schema):
    items: list[ConflictOut]


class ResolveIn(Schema):
    fact: int


class SuggestionOut(Schema):
    item: str
    label: str
    value: float
    cost: int
    worth: float
    required: bool

    @staticmethod
    def from_suggestion(s: Suggestion) -> dict[str, Any]:
        return {"item": s.item.key, "label": s.item.label, "value": s.value, "cost": s.cost, "worth": s.worth, "required": s.required}


class CompletenessOut(Schema):
    card_id: int
    tier: str
    percent: int
    have: int
    required: int
    missing: list[str]
    collect_next: list[SuggestionOut]

    @staticmethod
    def build(card_id: int, tier: str, c: Completeness, suggestions: list[Suggestion]) -> dict[str, Any]:
        return {
            "card_id": card_id, "tier": tier, "percent": c.percent, "have": c.have, "required": c.required,
            "missing": [i.key for i in c.missing], "collect_next": [SuggestionOut.from_suggestion(s) for s in suggestions],
        }


class IncompleteOut(Schema):
    card_id: int
    display_name: str
    tier: str
    percent: int
    missing: int


class IncompleteList(Schema):
    items: list[IncompleteOut]
