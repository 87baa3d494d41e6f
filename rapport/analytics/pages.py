"""The pages and downloads of the reports described by a ``ReportSpec``, and the promotions' forms.

One view draws every such report: the shared filter form (only the filters the spec names),
the chart, the table of the spec's columns and the CSV/XLSX downloads, which are recorded in
the audit log. Promotions are listed on their report's page; managers and administrators
create, change and delete them here.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.analytics import reports, services
from rapport.analytics.models import Promotion
from rapport.analytics.promotions import get_promotion, promotions_for
from rapport.analytics.reports import Filters, ReportSpec
from rapport.analytics.forms import report_day
from rapport.analytics.views import CONTENT_TYPES, PAGE_ROWS, _choices
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view


class ReportForm(forms.Form):
    """The filters shared by the reports; ``__init__`` keeps those the spec names."""

    by = forms.ChoiceField(label=gettext_lazy("Grouped by"), required=False)
    promotion = forms.TypedChoiceField(label=gettext_lazy("Promotion"), required=False, coerce=int, empty_value=None)
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    rep = forms.TypedChoiceField(label=gettext_lazy("Rep"), required=False, coerce=int, empty_value=None)
    segment = forms.TypedChoiceField(label=gettext_lazy("Saved segment"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, spec: ReportSpec, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        keep = set(spec.filters) - {"period", "as_of"}
        if "period" in spec.filters:
            keep |= {"start", "end"}
        if "as_of" in spec.filters:
            keep.add("end")
            self.fields["end"].label = _("As of")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        choices = _choices(user)
        for name, key in (("team", "teams"), ("rep", "reps"), ("segment", "segments")):
            if name in self.fields:
                self._choose(name, [("", _("All")), *choices[key]])
        if "by" in self.fields and spec.by_choices is not None:
            self._choose("by", spec.by_choices())
        if "promotion" in self.fields:
            self._choose("promotion", [(p.pk, f"{p.name} ({p.starts_on.isoformat()} – {p.ends_on.isoformat()})")
                                       for p in promotions_for(user)[:500]])

    def _choose(self, name: str, choices: list[tuple[Any, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("start", "end"):
            try:
                report_day(data.get(name))
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("start", _("The period starts after it ends."))
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        end = d.get("end") or timezone.localdate()
        return Filters(start=d.get("start") or self.spec.default_start(end), end=end, team=d.get("team"), rep=d.get("rep"),
                       segment=d.get("segment"), by=d.get("by") or self.spec.default_by, promotion=d.get("promotion"))


def _defaults(request: AuthedHttpRequest, spec: ReportSpec) -> Any:
    params = request.GET.copy()
    today = timezone.localdate()
    params.setdefault("end", today.isoformat())
    if "period" in spec.filters:
        try:
            end = dt.date.fromisoformat(params.get("end") or today.isoformat())
        except ValueError:
            end = today
        params.setdefault("start", spec.default_start(end).isoformat())
    if "by" in spec.filters:
        params.setdefault("by", spec.default_by)
    if "promotion" in spec.filters and not params.get("promotion"):  # the latest that started by the as-of date
        as_of, chosen = params.get("end"), promotions_for(request.user)
        latest = (chosen.filter(starts_on__lte=as_of).first() if _is_date(as_of) else None) or chosen.first()
        if latest is not None:
            params["promotion"] = str(latest.pk)
    return params


def _is_date(text: Any) -> bool:
    try:
        dt.date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def build(request: AuthedHttpRequest, spec: ReportSpec) -> tuple[ReportForm, Any, Filters | None]:
    """The form, and the report when the filters are good (else None)."""
    form = ReportForm(_defaults(request, spec), spec=spec, user=request.user)
    if not form.is_valid():
        return form, None, None
    flt = form.filters()
    if "promotion" in spec.filters and flt.promotion is None:
        return form, None, flt
    try:
        return form, spec.build(request.user, flt), flt
    except ValidationError as exc:  # a team, rep or segment out of the user's reach
        for name, texts in exc.errors.items():
            form.add_error(name if name in form.fields else None, " ".join(texts))
        return form, None, None


def _text(value: Any, kind: str, currency: str) -> tuple[str, str]:
    """A cell as shown, and its CSS class."""
    from rapport.commerce.money import format_money

    if value is None or value == "":
        return "—", "num" if kind != "text" else ""
    if kind == "money":
        return format_money(value, currency), "num"
    if kind == "percent":
        return f"{formats.localize(value)} %", "num"
    if kind == "uplift":
        sign = "+" if value > 0 else ""
        return f"{sign}{formats.localize(value)} %", "num " + ("perf-up" if value >= 0 else "perf-down")
    if kind == "days":
        return _("%(days)s days") % {"days": formats.localize(value)}, "num"
    if kind == "int":
        if isinstance(value, Decimal):  # quantities: "74", not "74.000"
            value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
        return str(formats.localize(value)), "num"
    return str(value), ""


def table(spec: ReportSpec, rows: Any) -> dict[str, Any]:
    columns = [c for c in spec.columns if c.shown]
    body = []
    for row in rows:
        currency = getattr(row, "currency", "")
        body.append([{"title": c.title, **dict(zip(("text", "css"), _text(getattr(row, c.key), c.kind, currency)))}
                     for c in columns])
    return {"columns": columns, "rows": body}


@require_GET
@web_view
def report_page(request: AuthedHttpRequest, name: str) -> HttpResponse:
    spec = reports.specs()[name]
    form, report, flt = build(request, spec)
    context: dict[str, Any] = {"spec": spec, "form": form, "query": request.GET.urlencode(), "report": report,
                               "csv_url": reverse(f"analytics-{name}-csv"), "xlsx_url": reverse(f"analytics-{name}-xlsx")}
    if name == "promotions":
        context.update({"promotions": list(promotions_for(request.user)[:50]),
                        "may_manage": services.may_manage(request.user)})
    if report is None:
        no_promotion = name == "promotions" and form.is_valid()
        return render(request, spec.template, context, status=200 if no_promotion else 422)
    if spec.page_context is not None:
        context.update(spec.page_context(report, request))
        return render(request, spec.template, context)
    rows = reports.export_rows(report)
    context.update({"table": table(spec, rows[:PAGE_ROWS]), "more": max(len(rows) - PAGE_ROWS, 0),
                    "chart": spec.chart(report), "filters": flt})
    return render(request, spec.template, context)


def _file(request: AuthedHttpRequest, name: str, fmt: str) -> HttpResponse:
    spec = reports.specs()[name]
    form, report, flt = build(request, spec)
    if report is None or flt is None:
        return render(request, spec.template, {"spec": spec, "form": form, "query": request.GET.urlencode()}, status=422)
    buffer = io.BytesIO()
    reports.write(spec, report, buffer, fmt)
    reports.record_export(spec=spec, user=request.user, report=report, flt=flt, fmt=fmt, channel="web")
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}-{report.as_of.isoformat()}.{fmt}"'
    return response


@require_GET
@web_view
def report_csv(request: AuthedHttpRequest, name: str) -> HttpResponse:
    return _file(request, name, "csv")


@require_GET
@web_view
def report_xlsx(request: AuthedHttpRequest, name: str) -> HttpResponse:
    return _file(request, name, "xlsx")


# --- promotions: create, change, delete --------------------------------------------------------------


class PromotionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=500, required=False)
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    baseline_days = forms.IntegerField(
        label=gettext_lazy("Baseline days"), required=False, min_value=1, max_value=366,
        help_text=gettext_lazy("Days just before the start it is compared with; empty: as many days as it lasts"))
    products = forms.TypedMultipleChoiceField(label=gettext_lazy("Products"), required=False, coerce=int)
    categories = forms.CharField(label=gettext_lazy("Product categories"), required=False, max_length=2000,
                                 help_text=gettext_lazy("Separated by commas; with no product nor category: all our products"))
    regions = forms.CharField(label=gettext_lazy("Regions"), required=False, max_length=2000,
                              help_text=gettext_lazy("Separated by commas; with no region nor country: everywhere"))
    countries = forms.CharField(label=gettext_lazy("Countries"), required=False, max_length=600,
                                help_text=gettext_lazy("Two-letter codes separated by commas, e.g. ES, MX"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from rapport.commerce.models import Product

        super().__init__(*args, **kwargs)
        field = self.fields["products"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(pk, f"{sku} {name}") for pk, sku, name in
                         Product.objects.filter(is_ours=True, active=True).values_list("pk", "sku", "name")[:2000]]

    @staticmethod
    def initial_from(promotion: Promotion) -> dict[str, Any]:
        return {"name": promotion.name, "description": promotion.description, "starts_on": promotion.starts_on,
                "ends_on": promotion.ends_on, "baseline_days": promotion.baseline_days,
                "products": [p.pk for p in promotion.products.all()], "categories": ", ".join(promotion.categories),
                "regions": ", ".join(promotion.regions), "countries": ", ".join(promotion.countries)}

    def data_for_service(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"name": d["name"], "description": d.get("description") or "", "starts_on": d["starts_on"],
                "ends_on": d["ends_on"], "baseline_days": d.get("baseline_days"), "products": list(d.get("products") or []),
                "categories": d.get("categories") or "", "regions": d.get("regions") or "",
                "countries": d.get("countries") or ""}


@require_http_methods(["GET", "POST"])
@web_view
def promotion_edit(request: AuthedHttpRequest, pk: int | None = None) -> HttpResponse:
    if not services.may_manage(request.user):
        from rapport.core.errors import PermissionDenied

        raise PermissionDenied(_("Only managers and administrators plan promotions."))
    promotion = get_promotion(request.user, pk) if pk is not None else None
    form = PromotionForm(request.POST or None, initial=PromotionForm.initial_from(promotion) if promotion else {})
    if request.method == "POST" and form.is_valid():
        try:
            if promotion is None:
                promotion = services.create_promotion(user=request.user, data=form.data_for_service())
            else:
                promotion = services.update_promotion(user=request.user, promotion=promotion, data=form.data_for_service())
        except ValidationError as exc:
            for name, texts in exc.errors.items():
                form.add_error(name if name in form.fields else None, " ".join(texts))
        else:
            messages.success(request, _("Promotion saved."))
            return HttpResponseRedirect(f"{reverse('analytics-promotions')}?promotion={promotion.pk}")
    status = 422 if request.method == "POST" else 200
    return render(request, "analytics/promotion_form.html", {"form": form, "promotion": promotion}, status=status)


@require_POST
@web_view
def promotion_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    promotion = get_promotion(request.user, pk)
    services.delete_promotion(user=request.user, promotion=promotion)
    messages.success(request, _("Promotion deleted."))
    return redirect("analytics-promotions")


urlpatterns: list[URLPattern] = [
    path("analytics/promotions/new/", promotion_edit, name="analytics-promotion-new"),
    path("analytics/promotions/<int:pk>/edit/", promotion_edit, name="analytics-promotion-edit"),
    path("analytics/promotions/<int:pk>/delete/", promotion_delete, name="analytics-promotion-delete"),
]
# The reports described by a spec (``reports.specs``; the names are listed here so the URLs are
# known without building the specs).
for _name in ("profile", "promotions", "prospects", "profitability", "performance", "reps", "products"):
    urlpatterns += [
        path(f"analytics/{_name}/", report_page, {"name": _name}, name=f"analytics-{_name}"),
        path(f"analytics/{_name}.csv", report_csv, {"name": _name}, name=f"analytics-{_name}-csv"),
        path(f"analytics/{_name}.xlsx", report_xlsx, {"name": _name}, name=f"analytics-{_name}-xlsx"),
    ]
