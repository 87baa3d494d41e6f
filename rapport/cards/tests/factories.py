"""Object graphs for card tests: a busy organisation, as a rep meets it after a few years of work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rapport.cards.models import Card


@dataclass
class BusyOrganization:
    """An organisation with its people, its timeline and its commercial record."""

    organization: Card
    people: list[Card]


def busy_organization(
    owner: Any, *, people: int = 20, activities: int = 200, name: str = "Distribuidora Central S.A."
) -> BusyOrganization:
    """An organisation owned by ``owner`` with ``people`` employees, ``activities`` timeline
    entries, a decision unit with reporting lines, facts, deals, orders, invoices, visits and a
    service case: every panel of the card page has something to show."""
    from rapport.activities.services import log_activity
    from rapport.aftersales.services import open_case
    from rapport.cards import services
    from rapport.commerce.services import create_invoice, create_order
    from rapport.deals.services import create_deal
    from rapport.relationships.services import add_member, add_relationship
    from rapport.visits.services import create_visit

    org = services.create_organization(user=owner, data={
        "name": name, "tier": "A", "industry": "Wholesale", "phones": ["+34 912 345 678"], "emails": ["info@central.example"],
    })
    for item_key, value in (("business_scope", "Hardware"), ("business_scope", "Tools and hardware")):
        services.add_fact(user=owner, card=org, item_key=item_key, value=value, source_key="rep_observation")
    staff = []
    for i in range(people):
        person = services.create_person(user=owner, data={
            "given_name": f"Persona{i:02d}", "family_name": "Ruiz", "phones": [f"+34 612 345 {i:03d}"],
            "emails": [f"p{i}@central.example"],
        })
        services.add_employment(user=owner, person=person, data={"organization": org.pk, "title": "Buyer" if i % 2 else "Manager"})
        staff.append(person)
    for i, person in enumerate(staff[:8]):
        add_member(user=owner, organization_id=org.pk, data={"person": person.pk, "influence": 1 + i % 5})
    for boss, report in zip(staff[:4], staff[1:5]):
        add_relationship(user=owner, data={"from_person": report.pk, "to_person": boss.pk, "kind": "reports_to"})
    start = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
    for i in range(activities):
        log_activity(user=owner, data={
            "kind": ("call", "visit", "meeting", "note")[i % 4], "summary": f"Conversation {i}",
            "occurred_at": (start + dt.timedelta(days=i * 2)).isoformat(), "cards": [org.pk, staff[i % len(staff)].pk],
        })
    for i in range(3):
        create_deal(user=owner, data={
            "organization": org.pk, "name": f"Fleet renewal {i}", "amount": str(10000 * (i + 1)), "currency": "EUR",
            "expected_close": "2027-03-31",
        })
    for i in range(6):
        on = (dt.date(2025, 2, 1) + dt.timedelta(days=40 * i)).isoformat()
        order = create_order(user=owner, card=org, data={
            "currency": "EUR", "ordered_on": on, "lines": [{"description": "Goods", "quantity": 1 + i, "unit_price": "120.00"}],
        })
        create_invoice(user=owner, card=org, data={
            "currency": "EUR", "amount": str(120 * (1 + i)), "issued_on": on, "due_on": on, "external_id": f"F-{org.pk}-{i}",
        }, order=order)
    for i in range(3):
        create_visit(user=owner, data={"organization": org.pk, "date": (dt.date(2027, 3, 15) + dt.timedelta(days=7 * i)).isoformat()})
    open_case(user=owner, card=org, data={"subject": "Late delivery"})
    return BusyOrganization(organization=org, people=staff)
