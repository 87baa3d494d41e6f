"""Request types shared by the HTML views and the REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
