"""Demo data brings decision units worth looking at."""

from __future__ import annotations

from typing import Any

from rapport.relationships import selectors
from rapport.relationships.models import DecisionUnit, Gift, GiftPolicy, Relationship, StageMove


def test_the_demo_adds_decision_units_with_relationships_stages_gifts_and_warnings(db: Any) -> None:
    from rapport.cards import demo

    result = demo.generate(organizations=8, people=50)
    admin = result.users["admin"]
    units = list(DecisionUnit.objects.all())
    assert len(units) >= 3
    graphs = [selectors.decision_unit(admin, u.organization_id) for u in units]
    assert all(g.edges for g in graphs)
    assert sum(1 for g in graphs if g.influence_total == 100) >= len(units) - 1
    codes = {w.code for g in graphs for w in g.warnings}
    assert {"decision_maker_not_supporter", "contact_left"} <= codes
    assert Relationship.objects.exists() and StageMove.objects.exists()
    assert GiftPolicy.objects.exists() and Gift.objects.filter(over_limit=False).exists()
