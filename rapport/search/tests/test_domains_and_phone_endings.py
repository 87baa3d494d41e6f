"""Search by e-mail or website domain (everyone at a company) and by the last digits of a phone number."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.cards.services import add_employment
from rapport.search.selectors import search_cards


def names(user: Any, q: str, **kw: Any) -> list[str]:
    return [c.display_name for c in search_cards(user, q, **kw)]


@pytest.fixture
def ariza(make_person: Any, make_org: Any, users: Any) -> dict[str, Any]:
    company = make_org(name="Concesionario Ariza", website="https://www.concesionarioariza.es/contacto")
    juan = make_person(given_name="Juan", family_name="Ariza", emails=["juan@concesionarioariza.es"])
    # Works there, but gave a personal address: found through the company's domain.
    lola = make_person(given_name="Lola", family_name="Pérez", emails=["lola.perez@gmail.com"], phones=["+34 612 345 678"])
    add_employment(user=users["rep_ana"], person=lola, data={"organization": company.id, "title": "Ventas"})
    sales = make_person(given_name="Pepe", family_name="Gil", emails=["pepe@ventas.concesionarioariza.es"])
    hidden = make_person(owner="rep_bo_other_team", given_name="Oculto", family_name="Sur", emails=["oculto@concesionarioariza.es"])
    other = make_person(given_name="Ana", family_name="Ruiz", emails=["ana@otra.es"], phones=["+34 699 345 678"])
    return {"company": company, "juan": juan, "lola": lola, "sales": sales, "hidden": hidden, "other": other}


@pytest.mark.parametrize("query", ["concesionarioariza.es", "@concesionarioariza.es", "ConcesionarioAriza.ES", "www.concesionarioariza.es"])
def test_a_company_domain_finds_the_company_and_its_people(users: Any, ariza: dict[str, Any], query: str) -> None:
    found = names(users["rep_ana"], query)
    assert found[0] == "Concesionario Ariza"  # the company first
    assert set(found) == {"Concesionario Ariza", "Juan Ariza", "Lola Pérez", "Pepe Gil"}


def test_a_domain_search_keeps_to_what_the_user_may_see(users: Any, ariza: dict[str, Any]) -> None:
    assert "Oculto Sur" not in names(users["rep_ana"], "concesionarioariza.es")
    assert names(users["rep_bo_other_team"], "concesionarioariza.es") == ["Oculto Sur"]


def test_a_mail_provider_domain_finds_everyone_with_an_address_there(users: Any, ariza: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "gmail.com") == ["Lola Pérez"]
    assert names(users["rep_ana"], "@gmail.com", kind="organization") == []


def test_a_subdomain_of_an_e_mail_is_found_by_itself_too(users: Any, ariza: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "ventas.concesionarioariza.es") == ["Pepe Gil"]


def test_a_text_that_only_looks_like_a_domain_is_searched_as_words(users: Any, ariza: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "juan.ariza") == ["Juan Ariza"]


def test_the_last_six_digits_of_a_phone_find_it(users: Any, ariza: dict[str, Any]) -> None:
    assert names(users["rep_ana"], "345678") == ["Ana Ruiz", "Lola Pérez"]
    assert names(users["rep_ana"], "2 345 678") == ["Lola Pérez"]
    assert names(users["rep_ana"], "45678") == []  # five digits are too few to mean anyone
    assert names(users["rep_bo_other_team"], "345678") == []


def test_phone_endings_are_one_range_of_an_index(users: Any, ariza: dict[str, Any]) -> None:
    from rapport.search.services import reversed_e164_sql

    expression = reversed_e164_sql(connection.vendor)
    with CaptureQueriesContext(connection) as queries:
        search_cards(users["rep_ana"], "345678")
    suffix = [q["sql"] for q in queries.captured_queries if "substr(e164, 16, 1)" in q["sql"]]
    assert len(suffix) == 1
    sql = suffix[0]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT card_id FROM cards_phone WHERE {expression} >= '876543' AND {expression} < '876543:'")
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "phone_e164_reversed" in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN SELECT card_id FROM cards_phone WHERE {expression} >= '876543' AND {expression} < '876543:'")
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
            assert "phone_e164_reversed" in plan, plan
    assert "phone_e164_reversed" not in sql  # the planner's choice, not a hint


def test_a_website_added_later_makes_the_company_findable_by_its_domain(users: Any, make_org: Any) -> None:
    from rapport.cards.services import update_card

    company = make_org(name="Talleres Ruiz")
    assert names(users["rep_ana"], "talleresruiz.com") == []
    update_card(user=users["rep_ana"], card=company, data={"website": "talleresruiz.com"})
    assert names(users["rep_ana"], "talleresruiz.com") == ["Talleres Ruiz"]
