"""Helpers shared by the HTML views of every app: sign-in, domain errors, htmx fragments."""

from __future__ import annotations

import functools
from typing import Any, Callable, Concatenate, ParamSpec, TypeGuard, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render, resolve_url
from django.utils.cache import patch_vary_headers

from rapport.core.errors import NotFound, PermissionDenied
from rapport.core.http import AuthedHttpRequest

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def is_signed_in(request: HttpRequest) -> TypeGuard[AuthedHttpRequest]:
    """True when ``request.user`` is a signed-in ``User`` (not ``AnonymousUser``)."""
    return request.user.is_authenticated


def web_view(view: Callable[Concatenate[AuthedHttpRequest, P], R]) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]:
    """Signed-in users only; domain errors become 404 and 403 pages.

    The view receives the request as an ``AuthedHttpRequest``: ``request.user`` is a ``User``.

    An htmx request from an expired session is told to load the login page instead of
    swapping it into a fragment.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponse:
        if not is_signed_in(request):
            if is_htmx(request):
                reload = HttpResponse(status=204)
                current = request.headers.get("HX-Current-URL", "")
                reload["HX-Redirect"] = resolve_url(settings.LOGIN_URL) + ("?" + urlencode({"next": current}) if current else "")
                return reload
            return redirect_to_login(request.get_full_path())
        try:
            response = view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from None
        except PermissionDenied as exc:
            from rapport.audit.services import record

            record(action="denied", actor=request.user, detail={"path": request.path[:200], "method": request.method, "reason": str(exc)[:200]})
            raise HttpForbidden(str(exc)) from None
        # Pages and fragments carry customer data: no copy in shared or browser caches.
        response.setdefault("Cache-Control", "no-store")
        return response

    return wrapper


def fragment_or_page(request: HttpRequest, fragment: str, page: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The same view answers a full page, or only the fragment when htmx asks."""
    response = render(request, fragment if is_htmx(request) else page, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
