"""API schemas for the information catalog."""

from __future__ import annotations

from ninja import Schema


class ChoiceOut(Schema):
    key: str
    labels: dict[str, str]


class ItemOut(Schema):
    key: str
    labels: dict[str, str]
    type: str
    block: str
    sensitivity: str
    required_for_tiers: list[str]
    cost: int
    applies_to: str
    choices: list[ChoiceOut]


class ItemList(Schema):
    items: list[ItemOut]
    count: int


class SourceOut(Schema):
    key: str
    labels: dict[str, str]
    group: str
    default_confidence: int


class SourceList(Schema):
    items: list[SourceOut]
    count: int
