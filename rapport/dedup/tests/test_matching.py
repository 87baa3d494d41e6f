"""The matching engine on its own: normalisation, scoring and blocking, no database."""

from __future__ import annotations

import random
import string

import pytest

from rapport.dedup.matching import (
    DEFAULT_THRESHOLD,
    SMALL_BLOCK,
    Index,
    SN_WINDOW,
    WINDOW,
    MatchRecord,
    RunStats,
    blocking_keys,
    build_record,
    can_fork,
    email_key,
    find_pairs,
    hopeless_below,
    organization_name,
    evidence,
    person_name,
    phone_key,
    score_pair,
    sorted_passes,
)
from rapport.dedup.scoring import default_model


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


def test_a_look_up_in_a_large_block_compares_the_name_neighbours_as_the_scan_does() -> None:
    rng = random.Random(11)
    word = lambda: "".join(rng.choices(string.ascii_lowercase, k=8))  # noqa: E731
    index = Index(model=default_model("person"))
    for i in range(1, 501):
        index.add(person(i, word(), "García", address={"postal_code": "28001"}, birth_date="1980-01-01"))  # type: ignore[arg-type]
    index.add(person(900, "Marta", "García", address={"postal_code": "28001"}, birth_date="1980-01-01", phones=["+34611222333"]))  # type: ignore[arg-type]
    newcomer = person(0, "Martha", "Garcia", address={"postal_code": "28001"}, birth_date="1980-01-01", phones=["611 222 333"], region="ES")
    found = index.candidates_for(newcomer, threshold=DEFAULT_THRESHOLD)  # type: ignore[arg-type]
    assert [p.right for p in found] == [900]
    large = [key for key in blocking_keys(newcomer) if len(index.blocks.get(key, [])) > SMALL_BLOCK]  # type: ignore[arg-type]
    assert large and all(len(index.neighbours(key, newcomer)) <= 2 * WINDOW for key in large)  # type: ignore[arg-type]
    index.add(person(901, "Marth", "García", address={"postal_code": "28001"}, birth_date="1980-01-01"))  # type: ignore[arg-type]
    assert any(901 in index.neighbours(key, newcomer) for key in large)  # type: ignore[arg-type]


def test_the_same_external_id_marks_a_duplicate_even_when_the_name_changed() -> None:
    a = person(1, "Elena", "Vasile", external_id="crm-778")
    b = person(2, "Elena", "Vasile-Marin", external_id="crm-778")
    c = person(3, "Elena", "Vasile-Marin", external_id="crm-779")
    assert "same_external_id" in score_pair(a, b).reasons and score_pair(a, b).score >= DEFAULT_THRESHOLD  # type: ignore[arg-type]
    assert score_pair(a, c).score < DEFAULT_THRESHOLD  # type: ignore[arg-type]
    assert [(p.left, p.right) for p in find_pairs([a, b, c])] == [(1, 2)]  # type: ignore[list-item]


# --- the fast scan against the plain definition ------------------------------------------------


def _labelled(kind: str, count: int, seed: int) -> list[MatchRecord]:
    """People or organisations with realistic duplicates, namesakes and relatives (as in bench.dedup)."""
    from bench.dedup import Population, build_pools

    population = Population(random.Random(seed), build_pools(size=40))
    rows = population.people(count) if kind == "person" else population.organizations(count)
    records = []
    for i, (_entity, row) in enumerate(rows, start=1):
        if i > count:
            break
        records.append(build_record(
            id=i, kind=kind, name=row.get("name", ""), given_name=row.get("given_name", ""),
            family_name=row.get("family_name", ""), local_name=row.get("local_name", ""), phones=row.get("phones", []),
            emails=row.get("emails", []), birth_date=row.get("birth_date", ""), tax_id=row.get("tax_id", ""),
            website=row.get("website", ""), address=(row.get("addresses") or [None])[0], region=row["region"],
        ))
    return records


def _every_pair_sharing_a_key(records: list[MatchRecord], threshold: float) -> list[tuple[int, int, float, tuple[str, ...]]]:
    """The definition, without shortcuts: every two records filed under one key or neighbours in a
    sorted pass, fully scored."""
    by_key: dict[str, list[int]] = {}
    for r in records:
        for key in blocking_keys(r):
            by_key.setdefault(key, []).append(r.id)
    by_id = {r.id: r for r in records}
    pairs: set[tuple[int, int]] = set()
    for ids in by_key.values():
        if len(ids) > SMALL_BLOCK:  # a hot key: each record and its next WINDOW neighbours by name
            ids = sorted(set(ids), key=lambda i: (by_id[i].name, i))
            near = [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, min(len(ids), i + 1 + WINDOW))]
        else:
            near = [(x, y) for x in ids for y in ids]
        pairs.update((min(x, y), max(x, y)) for x, y in near if x != y)
    for order in sorted_passes(records):
        near = [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, min(len(order), i + 1 + SN_WINDOW))]
        pairs.update((min(x, y), max(x, y)) for x, y in near)
    scored = [score_pair(by_id[x], by_id[y]) for x, y in pairs]
    return sorted(((p.left, p.right, p.score, p.reasons) for p in scored if p.score >= threshold), key=lambda p: (-p[2], p[0], p[1]))


def test_the_scan_finds_exactly_the_pairs_of_the_plain_definition_on_labelled_people_and_organisations() -> None:
    for kind, count in (("person", 3000), ("organization", 1500)):
        records = _labelled(kind, count, seed=3)
        for threshold in (0.5, DEFAULT_THRESHOLD, 0.95):
            stats = RunStats()
            found = [(p.left, p.right, p.score, p.reasons) for p in find_pairs(records, threshold=threshold, stats=stats)]
            assert found == _every_pair_sharing_a_key(records, threshold), (kind, threshold)
            assert len(found) > count // 10
            # Names were compared only for the pairs whose other evidence left the name to decide.
            assert stats.names_compared < stats.compared


