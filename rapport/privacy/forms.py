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
            self.fields["purpose"].choices = [c for c in Purpose.choices if c[0] != Purpose.SPECIAL]

    def legal_basis(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"basis": data["basis"], "obtained_at": data.get("obtained_at"), "wording": data.get("wording") or ""}
