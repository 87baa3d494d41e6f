"""The request being served, so audit entries know who, from where and under which request id."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Callable

from django.http import HttpRequest, HttpResponse

_current: ContextVar[HttpRequest | None] = ContextVar("rapport_request", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request() -> HttpRequest | None:
    return _current.get()


def request_id() -> str:
    request = _current.get()
    return getattr(request, "request_id", "") if request is not None else ""


class RequestIdMiddleware:
    """Gives each request an id (a well-formed ``X-Request-ID`` from a proxy is kept), echoes it
    in the response and makes the request reachable from the audit service."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        token = _current.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response
