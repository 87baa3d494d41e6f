"""Request types shared by the HTML views and the REST API, and the trusted-proxy wrapper of the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from django.http import HttpRequest

if TYPE_CHECKING:
    from rapport.accounts.models import User


class AuthedHttpRequest(HttpRequest):
    """A request from a signed-in user: ``request.user`` is a ``User``, never ``AnonymousUser``.

    Only for typing. Handlers may take it when something in front of them guarantees the
    user: ``rapport.core.web.web_view`` for pages, the API's authentication (``auth=`` of
    ``rapport.core.api.api``) for REST endpoints. Nothing creates instances of this class.
    """

    user: User


def if_match_version(request: HttpRequest, *, required: bool = False, what: str = "record") -> int | None:
    """The version an update is based on, from ``If-Match: "7"`` (the ETag the API sent).

    Without the header: ``None``, or PreconditionRequired (428) where an update must say it;
    anything but a version this API issued: a ValidationError (422) naming the header.
    """
    from rapport.core.errors import PreconditionRequired, ValidationError

    raw = request.headers.get("If-Match", "").strip().removeprefix("W/").strip().strip('"')
    if not raw:
        if required:
            raise PreconditionRequired(f"Send If-Match with the {what}'s ETag (read it with GET first).")
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationError.single("If-Match", f"Expected the {what}'s version as ETag.")
    return int(raw)


def sent_fields(request: HttpRequest, payload: Any) -> dict[str, Any]:
    """The fields the client sent, unknown ones included, so the service can refuse them by name."""
    import json

    data: dict[str, Any] = payload.dict(exclude_unset=True)
    try:
        raw = json.loads(request.body or b"{}")
    except ValueError:
        raw = {}
    if isinstance(raw, dict):
        for key in raw:
            data.setdefault(str(key)[:100], raw[key])
    return data


# The proxy headers a TLS-terminating proxy sets; "Forwarded" (RFC 7239) cannot be mixed with them.
PROXY_HEADERS = frozenset({"x-forwarded-proto", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port"})


def behind_proxies(app: Callable[..., Any], proxies: list[str], *, count: int = 1) -> Callable[..., Any]:
    """Wraps a WSGI application so that proxy headers count only from the trusted ``proxies``.

    From a trusted peer, waitress's own parser turns ``X-Forwarded-Proto: https`` into an https
    request (so the SSL redirect and HSTS see what the browser used) and ``X-Forwarded-For`` into
    the client's address (so sign-in throttling counts per client, not per proxy); from any
    other peer those headers are dropped. Waitress trusts one address only; this dispatcher
    accepts several, and networks.
    """
    import ipaddress

    from waitress.proxy_headers import proxy_headers_middleware

    networks = []
    for proxy in proxies:
        try:
            networks.append(ipaddress.ip_network(proxy.strip("[]"), strict=False))
        except ValueError:
            raise ValueError(f"RAPPORT_TRUSTED_PROXIES: {proxy!r} is not an IP address or network.") from None
    trusted = proxy_headers_middleware(app, trusted_proxy="*", trusted_proxy_count=max(1, count),
                                       trusted_proxy_headers=set(PROXY_HEADERS), clear_untrusted=True)
    untrusted = proxy_headers_middleware(app, trusted_proxy=None, clear_untrusted=True)

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            peer = ipaddress.ip_address(str(environ.get("REMOTE_ADDR", "")).strip("[]"))
        except ValueError:
            peer = None
        believed = peer is not None and any(peer.version == net.version and peer in net for net in networks)
        return (trusted if believed else untrusted)(environ, start_response)

    return dispatch
