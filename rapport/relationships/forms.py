"""HTML forms of the relationships pages. They only shape input; the services validate it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import Function, Level
from rapport.relationships import content
from rapport.relationships.models import Attitude, BuyingRole, GiftKind, RelationshipKind, RelationshipStage, Strength, Style


class MemberForm(forms.Form):
    person = forms.ChoiceField(label=_("Person"), required=False)
    level = forms.ChoiceField(label=_("Level"), choices=[("", "—"), *Level.choices], required=False)
    function = forms.ChoiceField(label=_("Function"), choices=[("", "—"), *Function.choices], required=False)
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=BuyingRole.choices, required=False, widget=forms.CheckboxSelectMultiple)
    influence = forms.IntegerField(label=_("Influence (%)"), min_value=0, max_value=100, initial=0)
    attitude = forms.ChoiceField(label=_("Attitude"), choices=Attitude.choices, initial=Attitude.NEUTRAL)
    coach = forms.BooleanField(label=_("Coach (our inside guide)"), required=False)
    cares_about = forms.CharField(label=_("Cares about"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, people: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person = self.fields["person"]
        assert isinstance(person, forms.ChoiceField)
        person.choices = [(str(pk), name) for pk, name in (people or [])]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("person", None)
        return data


class RelationshipForm(forms.Form):
    from_person = forms.ChoiceField(label=_("From"))
    kind = forms.ChoiceField(label=_("Relationship"), choices=RelationshipKind.choices)
    to_person = forms.ChoiceField(label=_("To"))
    strength = forms.TypedChoiceField(label=_("Strength"), choices=Strength.choices, coerce=int, initial=Strength.MEDIUM)

    def __init__(self, *args: Any, people: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("from_person", "to_person"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(str(pk), label) for pk, label in (people or [])]


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Move to stage"), choices=RelationshipStage.choices)
    note = forms.CharField(label=_("Why"), required=False, max_length=500)


class StyleForm(forms.Form):
    style = forms.ChoiceField(label=_("Communication style"), choices=[("", "—"), *Style.choices], required=False)


class QuestionnaireForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in content.questions():
            self.fields[question.key] = forms.ChoiceField(
                label=question.label, choices=question.choices(), widget=forms.RadioSelect
            )


class TypicalActivityForm(forms.Form):
    typical = forms.ChoiceField(label=_("Activity"))
    summary = forms.CharField(label=_("Summary"), required=False, max_length=300)
    occurred_at = forms.CharField(label=_("When"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["typical"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.label, [(t.key, t.label) for t in s.typical]) for s in content.stages()]


class GiftForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=GiftKind.choices)
    description = forms.CharField(label=_("Description"), max_length=300)
    value = forms.CharField(label=_("Value"), max_length=30)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    given_on = forms.DateField(label=_("Given on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    confirm_over_limit = forms.BooleanField(label=_("I confirm this exceeds the limit"), required=False)
    justification = forms.CharField(label=_("Justification"), required=False, max_length=500)
