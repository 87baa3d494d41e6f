"""The matching engine on its own: normalisation, scoring and blocking, no database."""

from __future__ import annotations

import random
import string

from rapport.dedup.matching import (
    DEFAULT_THRESHOLD,
    RunStats,
    build_record,
    email_key,
    find_pairs,
    organization_name,
    phone_key,
    score_pair,
)


def person(id: int, given: str = "", family: str = "", **kw: object) -> object:
    return build_record(id=id, kind="person", given_name=given, family_name=family, **kw)  # type: ignore[arg-type]


def test_gmail_dots_plus_tags_and_case_are_the_same_address() -> None:
    assert email_key("Maria.Garcia+crm@GoogleMail.com") == email_key("mariagarcia@gmail.com")
    assert email_key("ana+x@empresa.es") == "ana@empresa.es"
    assert email_key("a.b@empresa.es") != email_key("ab@empresa.es")


def test_phone_numbers_typed_in_different_formats_are_the_same_e164() -> None:
    assert phone_key("612 34 56 78", "ES") == phone_key("+34 612-345-678") == "+34612345678"
    assert phone_key("0721 234 567", "RO") == phone_key("+40721234567")


def test_a_nickname_a_typo_and_a_shared_phone_make_a_duplicate() -> None:
    a = person(1, "Francisco", "Fernández", phones=["+34612345678"])
    b = person(2, "Paco", "Fernandes", phones=["612 345 678"])
    pair = score_pair(a, b)  # type: ignore[arg-type]
    assert pair.score >= DEFAULT_THRESHOLD
    assert "same_phone" in pair.reasons


def test_swapped_given_and_family_names_still_match() -> None:
    a = person(1, "Ionescu", "Andrei", emails=["andrei@firma.ro"])
    b = person(2, "Andrei", "Ionescu", emails=["Andrei@firma.ro"])
    assert score_pair(a, b).score >= DEFAULT_THRESHOLD  # type: ignore[arg-type]


def test_chinese_characters_match_their_pinyin_spelling() -> None:
    a = build_record(id=1, kind="person", local_name="王小明", birth_date="1980-03-02")
    b = person(2, "Xiaoming", "Wang", birth_date="1980-03-02")
    pair = score_pair(a, b)  # type: ignore[arg-type]
    assert "same_name" in pair.reasons and pair.score >= DEFAULT_THRESHOLD


def test_namesakes_born_on_different_days_are_not_duplicates() -> None:
    a = person(1, "María", "García", birth_date="1980-01-01", phones=["+34600000001"])
    b = person(2, "María", "García", birth_date="1975-06-30", phones=["+34600000002"])
    assert score_pair(a, b).score < 0.2  # type: ignore[arg-type]


def test_relatives_sharing_a_home_phone_are_not_duplicates() -> None:
    a = person(1, "Elena", "Popescu", phones=["+40721000000"])
    b = person(2, "Mihai", "Popescu", phones=["+40721000000"])
    assert score_pair(a, b).score < DEFAULT_THRESHOLD  # type: ignore[arg-type]


def test_organisation_names_are_compared_without_their_legal_form() -> None:
    assert organization_name("Distribuidora Norte, S.A.") == organization_name("DISTRIBUIDORA NORTE SA") == "distribuidora norte"
    assert organization_name("Acme Co. Ltd") == "acme"
    assert organization_name("北京华星贸易有限公司") == "beijinghuaxingmaoyi"


def test_a_different_tax_id_keeps_similar_companies_apart() -> None:
    a = build_record(id=1, kind="organization", name="Comercial Sur SL", tax_id="B12345678")
    b = build_record(id=2, kind="organization", name="Comercial Sur SA", tax_id="B87654321")
    c = build_record(id=3, kind="organization", name="Comercial del Sur", tax_id="ES B12345678")
    assert score_pair(a, b).score < 0.1
    assert score_pair(a, c).score >= DEFAULT_THRESHOLD and "same_tax_id" in score_pair(a, c).reasons


def test_every_pair_is_found_once_and_a_hot_key_is_not_compared_all_against_all() -> None:
    switchboard = ["+34910000000"]
    rng = random.Random(7)
    word = lambda: "".join(rng.choices(string.ascii_lowercase, k=8))  # noqa: E731
    records = [person(i, word(), word(), phones=switchboard) for i in range(1, 301)]
    records.append(person(1000, "Laura", "Martín", emails=["laura@x.es"]))
    records.append(person(1001, "Laura", "Martin", emails=["LAURA@x.es"]))
    stats = RunStats()
    pairs = find_pairs(records, stats=stats)  # type: ignore[arg-type]
    assert [(p.left, p.right) for p in pairs] == [(1000, 1001)]
    assert stats.large_blocks >= 1
    assert stats.compared < 300 * 299 // 2 // 10


def test_the_same_external_id_marks_a_duplicate_even_when_the_name_changed() -> None:
    a = person(1, "Elena", "Vasile", external_id="crm-778")
    b = person(2, "Elena", "Vasile-Marin", external_id="crm-778")
    c = person(3, "Elena", "Vasile-Marin", external_id="crm-779")
    assert "same_external_id" in score_pair(a, b).reasons and score_pair(a, b).score >= DEFAULT_THRESHOLD  # type: ignore[arg-type]
    assert score_pair(a, c).score < DEFAULT_THRESHOLD  # type: ignore[arg-type]
    assert [(p.left, p.right) for p in find_pairs([a, b, c])] == [(1, 2)]  # type: ignore[list-item]
