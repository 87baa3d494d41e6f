"""Reason codes of the matching engine, in words of the user's language.

A reason is the evidence one field gave: "similar name 0.93", "same address", "date of birth
differs". Codes with a value carry the similarity of the two values (0..1), shown with two
decimals in the reader's number format.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _


def _labels() -> dict[str, str]:
    return {
        "same_name": _("same name"),
        "similar_name": _("similar name"),
        "different_name": _("different name"),
        "same_phone": _("same phone"),
        "same_phone_without_area_code": _("same phone number, one without area code"),
        "phone_differs": _("phone differs"),
        "same_email": _("same e-mail"),
        "email_differs": _("e-mail differs"),
        "same_tax_id": _("same tax id"),
        "tax_id_differs": _("tax id differs"),
        "same_birth_date": _("same date of birth"),
        "birth_date_close": _("date of birth nearly the same"),
        "birth_date_differs": _("date of birth differs"),
        "same_website": _("same website"),
        "website_differs": _("website differs"),
        "same_email_domain": _("same e-mail domain"),
        "same_address": _("same address"),
        "similar_address": _("similar address"),
        "address_differs": _("address differs"),
        "same_postal_code": _("same postcode"),
        "same_city": _("same town"),
        "different_place": _("another town"),
        "same_external_id": _("same external id"),
        "merged_by_hand": _("merged by hand"),
    }


def reason_label(code: str) -> str:
    """``"similar_name:0.93"`` → "similar name 0.93"; unknown codes are shown as they are."""
    name, _sep, value = code.partition(":")
    label = _labels().get(name, code)
    if value:
        try:
            return f"{label} {number_format(float(value), 2)}"
        except ValueError:
            return label
    return label


def reason_labels(codes: list[str] | tuple[str, ...]) -> list[str]:
    return [reason_label(c) for c in codes]
