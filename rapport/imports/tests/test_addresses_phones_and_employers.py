"""Real address-book exports keep their typed addresses, every phone number that is valid
somewhere the file points to, and their employer as an organisation card with an employment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rapport.cards.models import Card
from rapport.imports.models import RowError, Status

CORPORA = Path(__file__).resolve().parents[3].parent.parent / "shared" / "corpora"
if not CORPORA.is_dir():
    CORPORA = Path("/work/shared/corpora")
needs_corpora = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"the shared corpora are not at {CORPORA}")


def imported(users: Any, name: str, **options: Any) -> Any:
    from rapport.imports import services

    path = CORPORA / name
    options.setdefault("region", "ES")
    job = services.create_job(user=users["rep_ana"], path=path, file_name=path.name, **options)
    job = services.run_import(job=job).job
    assert job.status == Status.DONE, job.message
    return job


def addresses(card: Card) -> list[tuple[str, str, str, str]]:
    return list(card.addresses.order_by("position").values_list("kind", "street", "city", "country"))


@needs_corpora
def test_an_iphone_vcard_keeps_its_home_and_work_addresses_and_its_phones(users: Any) -> None:
    # Imported in Spain: the numbers are North American, as the card's own addresses say.
    job = imported(users, "vcard/John_Doe_IPHONE.vcf")
    card = Card.objects.get(kind="person")
    assert addresses(card) == [("home", "Silicon Alley 5", "New York", "US"),
                               ("office", "Street4\nBuilding 6\nFloor 8", "New York", "US")]
    assert card.phones.count() == 6
    assert {p.kind for p in card.phones.all()} == {"mobile", "home", "work", "fax", "other"}
    # 905-111-1234 is a number nowhere (no North American exchange starts with 1): listed and counted.
    assert (job.phones_left_out, job.left_out_count, job.error_count) == (1, 1, 0)
    error = RowError.objects.get(job=job)
    assert (error.column, error.code, error.value, error.params["regions"]) == ("phone.6", "phone.not_valid", "905-111-1234", "ES, US")


@needs_corpora
def test_google_contacts_addresses_take_their_type_column(users: Any) -> None:
    imported(users, "csv/gmail.csv")
    card = Card.objects.get(kind="person")
    assert [(k, s, c) for k, s, c, _country in addresses(card)] == [("home", "home_street", "home_city"),
                                                                     ("office", "work_street", "work_city")]


@needs_corpora
def test_outlook_home_business_and_other_addresses_keep_their_kind(users: Any) -> None:
    imported(users, "csv/all.csv")
    card = Card.objects.get(kind="person")
    assert [(k, s) for k, s, _c, _country in addresses(card)] == [
        ("home", "Home Street"), ("office", "Work Street"), ("other", "Other Street")
    ]


@needs_corpora
@pytest.mark.parametrize("name, company, title", [
    ("vcard/John_Doe_IPHONE.vcf", "IBM", "Money Counter"),
    ("csv/gmail.csv", "company", "jobtitle"),
    ("csv/all.csv", "Company", "Job Title"),
    ("vcard/outlook-2007.vcf", "TheCompany", "TheJobTitle"),
])
def test_the_company_becomes_an_organisation_card_and_the_title_an_employment(
    users: Any, name: str, company: str, title: str
) -> None:
    job = imported(users, name)
    person = Card.objects.get(kind="person")
    organisation = Card.objects.get(kind="organization")
    assert (organisation.display_name, organisation.owner) == (company, users["rep_ana"])
    assert list(person.employments.values_list("organization_id", "title")) == [(organisation.id, title)]
    assert "employer" not in (person.profile or {}) and "formal_position" not in (person.profile or {})
    assert job.organizations_created == 1


def test_a_company_already_on_a_visible_card_is_linked_not_created_again(users: Any, make_org: Any, run: Any) -> None:
    existing = make_org(name="Frutas Martín S.L.")
    make_org(owner="rep_bo_other_team", name="Talleres Sur")  # not visible to rep_ana
    text = ("First Name,Last Name,Company,Job Title\r\nLucía,Martín,FRUTAS MARTIN S.L.,Gerente\r\n"
            "Pablo,Gil,Frutas Martín S.L.,\r\nEva,Sur,Talleres Sur,Jefa\r\nLuis,Sur,Talleres Sur,\r\n")
    job = run(text)
    assert job.organizations_created == 1
    lucia, pablo = Card.objects.get(given_name="Lucía"), Card.objects.get(given_name="Pablo")
    assert list(lucia.employments.values_list("organization_id", "title")) == [(existing.id, "Gerente")]
    assert list(pablo.employments.values_list("organization_id", flat=True)) == [existing.id]
    created = Card.objects.get(display_name="Talleres Sur", owner=users["rep_ana"])
    assert set(created.staff.values_list("person__given_name", flat=True)) == {"Eva", "Luis"}


def test_organisations_created_by_an_import_go_when_it_is_reverted(users: Any, run: Any) -> None:
    from rapport.imports import services

    job = run("First Name,Last Name,Company\r\nLucía,Martín,Frutas Martín\r\n")
    services.revert_import(user=users["rep_ana"], job=job)
    assert not Card.objects.exists()


def test_a_dry_run_creates_no_organisation_and_counts_it(run: Any) -> None:
    text = "".join(f"Name{i},Family{i},Empresa {i % 3}\r\n" for i in range(10))
    job = run("First Name,Last Name,Company\r\n" + text, dry_run=True)
    assert (job.created_count, job.organizations_created) == (10, 3)
    assert not Card.objects.exists()


def test_a_number_valid_in_the_files_own_countries_is_kept_with_that_country(run: Any) -> None:
    # Row 1 writes its number with +1; row 2's number, typed without a code, is valid there.
    text = "First Name,Mobile Phone\r\nAna,+1 416 555 0123\r\nLuis,(905) 555-1234\r\n"
    job = run(text, region="ES")
    luis = Card.objects.get(given_name="Luis")
    assert [(p.e164, p.region) for p in luis.phones.all()] == [("+19055551234", "CA")]
    assert job.phones_left_out == 0


def test_a_number_valid_nowhere_is_listed_counted_and_the_row_still_imported(run: Any) -> None:
    job = run("First Name,Mobile Phone,Home Phone\r\nAna,12,612 345 678\r\n", region="ES")
    assert (job.created_count, job.left_out_count, job.phones_left_out, job.error_count) == (1, 1, 1, 0)
    error = RowError.objects.get(job=job)
    assert (error.column, error.code, error.value, error.row_imported) == ("Mobile Phone", "phone.not_valid", "12", True)
    assert [p.e164 for p in Card.objects.get().phones.all()] == ["+34612345678"]


def test_in_strict_mode_a_number_valid_nowhere_keeps_the_row_out(run: Any) -> None:
    job = run("First Name,Mobile Phone\r\nAna,12\r\n", region="ES", strict=True)
    assert (job.created_count, job.error_count) == (0, 1)
