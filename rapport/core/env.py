"""Typed helpers for reading settings from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return int(raw)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def rapport_home() -> Path:
    """Where the embedded database and local secrets live (``RAPPORT_HOME``)."""
    home = Path(env_str("RAPPORT_HOME") or Path.home() / ".local" / "share" / "rapport")
    home.mkdir(parents=True, exist_ok=True)
    return home
