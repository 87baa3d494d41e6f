"""A deal's proposal: the versions sent so far, the latest one shown, the form that saves the
next version (texts and quotation lines, prefilled from the latest) and the PDF of each version.

Every save is a new version through ``services.create_proposal``; the form only carries what
was typed and puts the service's errors back on the field or line they belong to.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from rapport.cards.forms import add_service_errors
from rapport.commerce import selectors as commerce
from rapport.commerce.models import Product
from rapport.commerce.money import format_money
from rapport.core.errors import NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view
from rapport.deals import documents, selectors, services
from rapport.deals.models import Deal, Proposal

BLANK_LINES = 2  # empty rows under the lines carried over; more come with "Add a line"
MAX_PRODUCT_OPTIONS = 1000
TEXT_FIELDS = ("background", "problems", "solution_overview", "solution_products", "implementation_plan", "service",
               "credentials")


class ProposalForm(forms.Form):
    """The texts and language of a new version; the quotation lines are read beside it."""

    language = forms.ChoiceField(label=gettext_lazy("Language of the proposal"), choices=settings.LANGUAGES)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    background = forms.CharField(label=gettext_lazy("Background"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                 help_text=gettext_lazy("The customer's situation, in one paragraph."))
    problems = forms.CharField(label=gettext_lazy("Problems and challenges"), required=False,
                               widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=gettext_lazy("Start lines with “-” for a list."))
    solution_overview = forms.CharField(label=gettext_lazy("Solution overview"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 4}))
    solution_products = forms.CharField(label=gettext_lazy("Products"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    implementation_plan = forms.CharField(label=gettext_lazy("Implementation plan"), required=False,
                                          widget=forms.Textarea(attrs={"rows": 4}))
    service = forms.CharField(label=gettext_lazy("Service"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    credentials = forms.CharField(label=gettext_lazy("Credentials"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


@dataclass
class LineRow:
    """One quotation line as the form shows it, with the errors of that line."""

    key: str = field(default_factory=lambda: secrets.token_hex(4))
    group: str = ""
    product: str = ""
    description: str = ""
    quantity: str = "1"
    unit_price: str = ""
    discount: str = ""
    errors: list[str] = field(default_factory=list)

    def is_blank(self) -> bool:
        return not any((self.group, self.product, self.description, self.unit_price, self.discount)) and self.quantity in ("", "1")


def _plain(value: Decimal) -> str:
    """A stored number as the form shows it: "4", "28500", "2.5" (no exponent, no trailing zeros)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _rows_from(proposal: Proposal | None) -> list[LineRow]:
    rows = []
    if proposal is not None:
        for ln in proposal.lines.all():
            rows.append(LineRow(group=ln.group, product=ln.product.sku if ln.product else "", description=ln.description,
                                quantity=_plain(ln.quantity), unit_price=_plain(ln.unit_price),
                                discount=_plain(ln.discount) if ln.discount else ""))
    return rows + [LineRow() for _i in range(BLANK_LINES)]


def _rows_posted(post: QueryDict) -> list[LineRow]:
    """The lines as typed, in order, without those ticked for removal."""
    names = ("key", "group", "product", "description", "quantity", "unit_price", "discount")
    columns = [post.getlist(f"line_{n}") for n in names]
    removed = set(post.getlist("line_remove"))
    rows = []
    for i in range(max(len(c) for c in columns)):
        key, group, product, description, quantity, unit_price, discount = (c[i].strip() if i < len(c) else "" for c in columns)
        row = LineRow(key=key, group=group, product=product, description=description, quantity=quantity,
                      unit_price=unit_price, discount=discount)
        if not row.key:
            row.key = secrets.token_hex(4)
        if row.key not in removed:
            rows.append(row)
    return rows


def _product_options() -> list[Product]:
    return list(commerce.products(ours=True, active=True)[:MAX_PRODUCT_OPTIONS])


def _resolve_product(text: str) -> Product | None:
    """One of our active products by SKU, or by a name only one of them matches."""
    product = commerce.products(ours=True, active=True).filter(sku=text).first()
    if product is None:
        found = list(commerce.products(ours=True, active=True, q=text)[:2])
        product = found[0] if len(found) == 1 else None
    return product


