"""Signing in with a username and password, and the signed-in user of each page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from rapport.accounts.models import User
from rapport.accounts.selectors import active_user_with_teams


class TeamsBackend(ModelBackend):
    """Django's model backend, but the user of each signed-in page comes with their teams,
    managed teams and managed people in the same statement, which the visibility scope would
    otherwise ask for apart. Like the model backend, an inactive user is nobody."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            # Ends the sign-in here: the model backend listed after this one (for the sessions
            # it opened) would only hash the same wrong password a second time.
            raise PermissionDenied
        return user

    def get_user(self, user_id: Any) -> User | None:
        if isinstance(user_id, bool) or not str(user_id).isdigit() or int(str(user_id)) > 2**62:
            return None
        return active_user_with_teams(int(str(user_id)))
