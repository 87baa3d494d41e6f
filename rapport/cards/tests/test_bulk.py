"""Bulk creation: the same cards as the one-by-one services, and never half a batch."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest
from faker import Faker

from rapport.accounts.models import User
from rapport.cards import services
from rapport.cards.bulk import (
    BulkError,
    _phone_digits,
    _simple_fields,
    _simple_points,
    bulk_create_cards,
    fast_email,
)
from rapport.cards.models import (
    Card,
    CurrentValue,
    Email,
    Employment,
    Fact,
    Phone,
    StageChange,
)
from rapport.cards.values import parse_email
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, ItemType, Sensitivity
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.search.models import Term, Variant
from rapport.search.services import phone_terms


def item_of(type_: str, applies_to: str, sensitivity: str | None = None) -> InformationItem:
    """The first catalog item of a type for a card kind (the tests follow the shipped catalog)."""
    for item in catalog.items().values():
        wanted = item.sensitivity == sensitivity if sensitivity else item.sensitivity in (Sensitivity.PUBLIC, Sensitivity.INTERNAL)
        if item.type == type_ and item.applies_to in ("any", applies_to) and wanted:
            return item
    pytest.skip(f"the catalog has no {type_} item for {applies_to}")


def sources() -> list[str]:
    return list(catalog.sources())[:3]


def organization_row() -> dict[str, Any]:
    s1, s2, s3 = sources()
    choice = item_of(ItemType.CHOICE, "organization")
    return {
        "kind": "organization",
        "name": "Ferretería López S.A. de C.V.",
        "website": "ferreteria-lopez.mx",
        "industry": "Ferretería",
        "tier": "A",
        "lifecycle_stage": "customer",
        "region": "MX",
        "phones": [{"number": "55 1234 5678", "kind": "work"}],
        "emails": ["Ventas@Ferreteria-Lopez.MX"],
        "addresses": [{"kind": "office", "street": "Av. Juárez 10", "city": "Guadalajara", "country": "mx"}],
        "facts": [
            {"item": item_of(ItemType.TEXT, "organization").key, "value": "Venta de herramientas", "source": s1, "observed_at": "2025-03-01"},
            {"item": choice.key, "value": choice.choices[0]["key"], "source": s1, "observed_at": "2025-02-01", "confidence": 90},
            # Another source disagrees, later: it becomes the current value.
            {"item": choice.key, "value": choice.choices[-1]["key"], "source": s2, "observed_at": "2025-04-01", "confidence": 40},
            {"item": item_of(ItemType.NUMBER, "organization").key, "value": "250", "source": s3, "observed_at": "2025-01-10"},
            {"item": item_of(ItemType.MULTI_CHOICE, "organization").key, "value": [c["key"] for c in item_of(ItemType.MULTI_CHOICE, "organization").choices[:2]], "source": s2, "observed_at": "2025-01-11"},
        ],
    }


def person_row() -> dict[str, Any]:
    s1, s2, _s3 = sources()
    return {
        "kind": "person",
        "given_name": "Xiuying",
        "family_name": "Wang",
        "local_name": "王秀英",
        "tier": "B",
        "region": "CN",
        "phones": ["131 2345 6789"],
        "emails": ["xiuying.wang@163.com"],
        "facts": [
            {"item": item_of(ItemType.DATE, "person").key, "value": "1980-05-17", "source": s1, "observed_at": "2024-12-01T10:30:00"},
            {"item": item_of(ItemType.TEXT, "person").key, "value": "喜欢书法", "source": s2, "observed_at": "2024-11-01", "confidence": 0.8},
        ],
    }


def one_by_one(user: User, row: dict[str, Any]) -> Card:
    data = {k: v for k, v in row.items() if k not in ("kind", "facts")}
    create = services.create_organization if row["kind"] == "organization" else services.create_person
    card = create(user=user, data=data)
    for fact in row["facts"]:
        services.add_fact(
            user=user, card=card, item_key=fact["item"], value=fact["value"], source_key=fact["source"],
            observed_at=fact.get("observed_at"), confidence=fact.get("confidence"),
        )
    card.refresh_from_db()
    return card


def snapshot(card: Card) -> dict[str, Any]:
    """Everything a card is made of, with fact ids replaced by what the fact says."""
    facts = {f.id: (f.item.key, f.value, f.source.key, f.confidence, f.observed_at) for f in Fact.objects.filter(card=card)}
    profile = {key: {**entry, "f": facts[entry["f"]]} for key, entry in card.profile.items()}
    return {
        "kind": card.kind, "display_name": card.display_name, "sort_name": card.sort_name, "given": card.given_name,
        "family": card.family_name, "local": card.local_name, "website": card.website, "tier": card.tier,
        "stage": card.lifecycle_stage, "industry": card.industry, "team": card.team_id, "owner": card.owner_id,
        "completeness": card.completeness, "profile": profile,
        "facts": sorted(facts.values(), key=repr),
        "current": sorted(
            (cv.item.key, cv.value_text, facts[cv.fact_id], cv.kind, cv.archived, cv.sort_name, cv.owner_id, cv.team_id)
            for cv in CurrentValue.objects.filter(card=card)
        ),
        "phones": list(card.phones.values_list("e164", "raw", "region", "kind", "position")),
        "emails": list(card.emails.values_list("address", "kind", "position")),
        "addresses": list(card.addresses.values_list("kind", "street", "city", "region", "postal_code", "country")),
        "terms": sorted(
            Term.objects.filter(card_id=card.id).values_list("term", "weight", "kind", "archived", "owner_id", "team_id")
        ),
        "stages": list(StageChange.objects.filter(card=card).values_list("from_stage", "to_stage", "changed_by", "reason")),
    }


@pytest.mark.parametrize("make_row", [organization_row, person_row])
def test_it_builds_the_same_card_as_the_one_by_one_services(users: dict[str, User], make_row: Any) -> None:
    ana = users["rep_ana"]
    expected = snapshot(one_by_one(ana, make_row()))
    assert len(expected["profile"]) >= 2 and len(expected["terms"]) >= 5 and expected["phones"] and expected["emails"]
    assert bulk_create_cards(user=ana, rows=[make_row()]) == 1
    card = Card.objects.order_by("-id").first()
    assert card is not None
    assert snapshot(card) == expected


def test_facts_without_an_observation_date_get_the_same_profile_entries_apart_from_the_time(users: dict[str, User]) -> None:
    ana = users["rep_ana"]
    item = item_of(ItemType.TEXT, "organization")
    row = {"name": "Acme", "facts": [{"item": item.key, "value": "Pinturas", "source": sources()[0]}]}
    one = one_by_one(ana, {"kind": "organization", **row}).profile[item.key]
    bulk_create_cards(user=ana, rows=[row])
    bulk = Card.objects.order_by("-id").first().profile[item.key]  # type: ignore[union-attr]
    assert {k: v for k, v in one.items() if k not in ("f", "at")} == {k: v for k, v in bulk.items() if k not in ("f", "at")}
    assert Fact.objects.get(pk=bulk["f"]).observed_at.isoformat() == bulk["at"]


def test_a_verified_fact_wins_over_a_later_one_like_in_the_services(users: dict[str, User]) -> None:
    choice = item_of(ItemType.CHOICE, "organization")
    s1, s2, _ = sources()
    bulk_create_cards(user=users["rep_ana"], rows=[{"name": "Acme", "facts": [
        {"item": choice.key, "value": choice.choices[0]["key"], "source": s1, "observed_at": "2024-01-01", "verified": True},
        {"item": choice.key, "value": choice.choices[1]["key"], "source": s2, "observed_at": "2025-01-01"},
    ]}])
    card = Card.objects.get(display_name="Acme")
    assert card.profile[choice.key]["v"] == choice.choices[0]["key"] and card.profile[choice.key]["ok"] is True
    assert CurrentValue.objects.get(card=card).value_text == choice.choices[0]["key"]


def test_a_bad_row_leaves_nothing_of_its_batch_written(users: dict[str, User]) -> None:
    rows = [organization_row(), person_row(), {**person_row(), "phones": ["+34 1"]}]
    with pytest.raises(BulkError) as caught:
        bulk_create_cards(user=users["rep_ana"], rows=rows, batch_size=10)
    assert "rows[2].phones[0]" in caught.value.errors
    assert caught.value.row == 2 and caught.value.created == 0
    for model in (Card, Phone, Email, Fact, CurrentValue, Term, StageChange):
        assert model.objects.count() == 0, model


def test_earlier_batches_stay_complete_and_the_error_counts_them(users: dict[str, User]) -> None:
    item = item_of(ItemType.TEXT, "person")
    bad_fact = {"item": item.key, "value": "x", "source": "no_such_source"}
    rows = [person_row(), person_row(), person_row(), {**person_row(), "facts": [bad_fact]}]
    with pytest.raises(BulkError) as caught:
        bulk_create_cards(user=users["rep_ana"], rows=rows, batch_size=2)
    assert set(caught.value.errors) == {"rows[3].facts[0].source"}
    assert caught.value.created == 2
    assert Card.objects.count() == 2
    for card in Card.objects.all():
        assert card.phones.count() == 1 and card.facts.count() == 2 and len(card.profile) == 2
        assert Term.objects.filter(card_id=card.id).exists()


def test_with_an_error_handler_bad_rows_are_reported_and_the_rest_is_loaded(users: dict[str, User]) -> None:
    reported: list[tuple[int, ValidationError]] = []
    rows = [person_row(), {"kind": "person"}, {**person_row(), "emails": ["nobody@"]}, person_row()]
    created = bulk_create_cards(user=users["rep_ana"], rows=rows, on_error=lambda i, e: reported.append((i, e)))
    assert created == 2
    assert [(i, sorted(e.errors)) for i, e in reported] == [(1, ["rows[1].given_name"]), (2, ["rows[2].emails[0]"])]


def test_it_names_every_bad_field_of_a_row(users: dict[str, User]) -> None:
    row = {"name": "", "tier": "Z", "phones": ["not a phone"], "facts": [{"item": "no_such_item", "value": 1, "source": sources()[0], "confidence": 150}]}
    with pytest.raises(BulkError) as caught:
        bulk_create_cards(user=users["rep_ana"], rows=[row])
    assert {"rows[0].name", "rows[0].tier", "rows[0].phones[0]", "rows[0].facts[0].item", "rows[0].facts[0].confidence"} <= set(caught.value.errors)


def test_a_special_item_needs_the_clearance_like_add_fact(users: dict[str, User]) -> None:
    special = item_of(ItemType.TEXT, "person", sensitivity=Sensitivity.SPECIAL)
    row = {**person_row(), "facts": [{"item": special.key, "value": "x", "source": sources()[0]}]}
    with pytest.raises(ValidationError) as one:
        services.add_fact(user=users["rep_ana"], card=one_by_one(users["rep_ana"], {**person_row(), "facts": []}), item_key=special.key, value="x", source_key=sources()[0])
    with pytest.raises(BulkError) as bulk:
        bulk_create_cards(user=users["rep_ana"], rows=[row])
    assert bulk.value.errors["rows[0].facts[0].item"] == one.value.errors["item"]


def test_an_analyst_may_not_load_cards(users: dict[str, User]) -> None:
    with pytest.raises(PermissionDenied):
        bulk_create_cards(user=users["analyst_al"], rows=[person_row()])


def test_a_rep_may_not_assign_cards_to_someone_else_but_a_manager_may(users: dict[str, User]) -> None:
    with pytest.raises(BulkError) as caught:
        bulk_create_cards(user=users["rep_ana"], rows=[{**person_row(), "owner": users["rep_ben"].id}])
    assert "rows[0].owner" in caught.value.errors
    bulk_create_cards(user=users["manager_mei"], rows=[{**person_row(), "owner": users["rep_ben"].id}])
    assert Card.objects.get().owner == users["rep_ben"]


def test_people_are_employed_only_at_organizations_the_user_can_see(users: dict[str, User], make_org: Any) -> None:
    mine, theirs = make_org(), make_org(owner="rep_bo_other_team")
    bulk_create_cards(user=users["rep_ana"], rows=[{**person_row(), "organization": mine.id, "title": "Gerente"}])
    assert Employment.objects.get().organization == mine
    with pytest.raises(BulkError) as caught:
        bulk_create_cards(user=users["rep_ana"], rows=[{**person_row(), "organization": theirs.id}])
    assert "rows[0].organization" in caught.value.errors


def test_a_person_valued_fact_must_point_at_a_visible_person(users: dict[str, User], make_person: Any) -> None:
    item = item_of(ItemType.PERSON, "organization")
    mine, theirs = make_person(), make_person(owner="rep_bo_other_team")
    rows = [{"name": "Acme", "facts": [{"item": item.key, "value": mine.id, "source": sources()[0]}]}]
    bulk_create_cards(user=users["rep_ana"], rows=rows)
    assert Card.objects.get(display_name="Acme").profile[item.key]["v"] == mine.id
    with pytest.raises(BulkError) as caught:
        bulk_create_cards(user=users["rep_ana"], rows=[{"name": "Beta", "facts": [{"item": item.key, "value": theirs.id, "source": sources()[0]}]}])
    assert "rows[0].facts[0].value" in caught.value.errors


def test_new_words_get_typo_variants_so_search_finds_them_one_typo_away(users: dict[str, User]) -> None:
    bulk_create_cards(user=users["rep_ana"], rows=[{"given_name": "Zenobia", "family_name": "Quintanilla"}])
    assert Variant.objects.filter(variant="quintnilla", word="quintanilla").exists()
    from rapport.search.selectors import search_cards

    assert [c.display_name for c in search_cards(users["rep_ana"], "Quintnilla")] == ["Zenobia Quintanilla"]


# --- the fast paths agree with the functions they stand in for -------------------------------------


def email_corpus() -> list[str]:
    found = []
    for locale in ("es_ES", "es_MX", "zh_CN", "ro_RO", "en_US"):
        fake = Faker(locale)
        fake.seed_instance(3)
        found += [fake.email() for _ in range(150)] + [fake.free_email() for _ in range(50)]
    return found + [
        "  Ana.Ruiz@Example.COM ", "a@b.co", "a..b@x.com", ".a@x.com", "a.@x.com", "a@x", "a@localhost", "a@x.local",
        "a@mail.test", "a@x.onion", "a@ab--cd.com", "a@xn--bcher-kva.de", "a@-x.com", "a@x-.com", "a@x.c0m", "a@x.123",
        "ä@x.com", "a@bücher.de", "a+tag@x.com", "a_b-c@sub.x.co.uk", "x" * 64 + "@x.com", "x" * 65 + "@x.com",
        "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com", '"quoted"@x.com', "a b@x.com", "a@x.com.", "",
    ]


def test_the_fast_email_path_agrees_with_parse_email() -> None:
    disagreements = []
    for raw in email_corpus():
        try:
            expected: str | None = parse_email("e", raw)
        except ValidationError:
            expected = None
        fast = fast_email(raw)
        if fast is not None and fast != expected:
            disagreements.append((raw, fast, expected))
    assert disagreements == []


def test_the_fast_email_path_takes_ordinary_addresses() -> None:
    ordinary = [e for e in email_corpus()[:1000] if e.isascii()]
    assert sum(fast_email(e) is not None for e in ordinary) >= 0.95 * len(ordinary)


@pytest.mark.parametrize("row", [
    {}, {"tier": "A", "lifecycle_stage": "customer", "size_band": "small", "industry": " Retail "},
    {"tier": "Z"}, {"lifecycle_stage": "nope"}, {"size_band": 3}, {"tier": ["A"]}, {"industry": "x" * 121},
    {"industry": 5}, {"website": "ferreteria.mx"}, {"website": "javascript:alert(1)"}, {"social": [{"url": "x.com/a"}]},
    {"external_id": "ERP-1"}, {"lifecycle_stage": ""}, {"industry": "a\x00b"},
])
def test_the_fast_fields_path_agrees_with_common_fields(row: dict[str, Any]) -> None:
    slow_errors, fast_errors = services.Errors(), services.Errors()
    slow = services._common_fields(slow_errors, row)
    fast = _simple_fields(fast_errors, row)
    if fast is not None:
        assert fast == slow and fast_errors.errors == slow_errors.errors


@pytest.mark.parametrize("row", [
    {"phones": ["612 34 56 78"], "emails": ["ana@x.es"], "region": "ES"},
    {"phones": [{"number": "55 1234 5678", "kind": "work"}], "region": "MX"},
    {"phones": [{"number": "55 1234 5678", "kind": "pager"}], "region": "MX"},
    {"phones": ["+40 721 234 567", "0721 234 568"], "region": "RO", "emails": ["A@B.RO", "bad@"]},
    {"phones": ["12"], "emails": [{"address": "a@b.com"}]}, {"phones": "612345678"}, {"phones": [None]},
    {"emails": ["x@y.com"] * 21}, {"addresses": [{"city": "Cluj"}]}, {},
])
def test_the_fast_contact_points_path_agrees_with_contact_points(row: dict[str, Any]) -> None:
    slow_errors, fast_errors = services.Errors(), services.Errors()
    slow = services._contact_points(slow_errors, row.get("phones"), row.get("emails"), row.get("addresses"), row.get("region"))
    fast = _simple_points(fast_errors, row)
    if fast is not None:
        assert fast == slow and fast_errors.errors == slow_errors.errors


@pytest.mark.parametrize("e164", ["+34612345678", "+390612345678", "+12015550123", "+8613123456789", "+40212345678", "+35312345678", "+4420 7946 0000".replace(" ", "")])
def test_phone_terms_come_out_the_same_without_reparsing(e164: str) -> None:
    assert phonenumbers.is_possible_number(phonenumbers.parse(e164))
    assert _phone_digits(e164) == phone_terms(e164)
