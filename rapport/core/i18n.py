"""Helpers for catalog content stored with labels in each supported language."""

from __future__ import annotations

from django.utils.translation import get_language

SUPPORTED = ("en", "es", "zh-hans", "ro")


def normalise_language(code: str | None) -> str:
    code = (code or "en").lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-hans"
    base = code.split("-")[0]
    return base if base in SUPPORTED else "en"


def pick_label(labels: dict[str, str] | None, language: str | None = None) -> str:
    """The label in the active (or given) language, falling back to English, then any."""
    if not labels:
        return ""
    lang = normalise_language(language or get_language())
    return labels.get(lang) or labels.get("en") or next(iter(labels.values()), "")
