"""Security headers on every page (a strict Content-Security-Policy with no inline code), and
JSON-only answers from the API."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

# No 'unsafe-inline' or 'unsafe-eval': every script and style is a file under /static/.
STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# Django's admin still ships a few inline scripts and styles.
ADMIN_POLICY = STRICT_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def _tile_origin() -> str:
    """The map tile server's origin (``RAPPORT_MAP_TILES``), allowed as an image source."""
    from urllib.parse import urlsplit

    from django.conf import settings

    parts = urlsplit(str(getattr(settings, "RAPPORT_MAP_TILES", "") or ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")  # Leaflet's subdomain placeholder
    return f"{parts.scheme}://{host}"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = ADMIN_POLICY if request.path.startswith("/admin/") else STRICT_POLICY
        tiles = _tile_origin() if request.path.startswith("/visits/route") else ""
        if tiles:
            policy = policy.replace("img-src 'self' data:", f"img-src 'self' data: {tiles}")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        if request.path.startswith("/api/"):
            # Every API answer may carry personal data: never kept by a browser or a proxy.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


# JSON escapes of UTF-16 surrogates (\ud800–\udfff): a valid pair encodes one character
# outside the Basic Multilingual Plane; a lone one is text that no database can store.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def has_lone_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value holds a string with an unpaired surrogate, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _json(status: int, detail: str) -> HttpResponse:
    return JsonResponse({"detail": detail}, status=status)


class ApiJsonMiddleware:
    """Every answer under ``/api/`` is JSON, whatever refused the request.

    Refuses what would otherwise fail deep inside (or be answered by Django's HTML pages): a
    JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), text with a lone surrogate, which
    neither SQLite nor PostgreSQL can store (422, like any other bad text), and turns Django's
    own HTML error pages (an unknown URL, a server error) into ``{"detail": ...}``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        refused = self._refuse(request)
        response = refused or self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            reason = response.reason_phrase or "Error"
            converted = _json(response.status_code, reason + ".")
            for header in ("Retry-After", "Allow", "WWW-Authenticate", "X-Request-ID"):
                if header in response:
                    converted[header] = response[header]
            return converted
        return response

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse | None:
        if "json" not in (request.content_type or "") or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        try:
            body = request.body  # read now so that an oversized body is refused here, as JSON
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
            return _json(413, f"The request body is larger than {limit // (1024 * 1024) or 1} MB.")
        if _SURROGATE_ESCAPE.search(body):
            try:
                data = json.loads(body)
            except ValueError:
                return None  # the API answers malformed JSON itself
            if has_lone_surrogate(data):
                return JsonResponse(
                    {"detail": [{"loc": ["body"], "msg": "Text contains an invalid character (a lone surrogate).",
                                 "type": "value_error"}]},
                    status=422,
                )
        return None
