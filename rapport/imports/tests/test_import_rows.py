"""What an import makes of each row: cards, facts with provenance, upserts, duplicates, errors."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards.models import Card, CurrentValue, Fact
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.imports.models import ImportJob, RowError, Status
from rapport.imports.tests.conftest import errors_of
from rapport.search.selectors import search_cards

PEOPLE = (
    "external_id,First Name,Last Name,E-mail Address,Mobile Phone,Birthday,Company,Job Title\r\n"
    "c-1,Lucía,Martín,lucia@frutas.es,612 345 678,1980-04-12,Frutas Martín,Gerente\r\n"
    "c-2,Andrei,Popescu,andrei@example.ro,+40 721 123 456,12/05/1975,,\r\n"
)


def test_every_item_value_is_a_fact_whose_source_is_the_import(run: Any) -> None:
    job = run(PEOPLE, name="clientes.csv")
    lucia = Card.objects.get(external_id="c-1")
    fact = Fact.objects.get(card=lucia, item__key="birth_date")
    assert (fact.value, fact.source.key, fact.note) == ("1980-04-12", "import", f"import #{job.pk}: clientes.csv, row 1")
    assert lucia.profile["birth_date"]["v"] == "1980-04-12"
    assert CurrentValue.objects.filter(card=lucia, item__key="birth_date").exists()
    # Day-first dates of European spreadsheets are read as such.
    assert Card.objects.get(external_id="c-2").profile["birth_date"]["v"] == "1975-05-12"


def test_imported_cards_have_their_contact_points_and_are_found_by_search(run: Any, users: Any) -> None:
    run(PEOPLE)
    lucia = Card.objects.get(external_id="c-1")
    assert [p.e164 for p in lucia.phones.all()] == ["+34612345678"]
    assert [e.address for e in lucia.emails.all()] == ["lucia@frutas.es"]
    assert lucia.owner == users["rep_ana"]
    assert lucia.id in [c.id for c in search_cards(users["rep_ana"], "lucia")]


def test_a_company_the_rep_can_see_becomes_the_employment_otherwise_the_organisation_is_created(
    run: Any, make_org: Any, users: Any
) -> None:
    org = make_org(name="Frutas Martín")
    run(PEOPLE)
    lucia = Card.objects.get(external_id="c-1")
    job = lucia.employments.get()
    assert (job.organization_id, job.title) == (org.id, "Gerente")
    Card.objects.all().delete()
    imported = run(PEOPLE.replace("c-1", "c-9"), name="again.csv")
    lucia = Card.objects.get(external_id="c-9")
    created = Card.objects.get(kind="organization")
    assert (created.display_name, created.owner) == ("Frutas Martín", users["rep_ana"])
    assert list(lucia.employments.values_list("organization_id", "title")) == [(created.id, "Gerente")]
    assert "employer" not in lucia.profile and "formal_position" not in lucia.profile
    assert (imported.created_count, imported.organizations_created) == (2, 1)


def test_importing_the_same_file_again_updates_instead_of_duplicating(run: Any) -> None:
    run(PEOPLE)
    job = run(PEOPLE.replace("Gerente", "Directora"), name="again.csv")
    assert (job.created_count, job.updated_count) == (0, 2)
    assert Card.objects.filter(kind="person").count() == 2
    assert Card.objects.filter(kind="organization").count() == 1  # the company both rows name, found again
    # The unchanged birth date is not recorded twice; the card keeps one fact for it.
    assert Fact.objects.filter(card__external_id="c-1", item__key="birth_date").count() == 1


def test_a_killed_import_is_resumed_by_running_the_file_again(run: Any, users: Any, tmp_path: Any) -> None:
    from rapport.imports import services

    path = tmp_path / "big.csv"
    rows = "".join(f"x-{i},Name{i},Family{i},+34 612 {i:06d}"[:40] + "\r\n" for i in range(10))
    path.write_text("external_id,First Name,Last Name,Mobile Phone\r\n" + rows)
    first = services.create_job(user=users["rep_ana"], path=path, file_name="big.csv")
    services.run_import(job=first, limit=4)  # stopped after four rows
    assert Card.objects.count() == 4
    second = services.create_job(user=users["rep_ana"], path=path, file_name="big.csv")
    services.run_import(job=second)
    second.refresh_from_db()
    assert Card.objects.count() == 10
    assert (second.created_count, second.updated_count) == (6, 4)


def test_a_bad_row_goes_to_the_error_file_and_the_rest_is_imported(run: Any) -> None:
    text = "First Name,Last Name,E-mail Address\r\nAna,Ruiz,ana@ruiz.es\r\n,,\r\n,,not-an-email\r\nLuis,Gil,luis@gil.es\r\n"
    job = run(text)
    assert (job.rows_read, job.created_count, job.error_count) == (3, 2, 1)
    # Row 3 (line 4 of the sheet; the blank line counts) had nothing to name a card by.
    assert {(row, column, imported) for row, column, _reason, imported in errors_of(job)} == {
        (3, "First Name", False), (3, "E-mail Address", False)
    }
    assert set(Card.objects.values_list("display_name", flat=True)) == {"Ana Ruiz", "Luis Gil"}


def test_a_value_that_fails_is_left_out_and_listed_while_the_row_is_imported(run: Any) -> None:
    text = "First Name,Last Name,E-mail Address,Mobile Phone\r\nAna,Ruiz,ana@ruiz,612 345 678\r\nLuis,Gil,luis@gil.es,12\r\n"
    job = run(text)
    assert (job.created_count, job.error_count) == (2, 0)
    assert errors_of(job) == [
        (1, "E-mail Address", errors_of(job)[0][2], True),
        (2, "Mobile Phone", "'12' is not a valid phone number for ES: it was left out. If it is a number of another "
                            "country, write it with its +country code.", True),
    ]
    assert not Card.objects.get(display_name="Ana Ruiz").emails.exists()
    assert Card.objects.get(display_name="Ana Ruiz").phones.get().e164 == "+34612345678"


def test_in_strict_mode_a_row_with_a_bad_value_is_not_imported_at_all(run: Any) -> None:
    text = "First Name,Last Name,E-mail Address\r\nAna,Ruiz,ana@ruiz\r\nLuis,Gil,luis@gil.es\r\n"
    job = run(text, strict=True)
    assert (job.created_count, job.error_count) == (1, 1)
    assert [(r, c, imported) for r, c, _reason, imported in errors_of(job)] == [(1, "E-mail Address", False)]
    assert list(Card.objects.values_list("display_name", flat=True)) == ["Luis Gil"]


def test_a_row_without_any_name_is_not_imported_and_says_why(run: Any) -> None:
    job = run("Company,Industry\r\n,retail\r\nFrutas SL,retail\r\n", kind="organizations")
    assert (job.created_count, job.error_count) == (1, 1)
    row, column, reason, imported = errors_of(job)[0]
    assert (row, column, imported) == (1, "Company", False)
    assert "required" in reason


def test_an_oversized_value_names_its_column(run: Any) -> None:
    job = run("Company,Industry\r\n" + "X" * 400 + ",retail\r\n", kind="organizations")
    assert job.created_count == 0
    assert errors_of(job)[0][:2] == (1, "Company")


def test_a_dry_run_commits_nothing_but_reports_exactly(run: Any) -> None:
    job = run(PEOPLE + ",,,broken,\r\n", dry_run=True)
    assert (job.created_count, job.rows_read) == (2, 3)
    assert Card.objects.count() == 0
    assert Fact.objects.count() == 0
    assert RowError.objects.count() == 0
    assert ImportJob.objects.get(pk=job.pk).status == Status.UPLOADED


@pytest.mark.parametrize("rule, cards, phones", [("skip", 1, 1), ("merge", 1, 2), ("create", 2, 3)])
def test_a_row_with_the_phone_of_a_visible_card_follows_the_duplicate_rule(
    run: Any, make_person: Any, rule: str, cards: int, phones: int
) -> None:
    make_person(given_name="Lucía", family_name="Martín", phones=["612 345 678"])
    job = run("First Name,Last Name,Mobile Phone,Home Phone\r\nLucia,Martin,+34 612 345 678,915 555 123\r\n", on_duplicate=rule)
    assert Card.objects.count() == cards
    assert sum(c.phones.count() for c in Card.objects.all()) == phones
    if rule == "merge":
        card = Card.objects.get()
        assert job.updated_count == 1
        assert card.display_name == "Lucía Martín"  # a merge fills blanks, it does not overwrite


def test_an_e_mail_matches_whatever_its_case(run: Any, make_person: Any) -> None:
    make_person(emails=["Maria.Garcia@Example.com"])
    job = run("First Name,E-mail Address\r\nMaría,maria.garcia@example.com\r\n")
    assert (job.skipped_count, Card.objects.count()) == (1, 1)


def test_duplicates_inside_the_file_are_caught_too(run: Any) -> None:
    job = run("First Name,E-mail Address\r\nAna,ana@x.es\r\nAna B.,ANA@x.es\r\n", on_duplicate="merge")
    assert Card.objects.count() == 1
    assert job.updated_count == 1


def test_the_duplicate_check_never_reaches_cards_of_another_team(run: Any, make_person: Any) -> None:
    make_person(owner="rep_ana", external_id="c-1", phones=["612 345 678"])
    job = run(PEOPLE, user="rep_bo_other_team", on_duplicate="merge")
    assert job.created_count == 2
    assert Card.objects.filter(external_id="c-1").count() == 2


def test_an_analyst_may_not_import(users: Any, tmp_path: Any) -> None:
    from rapport.imports import services

    path = tmp_path / "x.csv"
    path.write_text(PEOPLE)
    with pytest.raises(PermissionDenied):
        services.create_job(user=users["analyst_al"], path=path, file_name="x.csv")


def test_a_mapping_naming_an_unknown_column_or_target_is_refused(users: Any, tmp_path: Any) -> None:
    from rapport.imports import services

    path = tmp_path / "x.csv"
    path.write_text(PEOPLE)
    with pytest.raises(ValidationError) as caught:
        services.create_job(user=users["rep_ana"], path=path, file_name="x.csv", kind="people",
                            mapping={"Nope": "given_name", "Birthday": "item:no_such_item", "First Name": 5})
    assert set(caught.value.errors) == {"mapping.Nope", "mapping.Birthday", "mapping.First Name"}
    assert ImportJob.objects.count() == 0


def test_a_mapping_can_send_a_column_to_any_catalog_item(run: Any) -> None:
    job = run("Empresa,Situación\r\nFrutas SL,En crecimiento\r\n", kind="organizations",
              mapping={"Empresa": "name", "Situación": "item:operating_status"})
    assert job.created_count == 1
    # The Spanish label of the choice is recognised as the choice.
    assert Card.objects.get().profile["operating_status"]["v"] == "growing"


def test_bad_settings_are_refused_naming_each_field(users: Any, tmp_path: Any) -> None:
    from rapport.imports import services

    path = tmp_path / "x.csv"
    path.write_text(PEOPLE)
    with pytest.raises(ValidationError) as caught:
        services.create_job(user=users["rep_ana"], path=path, file_name="x.csv", kind="things", on_duplicate="maybe", region="Spain")
    assert set(caught.value.errors) == {"kind", "on_duplicate", "region"}


def test_rows_sharing_the_same_bad_address_are_not_taken_for_duplicates(run: Any) -> None:
    text = "First Name,Last Name,E-mail Address\r\nAna,Ruiz,n/a\r\nLuis,Gil,n/a\r\nEva,Sanz,n/a\r\n"
    job = run(text)
    assert (job.created_count, job.skipped_count) == (3, 0)
    assert [(row, imported) for row, _c, _r, imported in errors_of(job)] == [(1, True), (2, True), (3, True)]


def test_rows_sharing_a_placeholder_phone_are_not_taken_for_duplicates(run: Any) -> None:
    job = run("First Name,Mobile Phone\r\nAna,000\r\nLuis,000\r\n")
    assert (job.created_count, job.skipped_count) == (2, 0)
