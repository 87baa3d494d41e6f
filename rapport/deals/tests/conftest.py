from typing import Any

import pytest


@pytest.fixture
def org(make_org: Any) -> Any:
    return make_org(name="Distribuidora Norte S.A.")


@pytest.fixture
def make_deal(users: Any, org: Any) -> Any:
    """Opens a deal with rep_ana's organisation (or the given card) through the service."""
    from rapport.deals.services import create_deal

    def make(user: str = "rep_ana", card: Any = None, **data: Any) -> Any:
        card = card or org
        data.setdefault("name", "Forklift fleet renewal")
        data.setdefault("amount", "120000")
        data.setdefault("currency", "EUR")
        data.setdefault("expected_close", "2027-03-31")
        return create_deal(user=users[user], data={card.kind: card.pk, **data})

    return make


@pytest.fixture
def all_yes(users: Any) -> Any:
    """Answers the four opportunity questions yes."""
    from rapport.deals.services import answer_question

    def answer(deal: Any, user: str = "rep_ana") -> None:
        for key in ("opportunity", "solution", "win", "worth"):
            answer_question(user=users[user], deal=deal, key=key, answer="yes", justification="Seen in the tender.")

    return answer
