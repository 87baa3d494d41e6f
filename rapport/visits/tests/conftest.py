from typing import Any

import pytest


@pytest.fixture
def org(make_org: Any) -> Any:
    return make_org(name="Distribuidora Norte S.A.")


@pytest.fixture
def make_visit(users: Any, org: Any) -> Any:
    """Plans a visit to rep_ana's organisation (or the given card) through the service."""
    from rapport.visits.services import create_visit

    def make(user: str = "rep_ana", card: Any = None, **data: Any) -> Any:
        card = card or org
        data.setdefault("date", "2027-03-15")
        return create_visit(user=users[user], data={card.kind: card.pk, **data})

    return make
