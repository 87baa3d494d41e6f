"""The form for logging a call, visit or note from a card page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.activities.models import ActivityKind


class ActivityForm(forms.Form):
    """What happened with the customer; the activity service validates and records it."""

    kind = forms.ChoiceField(label=_("What"), choices=ActivityKind.choices, initial=ActivityKind.CALL)
    summary = forms.CharField(
        label=_("Summary"), required=False, max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Called about the spring order")}),
    )
    details = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    occurred_at = forms.CharField(
        label=_("When"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now."),
    )

    def service_data(self, card_id: int) -> dict[str, Any]:
        return {
            "kind": self.data.get("kind", ""),
            "summary": self.data.get("summary", ""),
            "details": self.data.get("details", ""),
            "occurred_at": (self.data.get("occurred_at") or "").strip() or None,
            "cards": [card_id],
        }
