"""Request types shared by the HTML views and the REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
