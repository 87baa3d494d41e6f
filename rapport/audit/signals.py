"""Sign-in events: Django's auth signals are the one place they can be observed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from rapport.audit.models import Action
from rapport.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record(action=Action.LOGIN, record=user, actor=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(action=Action.LOGOUT, record=user, actor=user)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The username tried is kept (clipped); the password never is (Django masks it anyway).
    record(action=Action.LOGIN_FAILED, record_type="accounts.user", detail={"username": str(credentials.get("username", ""))[:150]})
