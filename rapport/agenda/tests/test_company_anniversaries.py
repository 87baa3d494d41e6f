"""Company anniversaries: the years an organisation has been our customer, from its first
order, and the round years since its founding (*Year founded*, a year without a day)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rapport.agenda import reminders
from rapport.agenda.models import Source, Task

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2027, 5, 10)


@pytest.fixture
def org(make_org: Any) -> Any:
    return make_org(addresses=[{"city": "Bilbao", "country": "ES"}])


def order(users: Any, card: Any, on: str, status: str = "delivered") -> Any:
    from rapport.commerce.services import create_order

    return create_order(user=users["rep_ana"], card=card, data={
        "currency": "EUR", "ordered_on": on, "status": status,
        "lines": [{"description": "Goods", "quantity": 1, "unit_price": "100"}]})


def anniversaries() -> list[Task]:
    return list(Task.objects.filter(source=Source.COMPANY_ANNIVERSARY).order_by("due_on", "id"))


def test_the_day_of_the_first_order_comes_back_each_year_with_the_years_as_our_customer(users: Any, org: Any) -> None:
    order(users, org, "2023-05-12")
    order(users, org, "2024-05-13")  # a later order is no anniversary
    reminders.generate(as_of=MONDAY)
    [task] = anniversaries()
    assert task.due_on == dt.date(2027, 5, 12) and task.card == org and task.owner.username == "rep_ana"
    assert "4" in task.title and "2023-05-12" in task.why
    assert task.suggestion.startswith("Felicidades a Distribuidora Norte")  # in the customer's language


def test_running_the_day_twice_makes_one_anniversary(users: Any, org: Any) -> None:
    order(users, org, "2023-05-12")
    reminders.generate(as_of=MONDAY)
    reminders.generate(as_of=MONDAY)
    assert len(anniversaries()) == 1


def test_an_earlier_order_learned_later_moves_the_anniversary(users: Any, org: Any) -> None:
    order(users, org, "2023-05-12")
    reminders.generate(as_of=MONDAY)
    order(users, org, "2021-05-14")  # imported from the old ERP: the customer is older than we knew
    reminders.generate(as_of=MONDAY)
    [task] = anniversaries()
    assert task.due_on == dt.date(2027, 5, 14) and "6" in task.title


def test_drafts_and_cancelled_orders_do_not_make_a_customer(users: Any, org: Any) -> None:
    order(users, org, "2023-05-12", status="draft")
    order(users, org, "2022-05-13", status="cancelled")
    reminders.generate(as_of=MONDAY)
    assert anniversaries() == []


def test_a_first_order_on_29_february_is_remembered_on_28_february_in_a_common_year(users: Any, org: Any) -> None:
    order(users, org, "2024-02-29")
    reminders.generate(as_of=dt.date(2027, 2, 25))
    [task] = anniversaries()
    assert task.due_on == dt.date(2027, 2, 28) and "3" in task.title


def test_a_first_order_on_29_february_stays_on_29_february_in_a_leap_year(users: Any, org: Any) -> None:
    order(users, org, "2024-02-29")
    reminders.generate(as_of=dt.date(2028, 2, 25))
    assert [t.due_on for t in anniversaries()] == [dt.date(2028, 2, 29)]


def test_a_first_order_this_year_is_no_anniversary_yet(users: Any, org: Any) -> None:
    order(users, org, "2027-05-03")
    reminders.generate(as_of=MONDAY)
    assert anniversaries() == []


def test_an_individual_customers_first_order_makes_no_company_anniversary(users: Any, make_person: Any) -> None:
    order(users, make_person(), "2023-05-12")
    reminders.generate(as_of=MONDAY)
    assert anniversaries() == []


def test_a_round_anniversary_of_the_founding_is_reminded_in_mid_january_without_a_day(users: Any, org: Any, fact: Any) -> None:
    fact(org, "founded_year", 2002)
    reminders.generate(as_of=dt.date(2027, 1, 11))
    [task] = anniversaries()
    assert task.due_on == dt.date(2027, 1, 15) and "25" in task.title and "2002" in task.why
    assert "not known" in task.why


@pytest.mark.parametrize("founded", [2003, 2027, 1200])
def test_a_founding_year_that_is_not_a_round_anniversary_or_not_plausible_reminds_nothing(users: Any, org: Any, fact: Any,
                                                                                          founded: int) -> None:
    fact(org, "founded_year", founded)
    reminders.generate(as_of=dt.date(2027, 1, 11))
    assert anniversaries() == []


def test_the_founding_anniversary_is_not_reminded_outside_its_week(users: Any, org: Any, fact: Any) -> None:
    fact(org, "founded_year", 2002)
    reminders.generate(as_of=MONDAY)
    assert anniversaries() == []


def test_an_archived_organisation_gets_no_anniversary(users: Any, org: Any) -> None:
    from rapport.cards.services import archive_card

    order(users, org, "2023-05-12")
    archive_card(user=users["rep_ana"], card=org, archived=True)
    reminders.generate(as_of=MONDAY)
    assert anniversaries() == []
