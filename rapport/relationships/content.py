"""Shipped content of the relationships app: stages and their typical activities, the style
questionnaire and the coaching texts, read from data/*.yaml in four languages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rapport.core.i18n import SUPPORTED, pick_label

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class TypicalActivity:
    key: str
    stage: str
    kinds: tuple[str, ...]  # untagged activities of these kinds count as evidence too
    labels: dict[str, str]

    @property
    def label(self) -> str:
        return pick_label(self.labels)


@dataclass(frozen=True)
class StageContent:
    key: str
    labels: dict[str, str]
    meaning: dict[str, str]
    next_step: dict[str, str]
    typical: tuple[TypicalActivity, ...]

    @property
    def label(self) -> str:
        return pick_label(self.labels)

    @property
    def meaning_text(self) -> str:
        return pick_label(self.meaning)

    @property
    def next_step_text(self) -> str:
        return pick_label(self.next_step)


@dataclass(frozen=True)
class Question:
    key: str
    axis: str  # assertiveness or responsiveness
    labels: dict[str, str]
    options: tuple[tuple[str, dict[str, str]], ...]

    @property
    def label(self) -> str:
        return pick_label(self.labels)

    def choices(self) -> list[tuple[str, str]]:
        return [(value, pick_label(labels)) for value, labels in self.options]


def _read(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def stages() -> tuple[StageContent, ...]:
    result = []
    for raw in _read("stages.yaml")["stages"]:
        typical = tuple(
            TypicalActivity(key=t["key"], stage=raw["key"], kinds=tuple(t.get("kinds") or ()), labels=t["labels"])
            for t in raw["typical"]
        )
        result.append(StageContent(raw["key"], raw["labels"], raw["meaning"], raw["next_step"], typical))
    return tuple(result)


def stage(key: str) -> StageContent | None:
    return next((s for s in stages() if s.key == key), None)


@lru_cache(maxsize=1)
def typical_activities() -> dict[str, TypicalActivity]:
    return {t.key: t for s in stages() for t in s.typical}


@lru_cache(maxsize=1)
def questions() -> tuple[Question, ...]:
    return tuple(
        Question(q["key"], q["axis"], q["labels"], tuple((o["value"], o["labels"]) for o in q["options"]))
        for q in _read("questionnaire.yaml")["questions"]
    )


def shipped_coaching() -> dict[str, dict[str, dict[str, str]]]:
    """{style: {language: {field: text}}} as shipped."""
    data: dict[str, dict[str, dict[str, str]]] = _read("styles.yaml")["styles"]
    return data


COACHING_FIELDS = ("how_to_open", "emphasise", "avoid", "evidence", "question_words")


def load_coaching() -> int:
    """Creates the shipped coaching rows that do not exist yet; returns how many were added."""
    from rapport.relationships.models import StyleCoaching

    existing = set(StyleCoaching.objects.values_list("style", "language"))
    rows = [
        StyleCoaching(style=style, language=lang, **{f: texts[f] for f in COACHING_FIELDS})
        for style, by_lang in shipped_coaching().items()
        for lang, texts in by_lang.items()
        if lang in SUPPORTED and (style, lang) not in existing
    ]
    StyleCoaching.objects.bulk_create(rows)
    return len(rows)
