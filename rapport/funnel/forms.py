"""Forms of the funnel panel and report filters; they parse input, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.funnel.models import Authority, Budget, Intent, Power, Qualification, Timeframe
from rapport.funnel.selectors import ReportFilter



def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """``form.fields[name]`` as the choice field it is, to set its choices for this request."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field

class StageMoveForm(forms.Form):
    to = forms.ChoiceField(label=_("Move to"))
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "to").choices = choices


class QualificationForm(forms.Form):
    intent = forms.ChoiceField(label=_("Purchase intent"), choices=Intent.choices, required=False)
    power = forms.ChoiceField(label=_("Purchasing power"), choices=Power.choices, required=False)
    timeframe = forms.ChoiceField(label=_("Timeframe"), choices=Timeframe.choices, required=False)
    budget = forms.ChoiceField(label=_("Budget"), choices=Budget.choices, required=False)
    authority = forms.ChoiceField(label=_("Decision maker"), choices=Authority.choices, required=False)
    check_back_on = forms.DateField(label=_("Check back on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, instance_data: Qualification | None = None, **kwargs: Any) -> None:
        if instance_data is not None:
            kwargs.setdefault("initial", {f: getattr(instance_data, f) for f in self.base_fields})
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ProspectingForm(forms.Form):
    found_by = forms.ChoiceField(label=_("Found by"), required=False)
    referred_by = forms.IntegerField(label=_("Referred by"), required=False, min_value=1)  # picked by name on the page

    def __init__(self, *args: Any, methods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "found_by").choices = [("", "—"), *methods]


class ReportFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False,
        choices=[("", _("All")), ("organization", _("Organisations")), ("person", _("People"))],
    )
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("Rep"), required=False, coerce=int, empty_value=None)
    method = forms.ChoiceField(label=_("Prospecting method"), required=False)
    segment = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None)
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, teams: list[tuple[int, str]], reps: list[tuple[int, str]],
                 methods: list[tuple[str, str]], segments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "team").choices = [("", _("All")), *teams]
        choice_field(self, "owner").choices = [("", _("All")), *reps]
        choice_field(self, "method").choices = [("", _("All")), *methods]
        choice_field(self, "segment").choices = [("", _("All")), *segments]

    def report_filter(self) -> ReportFilter:
        d = self.cleaned_data
        return ReportFilter(kind=d.get("kind") or "", team=d.get("team"), owner=d.get("owner"),
                            method=d.get("method") or "", segment=d.get("segment"), as_of=d.get("as_of"))
