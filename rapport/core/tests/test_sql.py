"""Rows read by hand (``rapport.core.sql``) load the same instances the ORM loads."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from rapport.accounts.models import User
from rapport.cards import services
from rapport.cards.models import Card
from rapport.core import sql

pytestmark = pytest.mark.django_db


def same_fields(model: Any, mine: Any, theirs: Any) -> None:
    for field in model._meta.concrete_fields:
        assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.name
        assert type(getattr(mine, field.attname)) is type(getattr(theirs, field.attname)), field.name


def read(model: Any, pk: int) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql.select_columns(model, 'x')} FROM {sql.table(model)} x WHERE x.{sql.column(model, 'id')} = %s", [pk])
        return sql.from_row(model, cursor.fetchone())


def test_a_card_read_by_hand_has_every_value_the_orm_gives_it(users: dict[str, Any], make_org: Any, make_person: Any) -> None:
    org = make_org(name="Ferretería Nácar", phones=["+34 912 345 678"], tier="A", website="https://nacar.example")
    person = make_person(given_name="Lucía", family_name="Núñez", organization=org.id)
    services.add_fact(user=users["rep_ana"], card=org, item_key="business_scope", value="Hardware", source_key="rep_observation")
    Card.objects.filter(pk=org.pk).update(social=[{"network": "linkedin", "handle": "nacar"}])
    for card_id in (org.pk, person.pk):
        mine, theirs = read(Card, card_id), Card.objects.get(pk=card_id)
        same_fields(Card, mine, theirs)
        assert mine._state.adding is False and mine._state.db == theirs._state.db
    assert read(Card, org.pk).profile and read(Card, org.pk).social == [{"network": "linkedin", "handle": "nacar"}]


def test_a_user_read_by_hand_has_every_value_the_orm_gives_it(users: dict[str, Any]) -> None:
    from django.utils import timezone

    User.objects.filter(pk=users["rep_ana"].pk).update(last_login=timezone.now())
    for user in users.values():
        same_fields(User, read(User, user.pk), User.objects.get(pk=user.pk))


def test_the_token_user_and_the_cards_of_the_api_come_from_rows_read_by_hand(users: dict[str, Any], make_org: Any) -> None:
    from rapport.accounts.services import _active_user
    from rapport.cards.selectors import _card_with_names

    ana = users["rep_ana"]
    same_fields(User, _active_user(ana.pk), User.objects.get(pk=ana.pk))
    org = make_org(name="Nácar")
    card, _contacts = _card_with_names(org.pk)
    assert card is not None
    same_fields(Card, card, Card.objects.get(pk=org.pk))
    assert card.owner.get_username() == org.owner.get_username() and card.owner.is_active is True
    User.objects.filter(pk=org.owner_id).update(is_active=False)
    assert _active_user(org.owner_id) is None
    reread, _contacts = _card_with_names(org.pk, contacts=True)
    assert reread is not None and reread.owner.is_active is False