def _line_data(rows: list[LineRow], deal: Deal, previous: set[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """The lines for the service, and which row each came from; unknown products are marked
    on their row here (a product of an earlier version stays allowed even if since retired)."""
    from rapport.commerce.services import price_for

    data, used = [], []
    for i, row in enumerate(rows):
        if row.is_blank():
            continue
        line: dict[str, Any] = {"group": row.group, "description": row.description, "quantity": row.quantity or "1",
                                "unit_price": row.unit_price, "discount": row.discount}
        if row.product:
            product = None if row.product in previous else _resolve_product(row.product)
            if product is None and row.product not in previous:
                row.errors.append(_("None of our active products matches “%(text)s”: pick one from the list.")
                                  % {"text": row.product[:64]})
                continue
            if product is not None:
                row.product = product.sku
                if not row.unit_price:
                    price = price_for(product, deal.currency, timezone.localdate())
                    if price is not None:
                        row.unit_price = _plain(price.list_price)
                        line["unit_price"] = row.unit_price
            line["product"] = row.product
        data.append(line)
        used.append(i)
    return data, used


def _line_errors(form: ProposalForm, exc: ValidationError, rows: list[LineRow], used: list[int]) -> None:
    """``lines[2].quantity`` goes on the third line sent, with the column named; the rest on the form."""
    columns = {"quantity": _("Quantity"), "unit_price": _("Unit price"), "discount": _("Discount %"),
               "description": _("Description"), "group": _("Group"), "product": _("Product")}
    rest: dict[str, list[str]] = {}
    for key, msgs in exc.errors.items():
        match = re.match(r"lines\[(\d+)\](?:\.(\w+))?", key)
        if match and int(match.group(1)) < len(used):
            label = columns.get(match.group(2) or "", "")
            rows[used[int(match.group(1))]].errors.extend(f"{label}: {m}" if label else m for m in msgs)
        else:
            rest["__all__" if key == "lines" else key] = msgs
    add_service_errors(form, rest)


def _deal_url(deal: Deal) -> str:
    return reverse("deal-detail", args=[deal.pk])


def _versions(deal: Deal) -> list[Proposal]:
    return selectors.proposals_of(deal)


def _context(request: AuthedHttpRequest, deal: Deal, form: ProposalForm, rows: list[LineRow]) -> dict[str, Any]:
    versions = _versions(deal)
    latest = versions[0] if versions else None
    groups = []
    if latest is not None:
        lines = list(latest.lines.select_related("product").order_by("position", "id"))
        groups = [
            {"name": g.name, "subtotal": format_money(g.subtotal, latest.currency),
             "lines": [{"line": ln, "quantity": _plain(ln.quantity), "unit_price": format_money(ln.unit_price, latest.currency),
                        "discount": _plain(ln.discount) if ln.discount else "", "amount": format_money(ln.amount, latest.currency)}
                       for ln in g.lines]}
            for g in documents.quotation_groups(lines)
        ]
    products = _product_options()
    known = {p.sku for p in products}
    # A product of an earlier version that is no longer offered still shows by its SKU.
    extra = [r.product for r in rows if r.product and r.product not in known]
    return {
        "deal": deal,
        "card": deal.card,
        "deal_url": _deal_url(deal),
        "versions": [{"proposal": p, "total": format_money(p.total, p.currency),
                      "author": p.created_by.get_username() if p.created_by else "—",
                      "language": dict(settings.LANGUAGES).get(p.language, p.language)} for p in versions],
        "latest": latest,
        "groups": groups,
        "named_groups": any(g["name"] for g in groups),
        "latest_total": format_money(latest.total, latest.currency) if latest else "",
        "can_write": services.may_write(request.user, deal),
        "form": form,
        "rows": rows,
        "products": products,
        "extra_products": extra,
    }


@require_http_methods(["GET", "POST"])
@web_view
def proposals(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = selectors.get_deal(request.user, deal_id)
    if request.method == "GET":
        latest = selectors.latest_proposal(deal)
        if latest is not None:
            initial = {"language": latest.language, "title": latest.title, **{n: getattr(latest, n) for n in TEXT_FIELDS}}
        else:
            from rapport.commerce.collection import customer_language

            initial = {"language": customer_language(deal.card), "title": deal.name}
        form = ProposalForm(initial=initial)
        return render(request, "deals/proposal_list.html", _context(request, deal, form, _rows_from(latest)))
    services.require_write(request.user, deal)
    form = ProposalForm(request.POST)
    rows = _rows_posted(request.POST)
    previous = set(
        Proposal.objects.filter(deal=deal).exclude(lines__product__isnull=True).values_list("lines__product__sku", flat=True)
    )
    lines, used = _line_data(rows, deal, previous)
    if form.is_valid() and not any(r.errors for r in rows):
        data = {"language": form.cleaned_data["language"], "title": form.cleaned_data["title"],
                **{n: form.cleaned_data[n] for n in TEXT_FIELDS}, "lines": lines}
        try:
            proposal = services.create_proposal(user=request.user, deal=deal, data=data)
        except ValidationError as exc:
            _line_errors(form, exc, rows, used)
        else:
            messages.success(request, _("Version %(version)s of the proposal saved.") % {"version": proposal.version})
            return redirect("deals-proposals", deal.pk)
    if any(r.errors for r in rows) and not form.non_field_errors():
        form.add_error(None, _("Check the marked lines."))
    return render(request, "deals/proposal_list.html", _context(request, deal, form, rows), status=422)


@require_GET
@web_view
def proposal_line(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    """One empty quotation line (the "Add a line" button)."""
    selectors.get_deal(request.user, deal_id)
    return render(request, "deals/proposal_line.html", {"row": LineRow()})


@require_GET
@web_view
def proposal_pdf(request: AuthedHttpRequest, deal_id: int, version: int) -> HttpResponse:
    deal = selectors.get_deal(request.user, deal_id)
    try:
        proposal = selectors.proposal_version(deal, version)
    except NotFound:
        raise Http404(_("This deal has no proposal version %(version)s.") % {"version": version}) from None
    response = HttpResponse(documents.proposal_pdf(proposal), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.proposal_filename(proposal)}"'
    return response


urlpatterns: list[URLPattern] = [
    path("deals/<int:deal_id>/proposals/", proposals, name="deals-proposals"),
    path("deals/<int:deal_id>/proposals/line", proposal_line, name="deals-proposal-line"),
    path("deals/<int:deal_id>/proposals/<int:version>/pdf", proposal_pdf, name="deals-proposal-pdf"),
]
