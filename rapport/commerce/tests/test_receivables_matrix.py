"""The collection matrix: every overdue invoice in exactly one cell, with each team's thresholds."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest

from rapport.accounts.models import Team
from rapport.commerce import selectors, services
from rapport.commerce.models import Cell, Invoice
from rapport.commerce.tests.factories import api, invoice

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 6, 30)


def _due(days_overdue: int) -> str:
    return (AS_OF - dt.timedelta(days=days_overdue)).isoformat()


def test_each_overdue_invoice_lands_in_the_cell_of_its_age_and_amount(users: Any, make_org: Any) -> None:
    services.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=45, large_from="1000")
    org = make_org()
    ana = users["rep_ana"]
    for amount, days in (("100", 10), ("5000", 10), ("100", 60), ("5000", 60), ("999.99", 45), ("1000", 46), ("70", -3)):
        invoice(ana, org, amount, issued="2026-01-01", due=_due(days))
    matrix = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    counts = {cell: total.count for cell, total in matrix.cells.items()}
    assert counts == {Cell.SHORT_SMALL: 2, Cell.SHORT_LARGE: 1, Cell.LONG_SMALL: 1, Cell.LONG_LARGE: 2}
    assert matrix.cells[Cell.LONG_LARGE].amounts == {"EUR": Decimal("6000")}
    assert matrix.aging_counts["current"] == 1 and matrix.aging["current"] == {"EUR": Decimal("70")}


def test_a_teams_own_thresholds_override_the_default_for_its_customers_only(users: Any, make_org: Any) -> None:
    north = Team.objects.get(name="North")
    services.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=30, large_from="1000")
    services.set_collection_policy(user=users["admin"], team=north, currency="EUR", long_after_days=90, large_from="100")
    ours = make_org()
    theirs = make_org(owner="rep_bo_other_team", name="Sur")
    invoice(users["rep_ana"], ours, "500", issued="2026-01-01", due=_due(60))
    invoice(users["rep_bo_other_team"], theirs, "500", issued="2026-01-01", due=_due(60))
    assert ours.team_id == north.pk
    matrix = selectors.receivables_matrix(users["admin"], as_of=AS_OF)
    assert matrix.cells[Cell.SHORT_LARGE].count == 1 and matrix.cells[Cell.LONG_SMALL].count == 1


def test_the_matrix_agrees_with_placing_each_invoice_one_by_one(users: Any, make_org: Any) -> None:
    """Randomised: the grouped SQL and the per-invoice rule put the same invoices in the same cells."""
    north = Team.objects.get(name="North")
    services.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=30, large_from="1000")
    services.set_collection_policy(user=users["admin"], team=north, currency="EUR", long_after_days=75, large_from="250")
    services.set_collection_policy(user=users["admin"], team=None, currency="USD", long_after_days=20, large_from="5000")
    cards = [make_org(name=f"Cliente {i}", owner=("rep_ana" if i % 2 else "rep_bo_other_team")) for i in range(6)]
    rng = random.Random(7)
    for i in range(300):
        card = rng.choice(cards)
        Invoice.objects.create(card=card, currency=rng.choice(["EUR", "USD", "RON"]), issued_on=dt.date(2025, 1, 1),
                               due_on=AS_OF - dt.timedelta(days=rng.randint(-20, 200)),
                               amount=Decimal(rng.choice([50, 249.99, 250, 999, 1000, 4999, 5000, 20000])),
                               open_amount=Decimal(0), external_id=f"R-{i}", owner_id=card.owner_id, team_id=card.team_id)
    Invoice.objects.update(open_amount=models_amount())
    policies = selectors.policy_table()
    from rapport.core.visibility import visible_to

    for user in ("admin", "rep_ana", "manager_mei", "rep_bo_other_team"):
        visible = set(visible_to(users[user]).values_list("id", flat=True))
        expected: dict[str, int] = {c: 0 for c in Cell.values}
        for inv in Invoice.objects.select_related("card").filter(card_id__in=visible):
            days = (AS_OF - inv.due_on).days
            if days > 0:
                expected[selectors.cell_of(days, inv.open_amount, selectors.thresholds(inv.card.team_id, inv.currency, policies))] += 1
        matrix = selectors.receivables_matrix(users[user], as_of=AS_OF)
        got = {c: t.count for c, t in matrix.cells.items()}
        assert got == expected, user
        for cell in Cell.values:
            drill = selectors.cell_invoices(users[user], cell, as_of=AS_OF, limit=10_000)
            assert len(drill) == got[cell]


def models_amount() -> Any:
    from django.db.models import F

    return F("amount")


def test_a_rep_sees_only_the_receivables_of_customers_they_may_see(users: Any, make_org: Any) -> None:
    invoice(users["rep_ana"], make_org(), "10", issued="2026-01-01", due=_due(5))
    invoice(users["rep_bo_other_team"], make_org(owner="rep_bo_other_team", name="Sur"), "10", issued="2026-01-01", due=_due(5))
    assert selectors.receivables_matrix(users["rep_ana"], as_of=AS_OF).cells[Cell.SHORT_SMALL].count == 1
    assert selectors.receivables_matrix(users["admin"], as_of=AS_OF).cells[Cell.SHORT_SMALL].count == 2
    body = api(users["rep_bo_other_team"]).get("/api/v1/reports/receivables", {"as_of": AS_OF.isoformat()}).json()
    assert {c["cell"]: c["count"] for c in body["cells"]}["short_small"] == 1
    assert body["cells"][0]["action"] == "Routine reminder"


def test_the_receivables_api_filters_by_team_and_rep_and_refuses_bad_dates(users: Any, make_org: Any) -> None:
    north = Team.objects.get(name="North")
    invoice(users["rep_ana"], make_org(), "10", issued="2026-01-01", due=_due(5))
    client = api(users["admin"])
    by_team = client.get("/api/v1/reports/receivables", {"as_of": AS_OF.isoformat(), "team": str(north.pk)}).json()
    by_rep = client.get("/api/v1/reports/receivables", {"as_of": AS_OF.isoformat(), "rep": users["rep_ben"].pk}).json()
    assert sum(c["count"] for c in by_team["cells"]) == 1 and sum(c["count"] for c in by_rep["cells"]) == 0
    assert client.get("/api/v1/reports/receivables", {"as_of": "June"}).status_code == 422
    aging = client.get("/api/v1/reports/aging", {"by": "rep", "as_of": AS_OF.isoformat()}).json()
    assert aging["items"][0]["key"] == users["rep_ana"].pk and aging["items"][0]["days_1_30"] == "10.00"
