"""The filter form of the audit page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.audit.models import Action


class AuditFilterForm(forms.Form):
    record = forms.CharField(label=_("Card number"), required=False, max_length=140,
                             help_text=_("As in the card's address: 12 for /cards/12/."))
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any"))] + list(Action.choices))
    since = forms.DateTimeField(label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(label=_("Until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean_record(self) -> str:
        # The page asks for a card's number; the API's "app.model:id" form is still understood.
        value = (self.cleaned_data.get("record") or "").strip()
        return f"cards.card:{value}" if value.isdigit() else value
