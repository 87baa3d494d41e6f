"""The real exports in ../shared/corpora import without crashing; what each yields is printed
(run with -s) and checked against what the files hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rapport.cards.models import Card
from rapport.imports.models import Status

CORPORA = Path(__file__).resolve().parents[3].parent.parent / "shared" / "corpora"
if not CORPORA.is_dir():
    CORPORA = Path("/work/shared/corpora")

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"the shared corpora are not at {CORPORA}")

# File -> least number of cards it must yield (every card in it that has a name or an address).
EXPECTED = {
    "csv/all.csv": 1, "csv/email.csv": 4, "csv/gmail.csv": 1, "csv/outlook.csv": 1, "csv/tb_plain.csv": 1,
    "vcard/John_Doe_ANDROID.vcf": 6, "vcard/John_Doe_BLACK_BERRY.vcf": 1, "vcard/John_Doe_EVOLUTION.vcf": 1,
    "vcard/John_Doe_GMAIL.vcf": 1, "vcard/John_Doe_IPHONE.vcf": 1, "vcard/John_Doe_LOTUS_NOTES.vcf": 1,
    "vcard/John_Doe_MAC_ADDRESS_BOOK.vcf": 1, "vcard/John_Doe_MS_OUTLOOK.vcf": 1, "vcard/fullcontact.vcf": 1,
    "vcard/gmail-list.vcf": 3, "vcard/gmail-single.vcf": 1, "vcard/gmail-single2.vcf": 1, "vcard/outlook-2003.vcf": 1,
    "vcard/outlook-2007.vcf": 1, "vcard/rfc2426-example.vcf": 2, "vcard/rfc6350-example.vcf": 1,
    "vcard/thunderbird-MoreFunctionsForAddressBook-extension.vcf": 1,
}


def fields_of(card: Card) -> int:
    """Values the card got: filled core fields, contact points and facts."""
    core = sum(1 for f in ("given_name", "family_name", "local_name", "website", "external_id") if getattr(card, f))
    return core + card.phones.count() + card.emails.count() + card.addresses.count() + len(card.profile or {}) + card.employments.count()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_export_imports_without_crashing(name: str, users: Any) -> None:
    from rapport.imports import services

    path = CORPORA / name
    job = services.create_job(user=users["rep_ana"], path=path, file_name=path.name, region="US", on_duplicate="create")
    job = services.run_import(job=job).job
    assert job.status == Status.DONE, job.message
    cards = list(Card.objects.filter(kind="person"))  # and the organisations their company columns named
    assert len(cards) >= EXPECTED[name]
    assert all(fields_of(card) >= 1 for card in cards)
    print(f"\n{name}: {job.rows_read} rows -> {len(cards)} cards, {sum(fields_of(c) for c in cards)} fields, "
          f"{job.error_count} rows not imported, {job.created_count} created")


def test_the_iphone_card_keeps_its_name_phones_and_birthday(users: Any) -> None:
    from rapport.imports import services

    path = CORPORA / "vcard" / "John_Doe_IPHONE.vcf"
    job = services.create_job(user=users["rep_ana"], path=path, file_name=path.name, region="US")
    services.run_import(job=job)
    card = Card.objects.get(kind="person")
    assert (card.given_name, card.family_name) == ("John Richter James", "Doe")
    assert card.phones.count() >= 5
    assert card.profile["birth_date"]["v"] == "2012-06-06"
    assert list(card.employments.values_list("organization__display_name", "title")) == [("IBM", "Money Counter")]


def test_google_and_outlook_headers_are_recognised_out_of_the_box(users: Any) -> None:
    from rapport.imports import services

    preview = services.inspect(CORPORA / "csv" / "gmail.csv")
    from rapport.imports.mapping import suggest

    mapping = suggest(preview.headers, "person")
    assert mapping["Given Name"] == "given_name" and mapping["Family Name"] == "family_name"
    assert mapping["E-mail 1 - Value"] == "email" and mapping["Phone 1 - Value"] == "phone"
    assert mapping["Address 1 - City"] == "address:1.city" and mapping["Organization 1 - Name"] == "organization"
    assert mapping["Birthday"] == "item:birth_date"
    outlook = suggest(services.inspect(CORPORA / "csv" / "all.csv").headers, "person")
    assert outlook["Business Phone"] == "phone:work" and outlook["Job Title"] == "title" and outlook["Title"] == ""
    assert outlook["Email Home"] == "email:personal" and outlook["Home Zip"] == "address:home.postal_code"
