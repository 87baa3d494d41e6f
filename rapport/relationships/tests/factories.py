"""Object graphs for relationship tests: an organisation with people employed at it."""

from __future__ import annotations

from typing import Any

from rapport.cards.models import Card
from rapport.cards.services import add_employment, create_organization, create_person


def org_with_people(users: dict[str, Any], owner: str = "rep_ana", names: tuple[str, ...] = ("Ana", "Luis", "Marta")) -> tuple[Card, list[Card]]:
    user = users[owner]
    org = create_organization(user=user, data={"name": "Hospital Central"})
    people = []
    for name in names:
        person = create_person(user=user, data={"given_name": name, "family_name": "Ruiz"})
        add_employment(user=user, person=person, data={"organization": org.pk, "title": "Staff"})
        people.append(person)
    return org, people
