"""Products and price lists: the catalogue and its forms for managers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.cards.forms import add_service_errors
from rapport.commerce import selectors, services
from rapport.commerce.forms import PriceForm, PriceListForm, ProductFilterForm, ProductForm, as_text
from rapport.commerce.models import PriceList, Product
from rapport.commerce.money import format_money
from rapport.commerce.views.common import _today
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view


@require_GET
@web_view
def products_page(request: AuthedHttpRequest) -> HttpResponse:
    form = ProductFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_bound and form.is_valid() else {}
    whose = d.get("whose") or ""
    state = d.get("state") or ""
    qs = selectors.products(ours={"ours": True, "competitors": False}.get(whose),
                            active={"inactive": False, "all": None}.get(state, True), q=d.get("q") or "")
    return render(request, "commerce/products.html", {
        "form": form, "products": list(qs[:500]), "may_edit": services.may_manage_catalog(request.user), "tab": "products",
    })


def _price_lists() -> list[PriceList]:
    # The catalogue is not customer data: every signed-in user reads it.
    return list(PriceList.objects.order_by("currency", "-valid_from", "id")[:200])


def _product_context(request: AuthedHttpRequest, product: Product, **forms: Any) -> dict[str, Any]:
    prices = [
        {"price": p, "list": p.price_list,
         **{k: format_money(getattr(p, k), p.price_list.currency) for k in
            ("list_price", "purchase_price", "min_retail", "max_retail", "recommended_retail")}}
        for p in product.prices.select_related("price_list").order_by("price_list__currency", "-price_list__valid_from")
    ]
    may_edit = services.may_manage_catalog(request.user)
    context: dict[str, Any] = {"product": product, "prices": prices, "may_edit": may_edit, "tab": "products"}
    if may_edit:
        lists = [(pl.pk, f"{pl.name} ({pl.currency}, {pl.valid_from.isoformat()}–{pl.valid_until.isoformat() if pl.valid_until else ''})")
                 for pl in _price_lists()]
        context["price_form"] = forms.get("price_form") or PriceForm(price_lists=lists)
        context["price_list_form"] = forms.get("price_list_form") or PriceListForm(initial={"valid_from": _today()})
    return context


@require_GET
@web_view
def product_detail(request: AuthedHttpRequest, product_id: int) -> HttpResponse:
    product = selectors.get_product(product_id)
    return render(request, "commerce/product_detail.html", _product_context(request, product))


@require_http_methods(["GET", "POST"])
@web_view
def product_edit(request: AuthedHttpRequest, product_id: int | None = None) -> HttpResponse:
    user = request.user
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))
    product = selectors.get_product(product_id) if product_id is not None else None
    if request.method == "GET":
        initial: dict[str, Any] = {}
        if product is not None:
            initial = {"sku": product.sku, "name": product.name, "category": product.category, "brand": product.brand,
                       "unit": product.unit, "unit_cost": product.unit_cost, "is_ours": product.is_ours, "active": product.active, "version": product.version,
                       "name_es": product.names.get("es", ""), "name_zh": product.names.get("zh-hans", ""),
                       "name_ro": product.names.get("ro", "")}
        form = ProductForm(initial=initial) if product else ProductForm()
        return render(request, "commerce/product_form.html", {"form": form, "product": product, "tab": "products"})
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            if product is None:
                product = services.create_product(user=user, data=form.service_data())
            else:
                product = services.update_product(user=user, product=product, data=form.service_data(),
                                                  expected_version=form.cleaned_data.get("version"))
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Product saved."))
            return redirect("commerce-product", product.pk)
    return render(request, "commerce/product_form.html", {"form": form, "product": product, "tab": "products"}, status=422)


@require_POST
@web_view
def product_price(request: AuthedHttpRequest, product_id: int) -> HttpResponse:
    user = request.user
    product = selectors.get_product(product_id)
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))
    lists = {pl.pk: pl for pl in _price_lists()}
    form = PriceForm(request.POST, price_lists=[(pk, str(pl)) for pk, pl in lists.items()])
    if form.is_valid():
        data = {k: as_text(v) for k, v in form.cleaned_data.items() if k != "price_list"}
        try:
            services.set_price(user=user, price_list=lists[form.cleaned_data["price_list"]], product=product, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "commerce/product_detail.html", _product_context(request, product, price_form=form), status=422)
    messages.success(request, _("Price saved."))
    return redirect("commerce-product", product.pk)


@require_POST
@web_view
def price_list_new(request: AuthedHttpRequest, product_id: int) -> HttpResponse:
    """A new price list, created from a product's page so its price can be set next."""
    user = request.user
    product = selectors.get_product(product_id)
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))
    form = PriceListForm(request.POST)
    if form.is_valid():
        try:
            services.create_price_list(user=user, data={k: as_text(v) for k, v in form.cleaned_data.items()})
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "commerce/product_detail.html", _product_context(request, product, price_list_form=form), status=422)
    messages.success(request, _("Price list created."))
    return redirect("commerce-product", product.pk)
