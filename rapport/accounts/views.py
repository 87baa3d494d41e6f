"""Signing in and out, and choosing the interface language."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from rapport.accounts.forms import LanguageForm, LoginForm
from rapport.accounts import services


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
