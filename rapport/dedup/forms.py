"""Forms of the duplicate review pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import Kind
from rapport.dedup.models import Candidate, CandidateStatus


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Everyone"))] + list(Kind.choices))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=CandidateStatus.choices)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)


class MergeForm(forms.Form):
    """Which of the two cards survives the merge; the other is archived and can be restored by undo."""

    survivor = forms.TypedChoiceField(label=_("Keep"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, candidate: Candidate, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"survivor": candidate.left_id})
        super().__init__(*args, **kwargs)
        survivor = self.fields["survivor"]
        assert isinstance(survivor, forms.TypedChoiceField)
        survivor.choices = [
            (candidate.left_id, candidate.left.display_name),
            (candidate.right_id, candidate.right.display_name),
        ]
