"""Shared test fixtures: named users in two teams, and factories for cards."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.accounts.models import User


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    # A page served by the test client leaves its reader's language active in this thread.
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_catalog_cache() -> Any:
    from rapport.catalog import selectors

    selectors.clear_cache()
    yield
    selectors.clear_cache()


@pytest.fixture
def users(db: Any) -> dict[str, User]:
    """rep_ana and rep_ben in team North, rep_bo_other_team in South, manager_mei managing North,
    admin, analyst_al, and rep_sol with sensitive-data clearance in North."""
    from rapport.accounts.services import create_user

    return {
        "rep_ana": create_user(username="rep_ana", role="rep", teams=["North"], password="x", validate=False),
        "rep_ben": create_user(username="rep_ben", role="rep", teams=["North"], password="x", validate=False),
        "rep_bo_other_team": create_user(username="rep_bo_other_team", role="rep", teams=["South"], password="x", validate=False),
        "manager_mei": create_user(username="manager_mei", role="manager", manages=["North"], password="x", validate=False),
        "admin": create_user(username="admin", role="admin", password="x", validate=False),
        "analyst_al": create_user(username="analyst_al", role="analyst", password="x", validate=False),
    }


@pytest.fixture
def ana(users: dict[str, User]) -> Any:
    """rep_ana signed in to the web pages (API tests override it with a bearer-token client)."""
    from django.test import Client

    client = Client()
    client.force_login(users["rep_ana"])
    return client


@pytest.fixture
def make_org(users: dict[str, User]) -> Any:
    from rapport.cards.services import create_organization

    def make(owner: str = "rep_ana", **data: Any) -> Any:
        data.setdefault("name", "Distribuidora Norte S.A.")
        return create_organization(user=users[owner], data=data)

    return make


@pytest.fixture
def make_person(users: dict[str, User]) -> Any:
    from rapport.cards.services import create_person

    def make(owner: str = "rep_ana", **data: Any) -> Any:
        data.setdefault("given_name", "María")
        data.setdefault("family_name", "García")
        return create_person(user=users[owner], data=data)

    return make
