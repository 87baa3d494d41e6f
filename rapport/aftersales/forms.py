"""HTML forms of the after-sales panel. They only shape input; the services validate it, so a
page and the API refuse the same input with the same words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.aftersales.models import CaseKind


def _text(label: Any, limit: int, *, rows: int = 0) -> forms.CharField:
    # maxlength only guides the browser; the service refuses longer text with a clear message.
    attrs = {"maxlength": str(limit)}
    widget = forms.Textarea(attrs={**attrs, "rows": str(rows)}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, required=False, strip=False, widget=widget)


def _date(label: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _select(label: Any, choices: Any = ()) -> forms.CharField:
    # A select that does not check its choices: an unknown value reaches the service, which
    # names the problem ("Unknown order.") instead of a generic "not one of the choices".
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


def _set_choices(field: forms.Field, choices: list[tuple[str, Any]]) -> None:
    assert isinstance(field.widget, forms.Select)
    field.widget.choices = choices


class CaseForm(forms.Form):
    kind = _select(_("Kind"), CaseKind.choices)
    subject = _text(_("Subject"), 300)
    details = _text(_("Details"), 5000, rows=3)
    order = _select(_("Order"))
    assigned_to = _select(_("Assigned to"))
    due_on = _date(_("Due on"))

    def __init__(self, *args: Any, orders: list[tuple[int, str]], assignees: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["order"], [("", "—"), *((str(pk), label) for pk, label in orders)])
        _set_choices(self.fields["assigned_to"], [("", _("The customer's owner")), *((str(pk), name) for pk, name in assignees)])

    def service_data(self) -> dict[str, Any]:
        return {name: self.data.get(name, "") for name in self.fields}


class ReferralAskForm(forms.Form):
    benefit = _text(_("What they get for referrals"), 300)
    note = _text(_("Note"), 500)

    def service_data(self) -> dict[str, Any]:
        return {name: self.data.get(name, "") for name in self.fields}
