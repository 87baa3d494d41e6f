from typing import Any

import pytest


@pytest.fixture
def person(make_person: Any) -> Any:
    """rep_ana's contact María García, in Spain."""
    return make_person(addresses=[{"city": "Bilbao", "country": "ES"}])


@pytest.fixture
def fact(users: Any) -> Any:
    """Records a fact on a card as rep_ana (or the given user)."""
    from rapport.cards.services import add_fact

    def record(card: Any, item: str, value: Any, user: str = "rep_ana") -> Any:
        return add_fact(user=users[user], card=card, item_key=item, value=value, source_key="rep_observation")

    return record


@pytest.fixture
def task(users: Any) -> Any:
    """Adds a task through the service (rep_ana's by default)."""
    from rapport.agenda.services import create_task

    def make(user: str = "rep_ana", **data: Any) -> Any:
        data.setdefault("title", "Send the new price list")
        return create_task(user=users[user], data=data)

    return make
