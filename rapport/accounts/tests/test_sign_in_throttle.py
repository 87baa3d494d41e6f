"""Sign-in throttling: one allowance per account however its name is spelled, counted atomically."""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from rapport.accounts.forms import LoginForm


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("spelling", ["ｊａｋｅ", "𝐣𝐚𝐤𝐞", "JAKE", " jake ", "jaｋe"])
def test_a_locked_account_cannot_be_reached_through_another_spelling_of_its_name(db: Any, settings: Any, spelling: str) -> None:
    from rapport.accounts.services import create_user

    settings.RAPPORT_LOGIN_MAX_FAILURES = 5
    create_user(username="jake", role="rep", password="right-horse-battery", validate=False)
    client = Client()
    for _ in range(5):
        assert client.post("/login/", {"username": "jake", "password": "wrong"}).status_code == 200
    locked = client.post("/login/", {"username": spelling, "password": "right-horse-battery"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_guesses_under_other_spellings_count_against_the_same_account(db: Any, settings: Any) -> None:
    from rapport.accounts.services import create_user

    settings.RAPPORT_LOGIN_MAX_FAILURES = 3
    create_user(username="jake", role="rep", password="right-horse-battery", validate=False)
    client = Client()
    for spelling in ("ｊａｋｅ", "𝐣𝐚𝐤𝐞", "Jake"):
        assert client.post("/login/", {"username": spelling, "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "jake", "password": "right-horse-battery"}).status_code == 429


def test_parallel_wrong_sign_ins_check_no_more_passwords_than_the_limit(settings: Any) -> None:
    settings.RAPPORT_LOGIN_MAX_FAILURES = 5
    settings.RAPPORT_LOGIN_MAX_FAILURES_PER_ADDRESS = 1000
    checked: list[str] = []
    guard = threading.Lock()

    def slow_wrong_password(request: Any, **credentials: Any) -> None:
        with guard:
            checked.append(credentials["username"])
        time.sleep(0.02)  # a password hash takes time: the window the race needs
        return None

    start = threading.Barrier(30)
    outcomes: list[bool] = []

    def sign_in() -> None:
        request = RequestFactory().post("/login/", REMOTE_ADDR="198.51.100.7")
        form = LoginForm(request, data={"username": "jake", "password": "guess"})
        start.wait()
        outcomes.append(form.is_valid())

    with mock.patch("django.contrib.auth.forms.authenticate", slow_wrong_password):
        threads = [threading.Thread(target=sign_in) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(outcomes) == 30 and not any(outcomes)
    assert len(checked) == 5


def test_a_right_password_clears_the_account_count_but_not_other_accounts(db: Any, settings: Any) -> None:
    from rapport.accounts.services import create_user

    settings.RAPPORT_LOGIN_MAX_FAILURES = 3
    create_user(username="jake", role="rep", password="right-horse-battery", validate=False)
    client = Client()
    for _ in range(2):
        client.post("/login/", {"username": "jake", "password": "wrong"})
    assert client.post("/login/", {"username": "jake", "password": "right-horse-battery"}).status_code == 302
    fresh = Client()
    for _ in range(3):
        assert fresh.post("/login/", {"username": "jake", "password": "wrong"}).status_code == 200
    assert fresh.post("/login/", {"username": "jake", "password": "right-horse-battery"}).status_code == 429


def test_an_empty_or_oversized_username_is_refused_without_an_error(db: Any) -> None:
    client = Client()
    assert client.post("/login/", {"username": "", "password": "x"}).status_code == 200
    assert client.post("/login/", {"username": "j" * 5000, "password": "x"}).status_code == 200
