"""The collection matrix of someone who sees every invoice is added up one slice of the ledger at a
time (a currency, then each team with thresholds of its own in it): the same cells, amounts and
aging as grouping every invoice by currency, due date and team, and as placing each invoice by
hand."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest

from rapport.accounts.models import Team
from rapport.commerce import selectors, services
from rapport.commerce.models import OPEN_INVOICE, Cell, Invoice, InvoiceKind

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 6, 30)


def _by_hand(invoices: list[Invoice], policies: Any) -> tuple[dict[str, tuple[int, dict[str, Decimal]]], dict[str, dict[str, Decimal]],
                                                            dict[str, int]]:
    """Each open invoice (not a credit note) issued by AS_OF placed one by one with the rule."""
    cells: dict[str, tuple[int, dict[str, Decimal]]] = {c: (0, {}) for c in Cell.values}
    aging: dict[str, dict[str, Decimal]] = {b: {} for b in selectors.AGING_BUCKETS}
    counts = {b: 0 for b in selectors.AGING_BUCKETS}
    for inv in invoices:
        if not inv.is_open or inv.kind != InvoiceKind.INVOICE or inv.issued_on > AS_OF:
            continue
        days = (AS_OF - inv.due_on).days
        bucket = selectors.bucket_of(days)
        aging[bucket][inv.currency] = aging[bucket].get(inv.currency, Decimal(0)) + inv.open_amount
        counts[bucket] += 1
        if days > 0:
            cell = selectors.cell_of(days, inv.open_amount, selectors.thresholds(inv.team_id, inv.currency, policies))
            n, amounts = cells[cell]
            amounts[inv.currency] = amounts.get(inv.currency, Decimal(0)) + inv.open_amount
            cells[cell] = (n + 1, amounts)
    return cells, aging, counts


def _mixed_ledger(users: Any, make_org: Any) -> list[Invoice]:
    """Four currencies; North with thresholds of its own in EUR and in GBP (where there is no
    default), South with none; invoices on every edge of the thresholds and of the aging
    buckets, some issued after AS_OF, credit notes, cancelled and settled invoices."""
    admin = users["admin"]
    north = Team.objects.get(name="North")
    services.set_collection_policy(user=admin, team=None, currency="EUR", long_after_days=30, large_from="1000")
    services.set_collection_policy(user=admin, team=north, currency="EUR", long_after_days=75, large_from="250.5")
    services.set_collection_policy(user=admin, team=None, currency="USD", long_after_days=45, large_from="5000")
    services.set_collection_policy(user=admin, team=north, currency="GBP", long_after_days=10, large_from="100")
    cards = [make_org(name=f"Cliente {i}", owner=("rep_ana" if i % 2 else "rep_bo_other_team")) for i in range(6)]
    assert {c.team_id for c in cards} == {north.pk, Team.objects.get(name="South").pk}
    rng = random.Random(11)
    days = [-20, -1, 0, 1, 10, 11, 29, 30, 31, 44, 45, 46, 60, 61, 74, 75, 76, 90, 91, 200]
    amounts = ["0.0001", "50", "99.9999", "100", "250.4999", "250.5", "250.5001", "999.99", "1000", "4999.9999", "5000",
               "20000.1234"]
    rows = []
    for i in range(600):
        card = cards[i % len(cards)]
        amount = Decimal(rng.choice(amounts))
        kind = InvoiceKind.CREDIT_NOTE if i % 37 == 0 else InvoiceKind.INVOICE
        cancelled = i % 41 == 0
        settled = i % 43 == 0
        issued = AS_OF + dt.timedelta(days=1) if i % 47 == 0 else dt.date(2025, 1, 1)
        rows.append(Invoice(
            card=card, kind=kind, currency=rng.choice(["EUR", "EUR", "USD", "RON", "GBP"]), issued_on=issued,
            due_on=AS_OF - dt.timedelta(days=rng.choice(days)), amount=amount,
            open_amount=Decimal(0) if settled or cancelled else amount, is_open=not (settled or cancelled),
            cancelled=cancelled, external_id=f"S-{i}", owner_id=card.owner_id, team_id=card.team_id,
        ))
    # Invoices without a team (a card without one) count with their currency's default.
    rows.append(Invoice(card=cards[0], currency="EUR", issued_on=dt.date(2025, 1, 1), due_on=AS_OF - dt.timedelta(days=31),
                        amount=Decimal("1000"), open_amount=Decimal("1000"), external_id="S-none", owner_id=cards[0].owner_id,
                        team_id=None))
    Invoice.objects.bulk_create(rows)
    return list(Invoice.objects.all())


def test_the_matrix_by_slice_is_the_matrix_by_group_and_by_hand(users: Any, make_org: Any) -> None:
    invoices = _mixed_ledger(users, make_org)
    policies = selectors.policy_table()
    by_slice = selectors._matrix_by_slice(AS_OF, policies)
    by_group = selectors._matrix_by_group([OPEN_INVOICE], AS_OF, policies)
    assert by_slice == by_group
    matrix = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    assert matrix == by_slice
    cells, aging, counts = _by_hand(invoices, policies)
    assert {c: (t.count, t.amounts) for c, t in matrix.cells.items()} == cells
    assert matrix.aging == aging and matrix.aging_counts == counts
    # The data set reaches every cell and bucket, in every currency it has.
    assert all(t.count for t in matrix.cells.values()) and all(counts.values())
    assert set(matrix.aging["over_90"]) == {"EUR", "USD", "RON", "GBP"}
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, is_open=True).exists()


def test_an_analyst_and_an_admin_get_the_same_matrix_and_a_filtered_one_is_still_grouped(users: Any, make_org: Any) -> None:
    _mixed_ledger(users, make_org)
    admin = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    assert selectors.receivables_matrix(users["analyst_al"], as_of=AS_OF) == admin
    north, south = Team.objects.get(name="North"), Team.objects.get(name="South")
    by_team = [selectors.receivables_matrix(users["admin"], as_of=AS_OF, team=t.pk) for t in (north, south)]
    without_team = Invoice.objects.filter(OPEN_INVOICE, team_id=None).count()
    assert without_team == 1
    assert sum(m.cells[c].count for m in by_team for c in Cell.values) + without_team == sum(t.count for t in admin.cells.values())


def test_the_matrix_by_slice_with_thresholds_only_for_a_team_or_none_at_all(users: Any, make_org: Any) -> None:
    """Without a default in a currency, only the team with thresholds has large invoices; without
    any thresholds every overdue invoice is small and long after 30 days."""
    org = make_org()
    for amount, days in (("5", 30), ("5", 31), ("1000000", 31), ("1000000", 0), ("1", -1)):
        Invoice.objects.create(card=org, currency="CHF", issued_on=dt.date(2025, 1, 1), due_on=AS_OF - dt.timedelta(days=days),
                               amount=Decimal(amount), open_amount=Decimal(amount), owner_id=org.owner_id, team_id=org.team_id)
    empty = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    assert {c: t.count for c, t in empty.cells.items()} == {Cell.SHORT_SMALL: 1, Cell.SHORT_LARGE: 0, Cell.LONG_SMALL: 2,
                                                           Cell.LONG_LARGE: 0}
    assert empty.aging_counts == {"current": 2, "1_30": 1, "31_60": 2, "61_90": 0, "over_90": 0}
    services.set_collection_policy(user=users["admin"], team=Team.objects.get(name="North"), currency="CHF", long_after_days=30,
                                   large_from="5")
    policies = selectors.policy_table()
    matrix = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    assert matrix == selectors._matrix_by_group([OPEN_INVOICE], AS_OF, policies)
    assert {c: t.count for c, t in matrix.cells.items()} == {Cell.SHORT_SMALL: 0, Cell.SHORT_LARGE: 1, Cell.LONG_SMALL: 0,
                                                            Cell.LONG_LARGE: 2}
    assert matrix.cells[Cell.LONG_LARGE].amounts == {"CHF": Decimal("1000005")}
    assert selectors.receivables_matrix(users["admin"], as_of=dt.date(2020, 1, 1)).aging_counts == {b: 0 for b in selectors.AGING_BUCKETS}


def test_the_large_invoices_of_many_due_dates_are_looked_up_in_batches(users: Any, make_org: Any, monkeypatch: Any) -> None:
    _mixed_ledger(users, make_org)
    whole = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    monkeypatch.setattr(selectors, "DAYS_PER_QUERY", 3)
    assert selectors.receivables_matrix(users["admin"], as_of=AS_OF) == whole
