"""Privacy pages: consent on the card, data-subject export and erasure for administrators."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.cards import selectors as cards
from rapport.cards.models import Kind
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import is_htmx, web_view
from rapport.privacy import services
from rapport.privacy.forms import ConsentForm
from rapport.privacy.selectors import consent_panel_context


def _admin_only(request: AuthedHttpRequest) -> None:
    from rapport.core.visibility import scope_for

    if scope_for(request.user).role != "admin":
        raise PermissionDenied(_("Only administrators handle data-subject requests."))


def _panel(request: AuthedHttpRequest, card: object, form: ConsentForm | None = None, status: int = 200) -> HttpResponse:
    panel = consent_panel_context(request.user, card)  # type: ignore[arg-type]
    assert panel is not None
    if form is not None:
        panel["form"] = form
    return render(request, "privacy/_card_panel.html", {"card": card, "panel": {"data": panel}}, status=status)


@require_POST
@web_view
def add_consent(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    from rapport.core.visibility import scope_for

    card = cards.get_card(request.user, card_id, Kind.PERSON)
    form = ConsentForm(request.POST, special=scope_for(request.user).may_see_special)
    if form.is_valid():
        try:
            services.record_consent(user=request.user, card=card, purpose=form.cleaned_data["purpose"], legal_basis=form.legal_basis())
        except ValidationError as exc:
            for key, msgs in exc.errors.items():
                name = key.split(".")[-1]
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
    if form.errors:
        if is_htmx(request):
            return _panel(request, card, form, status=422)
        messages.error(request, _("The consent was not recorded: check the fields."))
        return redirect("card-detail", card_id=card.pk)
    if is_htmx(request):
        return _panel(request, card)
    messages.success(request, _("Consent recorded."))
    return redirect("card-detail", card_id=card.pk)


@require_POST
@web_view
def withdraw_consent(request: AuthedHttpRequest, card_id: int, consent_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id, Kind.PERSON)
    try:
        services.withdraw_consent(user=request.user, card=card, basis_id=consent_id)
    except ValidationError:
        pass  # already withdrawn: the panel shows it so
    if is_htmx(request):
        return _panel(request, card)
    messages.success(request, _("Consent withdrawn."))
    return redirect("card-detail", card_id=card.pk)


@require_GET
@web_view
def export_person(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    _admin_only(request)
    fmt = "vcard" if request.GET.get("format") == "vcard" else "json"
    document = services.export_person(user=request.user, card_id=card_id)
    if fmt == "vcard":
        response = HttpResponse(services.vcard_of(document), content_type="text/vcard; charset=utf-8")
    else:
        response = HttpResponse(services.export_json(document), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{card_id}.{"vcf" if fmt == "vcard" else "json"}"'
    return response


@require_http_methods(["GET", "POST"])
@web_view
def erase_person(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    _admin_only(request)
    card = cards.get_card(request.user, card_id, Kind.PERSON)
    if request.method == "POST":
        if request.POST.get("confirm") != "erase":
            return render(request, "privacy/erase.html", {"card": card, "error": True}, status=422)
        result = services.erase_person(user=request.user, card_id=card.pk)
        messages.success(request, _("The person was erased. Pseudonym in the audit log: %(pseudonym)s") % {"pseudonym": result.pseudonym})
        return redirect("person-list")
    return render(request, "privacy/erase.html", {"card": card})
