"""Shipped content of the visits app, read from data/visits.yaml in four languages: the catalog
of visit objectives (sales and administrative, with what a target is counted in), the sales
tools to bring and the retail and promotion checklist."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rapport.core.i18n import pick_label

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Entry:
    key: str
    labels: dict[str, str]
    group: str = ""
    target: str = "none"  # "amount": the objective has a money target

    @property
    def label(self) -> str:
        return pick_label(self.labels)

    @property
    def has_amount(self) -> bool:
        return self.target == "amount"


@lru_cache(maxsize=1)
def _document() -> dict[str, list[dict[str, object]]]:
    with (DATA_DIR / "visits.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _entries(section: str) -> dict[str, Entry]:
    return {
        str(row["key"]): Entry(
            key=str(row["key"]),
            labels=dict(row["labels"]),  # type: ignore[call-overload]
            group=str(row.get("group", "")),
            target=str(row.get("target", "none")),
        )
        for row in _document()[section]
    }


@lru_cache(maxsize=1)
def objectives() -> dict[str, Entry]:
    return _entries("objectives")


@lru_cache(maxsize=1)
def tools() -> dict[str, Entry]:
    return _entries("tools")


@lru_cache(maxsize=1)
def retail_checks() -> dict[str, Entry]:
    return _entries("retail_checks")


def objective_label(key: str) -> str:
    entry = objectives().get(key)
    return entry.label if entry else key
