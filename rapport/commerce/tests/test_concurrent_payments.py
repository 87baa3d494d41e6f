"""Payments recorded at the same moment against the same invoice never over-pay it."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection, connections

from rapport.commerce import services
from rapport.commerce.models import Allocation, Invoice, Payment
from rapport.commerce.tests.factories import invoice
from rapport.core.errors import ValidationError

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_concurrent_payments_of_30_against_an_invoice_of_100_leave_exactly_10_open(users: Any, make_org: Any) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("an in-memory SQLite test database is shared by threads through one cache; PostgreSQL runs this")
    org = make_org()
    target = invoice(users["rep_ana"], org, "100.00")
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def pay() -> None:
        try:
            start.wait()
            services.record_payment(user=users["rep_ana"], card=org, data={
                "currency": "EUR", "amount": "30", "allocations": [{"invoice": target.pk, "amount": "30"}]})
            outcomes.append("paid")
        except ValidationError:
            outcomes.append("refused")
        except OperationalError:
            outcomes.append("busy")  # SQLite's writer lock: refused as a whole, nothing written
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    target.refresh_from_db()
    assert outcomes.count("paid") == 3 or (outcomes.count("paid") < 3 and "busy" in outcomes)
    paid = outcomes.count("paid")
    assert target.open_amount == Decimal(100) - 30 * paid
    assert Allocation.objects.count() == Payment.objects.count() == paid
    assert Invoice.objects.get(pk=target.pk).open_amount >= 0