def test_a_pair_set_aside_before_its_names_are_compared_could_never_reach_the_threshold() -> None:
    records = _labelled("person", 1500, seed=5)
    rng = random.Random(9)
    for threshold in (0.0, 0.3, DEFAULT_THRESHOLD, 0.9999, 1.0):
        floor = hopeless_below(threshold)
        for _ in range(3000):
            a, b = rng.sample(records, 2)
            if evidence(a, b, default_model("person")) < floor:
                assert score_pair(a, b).score < threshold
    assert hopeless_below(0.0) == float("-inf")


def test_sharing_the_comparisons_between_processes_finds_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    if not can_fork():
        pytest.skip("this system cannot fork")
    monkeypatch.setattr("rapport.dedup.matching.PARALLEL_MIN_RECORDS", 10)
    records = _labelled("person", 2000, seed=4)
    alone, shared = RunStats(), RunStats()
    one = find_pairs(records, stats=alone)
    two = find_pairs(records, stats=shared, workers=2)
    assert shared.workers == 2 and alone.workers == 1
    assert [(p.left, p.right, p.score, p.reasons) for p in two] == [(p.left, p.right, p.score, p.reasons) for p in one]


def test_a_record_filed_twice_under_one_key_is_never_paired_with_itself() -> None:
    a = build_record(id=1, kind="organization", name="Acme Iberia", emails=["ventas@acme.es", "info@acme.es"])
    b = build_record(id=2, kind="organization", name="Acme Iberia SL", emails=["compras@acme.es"])
    assert blocking_keys(a).count("dacme.es") == 1
    assert [(p.left, p.right) for p in find_pairs([a, b], threshold=0.5)] == [(1, 2)]


def test_chinese_and_latin_name_fields_normalise_as_one_name() -> None:
    assert person_name("Xiao Ming", "王") == ("xiaoming", "wang")
    assert person_name("Pepe", "García López") == ("jose", "garcia lopez")
    assert person_name("", "", "王小明") == ("xiaoming", "wang")


def test_records_with_more_values_than_the_arrays_hold_are_still_scored_exactly() -> None:
    from rapport.dedup import batch

    records = _labelled("person", 1500, seed=6)
    rng = random.Random(2)
    # Some people with many phones and e-mails (the arrays keep three of each): pairs with them
    # are looked at one by one, and must give what the plain definition gives.
    for r in rng.sample(records, 60):
        extra = [f"+3491{rng.randrange(10**6, 10**7)}" for _ in range(batch.SLOTS + 1)]
        r.phones = frozenset(r.phones | set(extra))
        r.phone_tails = frozenset(p[-7:] for p in r.phones)
        r.emails = frozenset(r.emails | {f"x{i}@example.org" for i in range(batch.SLOTS + 1)})
    partner = rng.choice(records)
    partner.phones = frozenset({sorted(records[0].phones)[-1]})
    partner.phone_tails = frozenset(p[-7:] for p in partner.phones)
    for threshold in (0.5, DEFAULT_THRESHOLD):
        found = [(p.left, p.right, p.score, p.reasons) for p in find_pairs(records, threshold=threshold)]
        assert found == _every_pair_sharing_a_key(records, threshold)


def test_a_person_and_an_organisation_are_never_paired() -> None:
    a = build_record(id=1, kind="person", given_name="Acme", family_name="Iberia", emails=["info@acme.es"])
    b = build_record(id=2, kind="organization", name="Acme Iberia", emails=["info@acme.es"])
    c = build_record(id=3, kind="organization", name="Acme Iberia SL", emails=["info@acme.es"])
    assert [(p.left, p.right) for p in find_pairs([a, b, c], threshold=0.5)] == [(2, 3)]


def test_blocking_keys_sharing_a_hash_are_still_told_apart() -> None:
    from rapport.dedup.batch import _key_codes

    keys = ["pa", "pb", "pa", "pc", "pb", "pa"]
    for hash_of in (hash, lambda key: 7, lambda key: len(key)):
        codes, distinct = _key_codes(keys, hash_of=hash_of)
        assert distinct == 3
        by_key = {k: int(c) for k, c in zip(keys, codes)}
        assert len(set(by_key.values())) == 3 and [by_key[k] for k in keys] == [int(c) for c in codes]


def test_a_common_street_weighs_by_its_frequency_only_when_both_cards_write_it_the_same() -> None:
    from rapport.dedup.scoring import Model, tf_key

    model = Model(kind="person", tf={"street": {tf_key("12 calle mayor"): -5.0}})
    home = {"street": "12 Calle Mayor", "city": "Soria", "postal_code": "42001"}
    a = build_record(id=1, kind="person", given_name="Lucía", family_name="Ortega", address=home)
    b = build_record(id=2, kind="person", given_name="Lucía", family_name="Ortega", address={**home, "street": "12 Calle Mayorr"})
    c = build_record(id=3, kind="person", given_name="Lucía", family_name="Ortega", address=home)
    expected = sorted((score_pair(x, y, model) for x, y in ((a, b), (a, c), (b, c))), key=lambda p: (-p.score, p.left, p.right))
    found = find_pairs([a, b, c], threshold=0.5, model=model)
    assert found == [p for p in expected if p.score >= 0.5]
    assert {(p.left, p.right) for p in found} == {(1, 2), (2, 3)}  # the same common street says little
