"""Shipped content of the deals app: the six steps with their entry and exit signals and four
actions, the customer's buying stages, and the reasons deals are won or lost, read from
data/*.yaml in four languages. Exit checklists live in the database (``StepSignal``) so admins
can edit them; ``load_signals`` copies the shipped ones in."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rapport.core.i18n import pick_label

DATA_DIR = Path(__file__).resolve().parent / "data"

Labels = dict[str, str]


@dataclass(frozen=True)
class StepContent:
    key: str
    labels: Labels
    entry: Labels
    exit_text: Labels
    actions: tuple[Labels, ...]
    exit: tuple[dict[str, Any], ...]
    buying_signals: tuple[Labels, ...] = ()
    upsell: tuple[Labels, ...] = ()

    @property
    def label(self) -> str:
        return pick_label(self.labels)

    @property
    def entry_label(self) -> str:
        return pick_label(self.entry)

    @property
    def exit_label(self) -> str:
        return pick_label(self.exit_text)

    @property
    def action_labels(self) -> list[str]:
        return [pick_label(a) for a in self.actions]

    @property
    def buying_signal_labels(self) -> list[str]:
        return [pick_label(a) for a in self.buying_signals]

    @property
    def upsell_labels(self) -> list[str]:
        return [pick_label(a) for a in self.upsell]


@dataclass(frozen=True)
class BuyingStageContent:
    key: str
    labels: Labels
    text: Labels

    @property
    def label(self) -> str:
        return pick_label(self.labels)

    @property
    def description(self) -> str:
        return pick_label(self.text)


def _read(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def steps() -> tuple[StepContent, ...]:
    return tuple(
        StepContent(
            key=raw["key"],
            labels=raw["labels"],
            entry=raw["entry"],
            exit_text=raw["exit_text"],
            actions=tuple(raw["actions"]),
            exit=tuple(raw["exit"]),
            buying_signals=tuple(raw.get("buying_signals") or ()),
            upsell=tuple(raw.get("upsell") or ()),
        )
        for raw in _read("steps.yaml")["steps"]
    )


def step(key: str) -> StepContent:
    return next(s for s in steps() if s.key == key)


@lru_cache(maxsize=1)
def buying_stages() -> tuple[BuyingStageContent, ...]:
    return tuple(BuyingStageContent(raw["key"], raw["labels"], raw["text"]) for raw in _read("steps.yaml")["buying_stages"])


@lru_cache(maxsize=1)
def _reasons() -> dict[str, dict[str, Labels]]:
    data = _read("reasons.yaml")
    return {outcome: {r["key"]: r["labels"] for r in data[outcome]} for outcome in ("won", "lost")}


def reasons(outcome: str) -> list[tuple[str, str]]:
    """(key, label) of the reasons for closing as ``won`` or ``lost``, in the reader's language."""
    return [(key, pick_label(labels)) for key, labels in _reasons().get(outcome, {}).items()]


def reason_label(outcome: str, key: str) -> str:
    return pick_label(_reasons().get(outcome, {}).get(key)) or key


def load_signals() -> int:
    """Creates the shipped exit-checklist items that do not exist yet; returns how many were
    added. Items already in the database keep the labels admins gave them."""
    from rapport.deals.models import StepSignal

    existing = set(StepSignal.objects.values_list("step", "key"))
    rows = [
        StepSignal(step=s.key, key=item["key"], kind=item.get("kind", "manual"), labels=item["labels"], position=i)
        for s in steps()
        for i, item in enumerate(s.exit)
        if (s.key, item["key"]) not in existing
    ]
    StepSignal.objects.bulk_create(rows)
    return len(rows)
