"""Signing in and out, choosing the interface language, and the administrators' users page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from rapport.accounts import selectors, services
from rapport.accounts.forms import LanguageForm, LoginForm
from rapport.accounts.models import User
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.locked_for:
            response.status_code = 429
            response["Retry-After"] = str(form.locked_for)
        return response


@require_POST
def change_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie and redirect) plus the choice kept on the user for next time."""
    response = set_language(request)
    form = LanguageForm(request.POST)
    if form.is_valid() and request.user.is_authenticated:
        services.set_language(user=request.user, language=form.cleaned_data["language"])
    return response


def _refuse_unless_admin(request: AuthedHttpRequest) -> HttpResponse | None:
    """The users pages are for administrators; others get the 403 page (and the denial is audited)."""
    if request.user.is_admin_role:
        return None
    from rapport.audit.services import record

    record(action="denied", actor=request.user, detail={"path": request.path[:200], "method": request.method})
    return render(request, "403.html", status=403)


@require_http_methods(["GET"])
@web_view
def user_list(request: AuthedHttpRequest) -> HttpResponse:
    refused = _refuse_unless_admin(request)
    if refused is not None:
        return refused
    return render(request, "accounts/users.html", {"users": selectors.list_users()})


@require_http_methods(["GET", "POST"])
@web_view
def user_password(request: AuthedHttpRequest, user_id: int) -> HttpResponse:
    refused = _refuse_unless_admin(request)
    if refused is not None:
        return refused
    target = User.objects.filter(pk=user_id).first()
    if target is None:
        raise Http404
    form = SetPasswordForm(target, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_password(user=target, password=form.cleaned_data["new_password1"], by=request.user)
            except ValidationError as exc:
                for message_list in exc.errors.values():
                    for message in message_list:
                        form.add_error("new_password2", message)
            else:
                messages.success(request, _("The password of %(name)s was changed.") % {"name": target.username})
                return redirect("user-list")
        status = 422
    return render(request, "accounts/password.html", {"form": form, "target": target}, status=status)
