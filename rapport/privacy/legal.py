"""Which legal bases may justify special-category items, and checking one given with a fact.

Kept apart from ``services`` so the card services can call it without importing the whole
privacy domain (export, erasure) they do not need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from rapport.core.errors import ValidationError
from rapport.privacy.models import Basis

MAX_WORDING = 2000


@dataclass(frozen=True)
class LegalBasisIn:
    basis: str
    obtained_at: dt.date | None
    wording: str


def special_bases() -> list[str]:
    """The bases an administrator allows for special items (``RAPPORT_SPECIAL_BASES``)."""
    allowed = list(getattr(settings, "RAPPORT_SPECIAL_BASES", []) or [Basis.EXPLICIT_CONSENT.value])
    return [b for b in allowed if b in Basis.values]


def clean_legal_basis(raw: Any, *, field: str = "legal_basis", special: bool = True) -> LegalBasisIn:
    """A legal basis given with a fact or a consent; every problem names its sub-field."""
    if raw is None or raw == "" or raw == {}:
        raise ValidationError.single(
            field, "Special-category items need a legal basis: explicit consent with its date and wording, "
            "or another basis an administrator allows."
        )
    if not isinstance(raw, dict):
        raise ValidationError.single(field, "Expected an object {basis, obtained_at, wording}.")
    errors: dict[str, list[str]] = {}
    unknown = set(raw) - {"basis", "obtained_at", "wording"}
    if unknown:
        errors[field] = [f"Unknown fields: {', '.join(sorted(map(str, unknown)))}."]
    basis = raw.get("basis")
    allowed = special_bases() if special else list(Basis.values)
    if not isinstance(basis, str) or basis not in allowed:
        errors[f"{field}.basis"] = [f"{basis!r} is not one of: {', '.join(allowed)}."]
    obtained: dt.date | None = None
    raw_date = raw.get("obtained_at")
    if raw_date not in (None, ""):
        if isinstance(raw_date, dt.datetime):
            obtained = raw_date.date()
        elif isinstance(raw_date, dt.date):
            obtained = raw_date
        elif isinstance(raw_date, str) and len(raw_date) <= 40:
            try:
                obtained = dt.date.fromisoformat(raw_date[:10])
            except ValueError:
                errors[f"{field}.obtained_at"] = ["Expected a date (YYYY-MM-DD)."]
        else:
            errors[f"{field}.obtained_at"] = ["Expected a date (YYYY-MM-DD)."]
        if obtained and obtained > timezone.localdate():
            errors[f"{field}.obtained_at"] = ["The date is in the future."]
    wording = raw.get("wording", "")
    if wording is None:
        wording = ""
    if not isinstance(wording, str):
        errors[f"{field}.wording"] = ["Expected text."]
        wording = ""
    wording = wording.strip()
    if len(wording) > MAX_WORDING:
        errors[f"{field}.wording"] = [f"At most {MAX_WORDING} characters."]
    if basis in (Basis.EXPLICIT_CONSENT, Basis.CONSENT):
        if obtained is None and f"{field}.obtained_at" not in errors:
            errors[f"{field}.obtained_at"] = ["Consent needs the date it was given."]
        if not wording and f"{field}.wording" not in errors:
            errors[f"{field}.wording"] = ["Consent needs the wording the person agreed to."]
    if errors:
        raise ValidationError(errors)
    assert isinstance(basis, str)
    return LegalBasisIn(basis=basis, obtained_at=obtained, wording=wording)
