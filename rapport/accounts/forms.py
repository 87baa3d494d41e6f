"""Forms of the account pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the attributes phones need to fill it in well."""

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocorrect": "off", "autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.locked_for = 0

    def clean(self) -> dict[str, Any]:
        """Refuses sign-ins after too many failures for the username or the address (throttling)."""
        from rapport.accounts.throttle import login_attempt, login_succeeded

        username = str(self.data.get("username", ""))[:150]
        address = (self.request.META.get("REMOTE_ADDR", "") if self.request else "") or "unknown"
        # Counted before the password is checked, so parallel guesses cannot overtake the count.
        self.locked_for = login_attempt(username, address)
        if self.locked_for:
            minutes = max(1, round(self.locked_for / 60))
            raise forms.ValidationError(
                ngettext(
                    "Too many failed sign-ins. Try again in %(minutes)d minute.",
                    "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                    minutes,
                ) % {"minutes": minutes},
                code="throttled",
            )
        cleaned = super().clean()  # a wrong password raises, and its attempt stays counted
        if self.user_cache is not None:
            login_succeeded(username, address)
        return cleaned


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
