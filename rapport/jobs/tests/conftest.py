"""Fixtures of the background-job tests: the queue in immediate mode (each job runs in the
test, from memory), a job maker, and API clients with bearer tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import User


@pytest.fixture(autouse=True)
def immediate_queue() -> Iterator[Any]:
    from rapport.jobs.queue import huey

    before = huey.immediate
    huey.immediate = True  # in-memory storage: nothing reaches the real queue file
    yield huey
    huey.immediate = before


@pytest.fixture
def api() -> Any:
    from rapport.accounts.services import create_token

    def client(user: User) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")

    return client


@pytest.fixture
def queued(users: dict[str, User]) -> Any:
    """A job waiting in the table (not on the queue), asked by the named user."""
    from rapport.jobs.models import Job

    def make(user: str | None = "rep_ana", kind: str = "dedup_scan", **fields: Any) -> Job:
        fields.setdefault("params", {"kind": "person"})
        return Job.objects.create(kind=kind, user=users[user] if user else None, **fields)

    return make
