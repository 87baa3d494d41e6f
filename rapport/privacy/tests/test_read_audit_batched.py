"""Confidential reads are logged with the request that showed them, before the answer leaves."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from rapport.audit.context import RequestIdMiddleware
from rapport.audit.models import AuditEntry
from rapport.privacy import read_audit
from rapport.privacy.read_audit import ReadAuditMiddleware, record_read


def serve(view: Any, user: Any) -> HttpResponse:
    request = RequestFactory().get("/cards/1/")
    request.user = user
    return RequestIdMiddleware(ReadAuditMiddleware(view))(request)


def test_the_reads_of_one_request_are_written_together_before_the_answer(users: dict[str, Any], make_org: Any) -> None:
    first, second = make_org(name="Uno"), make_org(name="Dos")
    before = AuditEntry.objects.filter(action="read").count()
    seen_during_view: list[int] = []

    def view(request: HttpRequest) -> HttpResponse:
        record_read(user=users["admin"], card=first, items=["health"])
        record_read(user=users["admin"], card=second, items=["hobbies"])
        seen_during_view.append(AuditEntry.objects.filter(action="read").count())
        return HttpResponse("card")

    response = serve(view, users["admin"])
    assert response.status_code == 200
    assert seen_during_view == [before]  # waiting on the request, not yet written
    entries = list(AuditEntry.objects.filter(action="read").order_by("id"))[before:]
    assert [(e.record_id, e.detail["items"]) for e in entries] == [(str(first.pk), ["health"]), (str(second.pk), ["hobbies"])]
    assert {e.request_id for e in entries} == {response["X-Request-ID"]}
    assert {e.actor for e in entries} == {"admin"}


def test_when_the_entries_cannot_be_written_the_answer_is_not_sent(
    users: dict[str, Any], make_org: Any, monkeypatch: Any
) -> None:
    org = make_org(name="Uno")

    def broken(entries: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr("rapport.audit.services.record_many", broken)

    def view(request: HttpRequest) -> HttpResponse:
        record_read(user=users["admin"], card=org, items=["health"])
        return HttpResponse("confidential")

    # Django's handler turns the error into a 500 page: the confidential body never leaves.
    with pytest.raises(RuntimeError):
        serve(view, users["admin"])


def test_a_read_outside_any_request_is_written_at_once(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(name="Uno")
    before = AuditEntry.objects.filter(action="read").count()
    record_read(user=users["admin"], card=org, items=["health"])
    assert AuditEntry.objects.filter(action="read").count() == before + 1


def test_a_request_without_confidential_reads_writes_nothing(users: dict[str, Any], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert serve(lambda request: HttpResponse("list"), users["admin"]).status_code == 200
    assert read_audit.flush_reads(RequestFactory().get("/")) == 0


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_each_entry_commits_on_its_own_and_is_written_before_the_answer(
    users: dict[str, Any], make_org: Any, monkeypatch: Any
) -> None:
    from types import SimpleNamespace

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's writers take turns inside a transaction")

    def no_transaction(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no BEGIN … COMMIT around the inserts")

    monkeypatch.setattr(read_audit, "transaction", SimpleNamespace(atomic=no_transaction))
    first, second = make_org(name="Uno"), make_org(name="Dos")

    def view(request: HttpRequest) -> HttpResponse:
        record_read(user=users["admin"], card=first, items=["health"])
        record_read(user=users["admin"], card=second, items=["hobbies"])
        return HttpResponse("card")

    assert serve(view, users["admin"]).status_code == 200
    written = AuditEntry.objects.filter(action="read", record_id__in=[str(first.pk), str(second.pk)])
    assert sorted(e.detail["items"][0] for e in written) == ["health", "hobbies"]
