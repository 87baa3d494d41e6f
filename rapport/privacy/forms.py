"""Forms of the privacy pages: recording consent on a card."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.privacy.models import Basis, Purpose


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    basis = forms.ChoiceField(label=_("Legal basis"), choices=Basis.choices)
    obtained_at = forms.DateField(label=_("Obtained on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    wording = forms.CharField(label=_("Wording the person agreed to"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, special: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not special:
            # The special-category purpose is for users with clearance only.
            purpose = self.fields["purpose"]
            assert isinstance(purpose, forms.ChoiceField)
            purpose.choices = [c for c in Purpose.choices if c[0] != Purpose.SPECIAL]

    def legal_basis(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"basis": data["basis"], "obtained_at": data.get("obtained_at"), "wording": data.get("wording") or ""}


# Service error keys → the fields below, for ``cards.forms.add_service_errors``.
LEGAL_BASIS_ERROR_FIELDS = {
    "legal_basis": "legal_basis",
    "legal_basis.basis": "legal_basis",
    "legal_basis.obtained_at": "legal_basis_obtained_at",
    "legal_basis.wording": "legal_basis_wording",
}


def add_legal_basis_fields(form: forms.Form) -> None:
    """Adds the legal-basis fields a special-category fact needs to a fact form."""
    from rapport.privacy.legal import special_bases

    labels = dict(Basis.choices)
    form.fields["legal_basis"] = forms.ChoiceField(
        label=_("Legal basis"), required=False,
        choices=[("", _("Not a special-category item"))] + [(b, labels[b]) for b in special_bases()],
        help_text=_("Special-category items (health, religion, politics…) are recorded only with a legal basis."),
    )
    form.fields["legal_basis_obtained_at"] = forms.DateField(
        label=_("Consent given on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    form.fields["legal_basis_wording"] = forms.CharField(
        label=_("Wording the person agreed to"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def legal_basis_from(form: forms.Form) -> dict[str, Any] | None:
    """What the form's legal-basis fields hold, as the service expects it; None when left empty."""
    data = form.cleaned_data
    if not data.get("legal_basis"):
        return None
    obtained = data.get("legal_basis_obtained_at")
    return {
        "basis": data["legal_basis"],
        "obtained_at": obtained.isoformat() if obtained else None,
        "wording": data.get("legal_basis_wording") or "",
    }
