"""The filter form of the audit page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.audit.models import Action


class AuditFilterForm(forms.Form):
    record = forms.CharField(label=_("Record"), required=False, max_length=140,
                             help_text=_("app.model or app.model:id, e.g. cards.card:12"))
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any"))] + list(Action.choices))
    since = forms.DateTimeField(label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(label=_("Until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
