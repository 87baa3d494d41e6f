"""The segment builder: one field per condition, so nobody writes a query language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import SizeBand, Stage, Tier
from rapport.segments.models import Segment

YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
DIMENSION_LABELS = {
    "likely": _("Likely customer (not lost, not without intent)"),
    "buying": _("Buying customer (not only a visitor)"),
    "familiar": _("Familiar (has bought before)"),
    "frequent": _("Frequent buyer"),
    "priority": _("Priority (target or tier A)"),
}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]



def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """``form.fields[name]`` as the choice field it is, to set its choices for this request."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field

class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Both")), ("organization", _("Organisations")), ("person", _("People"))]
    )
    share_with = forms.TypedChoiceField(label=_("Shared with"), required=False, coerce=int, empty_value=None)
    stage = forms.MultipleChoiceField(label=_("Stage"), required=False, choices=Stage.choices, widget=forms.CheckboxSelectMultiple)
    tier = forms.MultipleChoiceField(
        label=_("Tier"), required=False, choices=[*Tier.choices, ("", _("No tier"))], widget=forms.CheckboxSelectMultiple
    )
    # Tick boxes rather than <select multiple>: no Ctrl-click, and usable with a thumb.
    owner = forms.TypedMultipleChoiceField(label=_("Owner"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple)
    team = forms.TypedMultipleChoiceField(label=_("Team"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple)
    method = forms.MultipleChoiceField(label=_("Prospecting method"), required=False, widget=forms.CheckboxSelectMultiple)
    size_band = forms.MultipleChoiceField(label=_("Size"), required=False, choices=SizeBand.choices, widget=forms.CheckboxSelectMultiple)
    industry = forms.CharField(label=_("Industries (comma separated)"), max_length=1000, required=False)
    country = forms.CharField(label=_("Countries (two-letter codes such as ES, MX, CN; comma separated)"), max_length=600, required=False)
    region = forms.CharField(label=_("Region"), max_length=120, required=False)
    referred = forms.ChoiceField(label=_("Referred by someone"), choices=YES_NO, required=False)
    created_from = forms.DateField(label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("Created until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    updated_from = forms.DateField(label=_("Changed from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    updated_to = forms.DateField(label=_("Changed until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    likely = forms.ChoiceField(label=DIMENSION_LABELS["likely"], choices=YES_NO, required=False)
    buying = forms.ChoiceField(label=DIMENSION_LABELS["buying"], choices=YES_NO, required=False)
    familiar = forms.ChoiceField(label=DIMENSION_LABELS["familiar"], choices=YES_NO, required=False)
    frequent = forms.ChoiceField(label=DIMENSION_LABELS["frequent"], choices=YES_NO, required=False)
    priority = forms.ChoiceField(label=DIMENSION_LABELS["priority"], choices=YES_NO, required=False)
    item = forms.ChoiceField(label=_("Has information item"), required=False)
    item_value = forms.CharField(label=_("with value (optional)"), max_length=500, required=False)

    def __init__(self, *args: Any, teams: list[tuple[int, str]], users: list[tuple[int, str]],
                 methods: list[tuple[str, str]], items: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "share_with").choices = [("", _("Nobody: private")), *teams]
        choice_field(self, "team").choices = teams
        choice_field(self, "owner").choices = users
        choice_field(self, "method").choices = methods
        choice_field(self, "item").choices = [("", "—"), *items]

    def segment_data(self) -> dict[str, Any]:
        """The service's input: name, kind, team and the list of conditions."""
        d = self.cleaned_data
        conditions: list[dict[str, Any]] = []
        for name in ("stage", "tier", "owner", "team", "method", "size_band"):
            if d.get(name):
                conditions.append({"field": name, "value": list(d[name])})
        for name in ("industry", "country"):
            if d.get(name):
                conditions.append({"field": name, "value": _split(d[name])})
        if d.get("region"):
            conditions.append({"field": "region", "value": d["region"]})
        for name in ("referred", "likely", "buying", "familiar", "frequent", "priority"):
            if d.get(name):
                conditions.append({"field": name, "value": d[name] == "yes"})
        for name, column in (("created", "created"), ("updated", "updated")):
            period = {k: d[f"{name}_{suffix}"].isoformat() for k, suffix in (("from", "from"), ("to", "to")) if d.get(f"{name}_{suffix}")}
            if period:
                conditions.append({"field": column, "value": period})
        if d.get("item"):
            value: dict[str, Any] = {"key": d["item"]}
            if d.get("item_value"):
                value["value"] = d["item_value"]
            conditions.append({"field": "item", "value": value})
        return {
            "name": d.get("name", ""), "description": d.get("description", ""), "kind": d.get("kind") or "",
            "team": d.get("share_with"), "conditions": conditions,
        }

    @staticmethod
    def initial_from(segment: Segment) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": segment.name, "description": segment.description, "kind": segment.kind, "share_with": segment.team_id,
        }
        for cond in segment.conditions:
            fld, value = cond.get("field"), cond.get("value")
            if fld in ("industry", "country"):
                initial[fld] = ", ".join(value)
            elif fld in ("referred", "likely", "buying", "familiar", "frequent", "priority"):
                initial[fld] = "yes" if value else "no"
            elif fld in ("created", "updated"):
                initial[f"{fld}_from"] = value.get("from")
                initial[f"{fld}_to"] = value.get("to")
            elif fld == "item":
                initial["item"] = value.get("key")
                initial["item_value"] = value.get("value", "")
            else:
                initial[fld] = value
        return initial
