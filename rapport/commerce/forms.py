"""Forms of the commerce pages. They parse what the browser sends; the services decide.

Amounts are read as decimals here (so "12,5" or "abc" is refused with the field's own
message) and handed to the services as text, which round them to the currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rapport.commerce.models import CreditStatus, InvoiceKind, NonPayment, OrderStatus, PaymentKind

MAX_AMOUNT = Decimal("999999999999")


def amount_field(label: Any, *, required: bool = True, allow_zero: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, max_digits=18, decimal_places=4, max_value=MAX_AMOUNT,
        min_value=Decimal(0) if allow_zero else Decimal("0.0001"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def currency_field(*, required: bool = True) -> forms.CharField:
    return forms.CharField(label=_("Currency"), max_length=3, min_length=3, required=required,
                           widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4, "autocomplete": "off"}))


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """``form.fields[name]`` as the choice field it is, to set its choices for this request."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def as_text(value: Any) -> str:
    """A cleaned value as the services read it: dates in ISO form, decimals in plain notation."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


# --- orders --------------------------------------------------------------------------------------


class OrderForm(forms.Form):
    """The order's head; its lines come as parallel lists (``line_product``, ``line_quantity``…)."""

    currency = currency_field()
    ordered_on = date_field(_("Ordered on"))
    status = forms.ChoiceField(label=_("Status"), choices=[
        (OrderStatus.CONFIRMED, OrderStatus.CONFIRMED.label), (OrderStatus.DRAFT, OrderStatus.DRAFT.label),
        (OrderStatus.DELIVERED, OrderStatus.DELIVERED.label),
    ])
    external_id = forms.CharField(label=_("ERP number"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


LINE_FIELDS = ("product", "quantity", "unit_price", "discount")


def order_lines(data: Any) -> list[dict[str, str]]:
    """The line rows a browser sent, in order, each as ``{product, quantity, unit_price, discount}``."""
    columns = {name: data.getlist(f"line_{name}") for name in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    return [{name: (columns[name][i] if i < len(columns[name]) else "").strip() for name in LINE_FIELDS}
            for i in range(min(count, 500))]


def is_blank_line(line: dict[str, str]) -> bool:
    # A row is left empty when no product and no price were given (quantity defaults to 1).
    return not line.get("product") and not line.get("unit_price")


class OrderStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=OrderStatus.choices)
    delivered_on = date_field(_("Delivered on"), required=False)
    accepted_on = date_field(_("Accepted on"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    note = forms.CharField(label=_("Note (required to refuse)"), max_length=500, required=False)


# --- invoices and payments -----------------------------------------------------------------------


class InvoiceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=InvoiceKind.choices, widget=forms.HiddenInput)
    external_id = forms.CharField(label=pgettext_lazy("document", "Number"), max_length=100, required=False)
    order = forms.TypedChoiceField(label=_("For order"), required=False, coerce=int, empty_value=None)
    currency = currency_field()
    amount = amount_field(_("Amount"))
    issued_on = date_field(_("Issued on"))
    due_on = date_field(_("Due on"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, orders: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "order").choices = [("", "—"), *orders]


class PaymentForm(forms.Form):
    """A payment; allocations come as parallel lists ``alloc_invoice`` and ``alloc_amount``."""

    kind = forms.ChoiceField(label=_("Kind"), choices=PaymentKind.choices)
    amount = amount_field(_("Amount"))
    currency = currency_field()
    received_on = date_field(_("Received on"))
    external_id = forms.CharField(label=_("Reference"), max_length=100, required=False)
    method = forms.CharField(label=_("Method"), max_length=40, required=False,
                             widget=forms.TextInput(attrs={"list": "payment-methods"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


def allocation_rows(data: Any) -> list[tuple[str, str]]:
    """``(invoice id, amount)`` pairs the browser sent, rows left empty skipped."""
    ids, amounts = data.getlist("alloc_invoice"), data.getlist("alloc_amount")
    rows = []
    for i, invoice in enumerate(ids[:500]):
        amount = amounts[i].strip() if i < len(amounts) else ""
        if amount:
            rows.append((invoice.strip(), amount))
    return rows


class ApplyCreditForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int)
    amount = amount_field(_("Amount"))

    def __init__(self, *args: Any, invoices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "invoice").choices = invoices


class NonPaymentForm(forms.Form):
    cause = forms.ChoiceField(label=_("Why it is not paid"), choices=NonPayment.choices, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class CreditForm(forms.Form):
    status = forms.ChoiceField(label=_("Credit status"), choices=CreditStatus.choices)
    limit = amount_field(_("Credit limit"), required=False, allow_zero=True)
    currency = currency_field(required=False)
    reason = forms.CharField(label=_("Reason (required unless OK)"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- the statement and receivables ---------------------------------------------------------------


class StatementFilterForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    date_from = date_field(_("From"), required=False)
    date_to = date_field(_("To"), required=False)

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "currency").choices = [(c, c) for c in currencies] or [("", "—")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The period ends before it starts."))
        return data


class ReceivablesFilterForm(forms.Form):
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    rep = forms.TypedChoiceField(label=_("Rep"), required=False, coerce=int, empty_value=None)
    segment = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None)
    as_of = date_field(_("As of"), required=False)

    def __init__(self, *args: Any, teams: list[tuple[int, str]], reps: list[tuple[int, str]],
                 segments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "team").choices = [("", _("All")), *teams]
        choice_field(self, "rep").choices = [("", _("All")), *reps]
        choice_field(self, "segment").choices = [("", _("All")), *segments]


# --- products ------------------------------------------------------------------------------------


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("SKU or name"), max_length=100, required=False)
    whose = forms.ChoiceField(label=_("Whose"), required=False,
                              choices=[("", _("All")), ("ours", _("Ours")), ("competitors", _("Competitors'"))])
    state = forms.ChoiceField(label=_("Active"), required=False,
                              choices=[("", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))])


class ProductForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    name_es = forms.CharField(label=_("Name in Spanish"), max_length=200, required=False)
    name_zh = forms.CharField(label=_("Name in Chinese"), max_length=200, required=False)
    name_ro = forms.CharField(label=_("Name in Romanian"), max_length=200, required=False)
    category = forms.CharField(label=_("Category"), max_length=120, required=False)
    brand = forms.CharField(label=_("Brand"), max_length=120, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False, initial="unit")
    unit_cost = forms.DecimalField(
        label=_("Unit cost"), required=False, max_digits=18, decimal_places=4, min_value=Decimal(0), max_value=MAX_AMOUNT,
        help_text=_("What one unit costs us, in the reporting currency: the cost of goods in the profitability report"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    is_ours = forms.BooleanField(label=_("Our product (untick for a competitor's)"), required=False, initial=True)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        names = {"es": d["name_es"], "zh-hans": d["name_zh"], "ro": d["name_ro"]}
        return {
            "sku": d["sku"], "name": d["name"], "category": d["category"], "brand": d["brand"], "unit": d["unit"],
            "unit_cost": d.get("unit_cost"), "is_ours": d["is_ours"], "active": d["active"], "names": {k: v for k, v in names.items() if v},
        }


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    currency = currency_field()
    valid_from = date_field(_("Valid from"))
    valid_until = date_field(_("Valid until"), required=False)


class PriceForm(forms.Form):
    price_list = forms.TypedChoiceField(label=_("Price list"), coerce=int)
    list_price = amount_field(_("List price"), allow_zero=True)
    purchase_price = amount_field(_("Distributor's purchase price"), required=False, allow_zero=True)
    min_retail = amount_field(_("Minimum retail price"), required=False, allow_zero=True)
    max_retail = amount_field(_("Maximum retail price"), required=False, allow_zero=True)
    recommended_retail = amount_field(_("Recommended retail price"), required=False, allow_zero=True)

    def __init__(self, *args: Any, price_lists: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "price_list").choices = price_lists


# --- collection work -----------------------------------------------------------------------------


class TaskDoneForm(forms.Form):
    outcome = forms.CharField(label=_("What came of it"), max_length=500)


class PaymentPlanForm(forms.Form):
    """Instalments come as parallel lists ``inst_due_on`` and ``inst_amount``."""

    invoices = forms.TypedMultipleChoiceField(label=_("Invoices in the plan"), coerce=int,
                                              widget=forms.CheckboxSelectMultiple)
    agreed_on = date_field(_("Agreed on"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, invoices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "invoices").choices = invoices


def instalment_rows(data: Any) -> list[dict[str, str]]:
    dues, amounts = data.getlist("inst_due_on"), data.getlist("inst_amount")
    rows = []
    for i in range(min(max(len(dues), len(amounts)), 120)):
        due = dues[i].strip() if i < len(dues) else ""
        amount = amounts[i].strip() if i < len(amounts) else ""
        if due or amount:
            rows.append({"due_on": due, "amount": amount})
    return rows


class AccountCheckForm(forms.Form):
    as_of = date_field(_("As of"))
    currency = forms.ChoiceField(label=_("Currency"))
    customer_balance = forms.DecimalField(
        label=_("Balance the customer confirms"), required=False, max_digits=18, decimal_places=4,
        max_value=MAX_AMOUNT, min_value=-MAX_AMOUNT, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    confirmed = forms.BooleanField(label=_("Confirmed in writing by the customer"), required=False)
    confirmed_by = forms.CharField(label=_("Confirmed by (customer's signatory)"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "currency").choices = [(c, c) for c in currencies]
