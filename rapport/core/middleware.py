"""Security headers on every page: a strict Content-Security-Policy with no inline code."""

from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse

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
