"""Applies the signed-in user's language preference before Accept-Language is consulted."""

from __future__ import annotations

from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Runs before LocaleMiddleware: a saved preference wins over the browser's header,
        # and the language cookie (set by the switcher) wins over both.
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            language = self._preferred(request)
            if language:
                request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = language
        return self.get_response(request)

    @staticmethod
    def _preferred(request: HttpRequest) -> str:
        from django.contrib.auth.middleware import get_user

        user = get_user(request)
        return getattr(user, "language", "") if user.is_authenticated else ""
