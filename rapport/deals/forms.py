"""HTML forms of the deal pages. They only shape input; the services validate it, so a page
and the API refuse the same input with the same words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

BLANK_PRODUCT_ROWS = 2  # empty product rows offered under the deal's products


def _text(label: Any, limit: int, *, rows: int = 0) -> forms.CharField:
    # maxlength only guides the browser; the service refuses longer text with a clear message.
    attrs = {"maxlength": str(limit)}
    widget = forms.Textarea(attrs={**attrs, "rows": str(rows)}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, required=False, strip=False, widget=widget)


def _select(label: Any) -> forms.CharField:
    # A select that does not check its choices: an unknown value reaches the service, which
    # names the problem instead of a generic "not one of the choices".
    return forms.CharField(label=label, required=False, widget=forms.Select())


def _set_choices(field: forms.Field, choices: list[tuple[Any, Any]]) -> None:
    assert isinstance(field.widget, forms.Select)
    field.widget.choices = choices


class DealForm(forms.Form):
    """A new deal, or the deal's own fields; products come as rows (see ``product_rows``)."""

    customer = _select(_("Customer"))
    name = _text(_("Deal name"), 200)
    amount = forms.CharField(label=_("Amount"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "24"}))
    currency = forms.CharField(label=_("Currency"), required=False,
                               widget=forms.TextInput(attrs={"maxlength": "3", "autocapitalize": "characters", "size": "4"}))
    expected_close = forms.CharField(label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    probability = forms.CharField(label=_("Probability %"), required=False,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "3"}))
    owner = _select(_("Owner"))
    team = _select(_("Team"))
    description = _text(_("Description"), 5000, rows=3)

    def __init__(self, *args: Any, customers: Sequence[tuple[str, str]] | None = None, owners: Sequence[tuple[int, str]] = (),
                 teams: Sequence[tuple[int, str]] = (), default_probability: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if customers is None:
            del self.fields["customer"]
        else:
            _set_choices(self.fields["customer"], [("", "—"), *customers])
        _set_choices(self.fields["owner"], [(str(pk), name) for pk, name in owners])
        _set_choices(self.fields["team"], [("", _("The owner's team")), *((str(pk), name) for pk, name in teams)])
        if default_probability is not None:
            self.fields["probability"].help_text = _("Empty: the step's default, %(n)s%%.") % {"n": default_probability}
            self.fields["probability"].widget.attrs["placeholder"] = str(default_probability)

    def service_data(self, *, fields: set[str] | None = None) -> dict[str, Any]:
        names = fields or {"name", "amount", "currency", "expected_close", "probability", "owner", "team", "description"}
        return {name: self.data.get(name, "") for name in names if name in self.fields}


def product_rows(data: QueryDict) -> list[dict[str, str]]:
    """The product rows of a deal form as typed: ``product``, ``quantity``, ``unit_price`` lists."""
    products, quantities, prices = data.getlist("product"), data.getlist("quantity"), data.getlist("unit_price")
    rows = []
    for i, product in enumerate(products[:200]):
        rows.append({
            "product": product.strip(),
            "quantity": (quantities[i] if i < len(quantities) else "").strip(),
            "unit_price": (prices[i] if i < len(prices) else "").strip(),
        })
    return rows


def products_for_service(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows with a product chosen, as the service takes them (blank rows are left out)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if not row["product"]:
            continue
        item: dict[str, Any] = {"product": row["product"], "quantity": row["quantity"] or "1"}
        if row["unit_price"]:
            item["unit_price"] = row["unit_price"]
        out.append(item)
    return out


class BoardFilterForm(forms.Form):
    """The board's filters; links may carry them (ids and a month, never a name or a value)."""

    owner = _select(_("Owner"))
    team = _select(_("Team"))
    segment = _select(_("Segment"))
    close_month = forms.CharField(label=_("Closing in"), required=False, widget=forms.DateInput(attrs={"type": "month"}))

    def __init__(self, *args: Any, owners: list[tuple[str, str]], teams: list[tuple[str, str]],
                 segments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["owner"], owners)
        _set_choices(self.fields["team"], [("", _("Every team")), *teams])
        _set_choices(self.fields["segment"], [("", _("Every customer")), *segments])
