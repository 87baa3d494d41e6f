"""Audit entries of confidential reads, written with the request that showed the data.

A page or an API answer may show confidential or special items of several cards; each read
is logged (``rapport.cards.selectors.audit_read``). Written one by one, in autocommit, every
read became a write transaction of its own that queued for the database's write lock. Here the
entries of one request wait on the request and are written together (on SQLite in one
transaction; on PostgreSQL each insert commits on its own, which saves a round trip) after the
view has built its answer and before the answer leaves: if that write fails, the client gets an
error instead of the data, so no confidential read goes unlogged.

Outside a request (a command, a job) an entry is written at once.
"""

from __future__ import annotations

from typing import Any, Callable

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from rapport.audit.context import current_request

_PENDING = "_rapport_pending_reads"


def record_read(*, user: Any, card: Any, items: list[str]) -> None:
    """Logs that ``user`` was shown the confidential or special ``items`` of ``card``."""
    from rapport.audit.services import record

    entry = {"action": "read", "record": card, "actor": user, "detail": {"items": items}}
    request = current_request()
    if request is None:
        record(**entry)
        return
    pending: list[dict[str, Any]] | None = getattr(request, _PENDING, None)
    if pending is None:
        pending = []
        setattr(request, _PENDING, pending)
    pending.append(entry)


def flush_reads(request: HttpRequest) -> int:
    """Writes the request's pending read entries in one transaction; returns how many."""
    from rapport.audit.services import record_many

    pending: list[dict[str, Any]] = getattr(request, _PENDING, None) or []
    if not pending:
        return 0
    setattr(request, _PENDING, [])
    if connection.vendor == "sqlite" or connection.in_atomic_block:
        # SQLite's writers take their turns by transaction (rapport.core.sqlite).
        with transaction.atomic():
            record_many(pending)
    else:
        # Elsewhere each insert is a transaction of its own, one round trip fewer than BEGIN …
        # COMMIT: an entry that fails to be written fails the request all the same.
        record_many(pending)
    return len(pending)


class ReadAuditMiddleware:
    """Writes the read entries a request collected before its answer is sent.

    Sits inside ``RequestIdMiddleware`` so that the entries carry the request's id and address.
    An error while writing them propagates, and Django answers 500 without the data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        flush_reads(request)
        return response
