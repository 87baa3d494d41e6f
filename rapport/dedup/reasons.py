"""Reason codes of the matching engine, in words of the user's language."""

from __future__ import annotations

from django.utils.translation import gettext as _


def reason_label(code: str) -> str:
    """``"similar_name:0.93"`` → "similar name (93 %)"; unknown codes are shown as they are."""
    name, _sep, value = code.partition(":")
    labels = {
        "same_name": _("same name"),
        "similar_name": _("similar name"),
        "different_name": _("different name"),
        "same_phone": _("same phone"),
        "same_email": _("same e-mail"),
        "same_tax_id": _("same tax id"),
        "tax_id_differs": _("tax id differs"),
        "same_birth_date": _("same date of birth"),
        "birth_date_close": _("date of birth nearly the same"),
        "birth_date_differs": _("date of birth differs"),
        "same_website": _("same website"),
        "same_email_domain": _("same e-mail domain"),
        "same_address": _("same address"),
        "same_external_id": _("same external id"),
        "merged_by_hand": _("merged by hand"),
    }
    label = labels.get(name, code)
    if value:
        try:
            return f"{label} ({round(float(value) * 100)} %)"
        except ValueError:
            return label
    return label


def reason_labels(codes: list[str] | tuple[str, ...]) -> list[str]:
    return [reason_label(c) for c in codes]
