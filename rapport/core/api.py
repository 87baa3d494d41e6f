"""The REST API root: authentication, error mapping and the routers of each domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import APIKeyCookie, HttpBearer

from rapport.accounts.throttle import ApiRateThrottle
from rapport.core import errors


class BearerToken(HttpBearer):
    """``Authorization: Bearer rp_…`` with a token from ``rapport token create``."""

    # A read-only token may call unsafe methods only on endpoints that change nothing (see
    # ``QueryBearerToken``).
    reads_only = False

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from rapport.accounts.services import token_for

        if not token or len(token) > 200:
            return None
        found = token_for(token)
        if found is None:
            return None
        request.user = found.user
        request.token_scope = found.scope  # type: ignore[attr-defined]
        if found.scope == "read" and request.method not in ("GET", "HEAD", "OPTIONS") and not self.reads_only:
            raise errors.PermissionDenied("This token may only read.")
        return found.user


class QueryBearerToken(BearerToken):
    """For a POST that only reads: its query is personal data (a name, a phone number), so it
    travels in the body instead of the URL, and a read-only token may still ask it."""

    reads_only = True


class Session(APIKeyCookie):
    """The web UI's session cookie, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


class FastJSONRenderer(JSONRenderer):
    """The JSON of ninja's renderer, written by orjson: dates, times, decimals, UUIDs and
    translated texts are handed to ninja's own encoder, so they read exactly as before (dates and
    times to the millisecond, UTC as "Z"); the rest is written in a fraction of the time. (An
    enum that is not also a str or int, of which the answers hold none, is written as its value.)"""

    _encoder = NinjaJSONEncoder()
    _options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=self._default, option=self._options)

    def _default(self, value: Any) -> Any:
        # A date-time, the most common by far (two in every card, a hundred in a list), goes
        # straight to Django's encoder, without first being asked the five questions of ninja's.
        if type(value) is dt.datetime:
            return DjangoJSONEncoder.default(self._encoder, value)
        return self._encoder.default(value)


api = NinjaAPI(
    title="Rapport API",
    version="1",
    description="Customer cards, facts with provenance, activities and search. Lists answer {items, count}.",
    auth=[BearerToken(), Session()],
    throttle=[ApiRateThrottle()],
    urls_namespace="api",
    renderer=FastJSONRenderer(),
)


def answer(request: HttpRequest, data: Any, *, response: HttpResponse) -> HttpResponse:
    """``data`` as the answer, rendered as it is: pydantic does not check it against the
    endpoint's schema again. For the hottest reads only, whose answer a builder of ours writes
    field by field to that schema, where the check costs a tenth of the request (a card read);
    a test holds each such builder to its schema on cards with every kind of value
    (``rapport/cards/tests/test_api_card_read.py``). ``response`` is ninja's, with the headers
    the view set on it."""
    return api.create_response(request, data, temporal_response=response)


# ``auth=`` of POST endpoints that change nothing (searches whose text must stay out of URLs).
QUERY_AUTH = [QueryBearerToken(), Session()]


def require_admin_scope(request: HttpRequest) -> None:
    """Administration endpoints: a token must carry the admin scope (the session needs none)."""
    scope = getattr(request, "token_scope", None)
    if scope is not None and scope != "admin":
        raise errors.PermissionDenied("This token lacks the admin scope.")


def _error(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(errors.ValidationError)
def on_validation_error(request: HttpRequest, exc: errors.ValidationError) -> HttpResponse:
    detail = [{"loc": ["body", field], "msg": msg, "type": "value_error"} for field, msgs in exc.errors.items() for msg in msgs]
    return _error(request, 422, {"detail": detail, "errors": exc.errors})


@api.exception_handler(errors.NotFound)
def on_not_found(request: HttpRequest, exc: errors.NotFound) -> HttpResponse:
    return _error(request, 404, {"detail": "Not found."})


@api.exception_handler(errors.PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: errors.PermissionDenied) -> HttpResponse:
    from rapport.audit.services import record

    user = getattr(request, "user", None)
    record(action="denied", actor=user if user is not None and user.is_authenticated else None,
           detail={"path": request.path[:200], "method": request.method, "reason": str(exc)[:200]})
    return _error(request, 403, {"detail": str(exc) or "Forbidden."})


@api.exception_handler(errors.Conflict)
def on_conflict(request: HttpRequest, exc: errors.Conflict) -> HttpResponse:
    return _error(request, 412, {"detail": str(exc)})


@api.exception_handler(errors.PreconditionRequired)
def on_precondition_required(request: HttpRequest, exc: errors.PreconditionRequired) -> HttpResponse:
    return _error(request, 428, {"detail": str(exc)})


def _register_routers() -> None:
    from rapport.activities.api import router as activities_router
    from rapport.agenda.api import router as agenda_router
    from rapport.analytics.api import router as analytics_router
    from rapport.aftersales.api import router as aftersales_router
    from rapport.audit.api import router as audit_router
    from rapport.cards.api import router as cards_router
    from rapport.commerce.api import router as commerce_router
    from rapport.catalog.api import router as catalog_router
    from rapport.dedup.api import router as dedup_router
    from rapport.deals.api import reports_router as deal_reports_router
    from rapport.deals.api import router as deals_router
    from rapport.funnel.api import reports_router
    from rapport.funnel.api import router as funnel_router
    from rapport.imports.api import router as imports_router
    from rapport.jobs.api import router as jobs_router
    from rapport.privacy.api import router as privacy_router
    from rapport.quality.api import router as quality_router
    from rapport.relationships.api import router as relationships_router
    from rapport.search.api import router as search_router
    from rapport.segments.api import router as segments_router
    from rapport.visits.api import router as visits_router

    api.add_router("/activities", activities_router)
    api.add_router("/agenda", agenda_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/search", search_router)
    api.add_router("/audit", audit_router)
    api.add_router("/privacy", privacy_router)
    api.add_router("/dedup", dedup_router)
    api.add_router("/quality", quality_router)
    api.add_router("/reports", reports_router)
    api.add_router("/reports", deal_reports_router)
    api.add_router("/segments", segments_router)
    api.add_router("/jobs", jobs_router)
    api.add_router("/aftersales", aftersales_router)
    api.add_router("/", deals_router)
    api.add_router("/", imports_router)
    api.add_router("/", relationships_router)
    api.add_router("/", funnel_router)
    api.add_router("/", commerce_router)
    api.add_router("/", visits_router)
    api.add_router("/", analytics_router)
    from rapport.screenpop.api import router as screenpop_router

    api.add_router("/", screenpop_router)
    # Last: its "/{kind}/{card_id}" would otherwise catch "/catalog/items" and the like
    # (Django tries URL patterns in order; ninja checks the path types only afterwards).
    api.add_router("/", cards_router)


_register_routers()
