"""Weights learned from the cards (EM), several blocking rules, organisations and local phone numbers.

No database here: the engine and the training on plain records.
"""

from __future__ import annotations

import random

import pytest

from rapport.dedup import scoring, training
from rapport.dedup.matching import DEFAULT_THRESHOLD, MatchRecord, blocking_keys, build_record, candidate_pairs, find_pairs, phonetic
from rapport.dedup.scoring import Model, default_model


def org(id: int, name: str, street: str = "", city: str = "", **kw: object) -> MatchRecord:
    return build_record(id=id, kind="organization", name=name, address={"street": street, "city": city}, **kw)  # type: ignore[arg-type]


def person(id: int, given: str, family: str, **kw: object) -> MatchRecord:
    return build_record(id=id, kind="person", given_name=given, family_name=family, **kw)  # type: ignore[arg-type]


def _town(seed: int, count: int = 600) -> tuple[list[MatchRecord], set[tuple[int, int]]]:
    """People of one country with a duplicate for one in five: a typo, a changed address or a date."""
    rng = random.Random(seed)
    given = ["anna", "james", "olivia", "liam", "mia", "noah", "ella", "jack", "chloe", "lucas", "zoe", "ethan", "ruby"]
    family = [f"{a}{b}" for a in ("mc", "van", "ber", "kow", "hal", "tor", "lin", "pet") for b in ("arthy", "dyke", "nard", "alski", "loran", "res", "den", "ers")]
    streets = [f"{w} {t}" for w in ("stanley", "pinkerton", "kootara", "fincham", "gudgenby", "sinclair") for t in ("street", "crescent", "place")]
    records: list[MatchRecord] = []
    truth: set[tuple[int, int]] = set()

    def typo(word: str) -> str:
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    for i in range(1, count + 1):
        row = {
            "given": rng.choice(given), "family": rng.choice(family), "street": f"{rng.randint(1, 99)} {rng.choice(streets)}",
            "postal_code": str(rng.randint(2000, 2999)), "birth_date": f"19{rng.randint(20, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        records.append(person(i, row["given"], row["family"], birth_date=row["birth_date"],
                              address={"street": row["street"], "postal_code": row["postal_code"]}, region="AU"))
        if rng.random() < 0.2:
            dup = dict(row)
            change = rng.choice(["name", "address", "date"])
            if change == "name":
                dup["family"] = typo(dup["family"])
            elif change == "address":
                dup["street"] = f"{rng.randint(1, 99)} {rng.choice(streets)}"
            else:
                dup["birth_date"] = dup["birth_date"][:8] + f"{rng.randint(1, 28):02d}"
            j = count + len(truth) + 1
            records.append(person(j, dup["given"], dup["family"], birth_date=dup["birth_date"],
                                  address={"street": dup["street"], "postal_code": dup["postal_code"]}, region="AU"))
            truth.add((i, j))
    return records, truth


def test_a_model_learned_without_labels_finds_the_duplicates_of_a_town() -> None:
    records, truth = _town(seed=1)
    model = training.train(records, "person")
    assert model.trained and model.prior < -3
    found = {(p.left, p.right) for p in find_pairs(records, model=model)}
    precision = len(found & truth) / max(1, len(found))
    recall = len(found & truth) / len(truth)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    # What was learned reads as common sense: agreeing is evidence for, disagreeing against.
    for field in ("name", "birth_date", "street", "place"):
        weights = model.weights[field]
        assert weights[0] > 0 > weights[-1], (field, weights)


def test_training_the_same_cards_twice_gives_the_same_model() -> None:
    records, _truth = _town(seed=2, count=300)
    assert training.train(records, "person").as_json() == training.train(records, "person").as_json()


def test_too_few_cards_keep_the_default_weights() -> None:
    records, _truth = _town(seed=3, count=20)
    model = training.train(records[:30], "person")
    assert not model.trained and model.weights == default_model("person").weights
    assert model.about["why"] == "too_few_records"


def _town_with_smiths() -> list[MatchRecord]:
    records, _truth = _town(seed=4)
    smiths = [person(5000 + i, "john", "smith", address={"street": "1 main street", "postal_code": "3000"}) for i in range(40)]
    return records + smiths + [person(6000, "ignatius", "quarmby"), person(6001, "ignatius", "quarmby")]


def test_a_common_name_counts_less_than_a_rare_one() -> None:
    records = _town_with_smiths()
    model = training.train(records, "person")
    assert model.trained and model.tf.get("name")
    smiths = [r for r in records if r.name == "john smith"]
    common = scoring.weigh(person(1, "john", "smith"), person(2, "john", "smith"), model, frozenset())[0]
    rare = scoring.weigh(records[-2], records[-1], model, frozenset())[0]
    assert len(smiths) == 40 and rare > common + 1


def test_a_stored_model_keeps_hashes_of_common_values_never_the_values() -> None:
    stored = str(training.train(_town_with_smiths(), "person").as_json()["tf"])
    assert "smith" not in stored and "main" not in stored and "3000" not in stored
    assert scoring.tf_key("john smith") in stored


def test_a_stored_model_with_wrong_shapes_falls_back_to_default_weights_field_by_field() -> None:
    model = Model.from_json({"prior": -9, "weights": {"name": [1, 2], "phone": [5, 4, -1], "robots": [1]}, "tf": {"name": "x"}})
    assert model.prior == -9 and model.weights["phone"] == (5.0, 4.0, -1.0)
    assert model.weights["name"] == scoring.DEFAULT_WEIGHTS["name"] and "robots" not in model.weights
    assert model.tf == {}
    with pytest.raises((TypeError, ValueError)):
        Model.from_json({"prior": "very low"})


def test_an_organisation_with_the_same_name_and_address_is_proposed_without_phone_or_website() -> None:
    a = org(1, "Cafe Bizou", "14016 Ventura Blvd.", "Sherman Oaks")
    b = org(2, "Café Bizou", "14016 ventura blvd", "sherman oaks")
    pair = find_pairs([a, b])
    assert [(p.left, p.right) for p in pair] == [(1, 2)] and pair[0].score >= DEFAULT_THRESHOLD
    assert set(pair[0].reasons) >= {"same_name", "same_address"}


def test_two_numbers_of_one_street_are_two_buildings() -> None:
    a = org(1, "Palm", "837 Second Ave", "New York")
    b = org(2, "Palm Too", "840 Second Ave", "New York")
    assert scoring.street_level(a.street, b.street)[0] == 2
    assert scoring.street_level("18 e 54th st", "182 w 58th st")[0] == 2
    assert scoring.street_level("747 ninth ave", "747 9th ave")[0] != 2
    assert find_pairs([a, b]) == []


def test_a_phone_kept_without_its_area_code_still_meets_the_full_number() -> None:
    full = org(1, "Arnie Mortons of Chicago", "435 S. La Cienega Blv.", phones=["310/246-1501"], region="US")
    local = org(2, "Arnie Morton's of Chicago", phones=["246-1501"], region="US")
    other = org(3, "Arnie Mortons of Chicago", phones=["246-1502"], region="US")
    assert set(blocking_keys(full)) & set(blocking_keys(local)) >= {"p2461501"}
    pair = find_pairs([full, local, other], threshold=0.0)
    reasons = {(p.left, p.right): p.reasons for p in pair}
    assert "same_phone_without_area_code" in reasons[(1, 2)]
    assert "phone_differs" in reasons.get((1, 3), ("phone_differs",))


def test_a_typo_in_the_first_letter_of_a_name_still_brings_the_pair_together() -> None:
    a = person(1, "michaela", "neumann", birth_date="1951-11-11")
    b = person(2, "michaela", "keumann", birth_date="1915-11-11")  # the first letter and the year mistyped
    strangers = [person(10 + i, f"x{i}given", f"y{i}family") for i in range(50)]
    assert (1, 2) in {(x.id, y.id) for x, y in candidate_pairs([a, b, *strangers])}


def test_names_that_sound_alike_share_a_phonetic_code() -> None:
    assert phonetic("smith") == phonetic("smyth")
    assert phonetic("neumann") == phonetic("newman")
    assert phonetic("garcia") != phonetic("martin")
    assert phonetic("") == ""


def test_a_name_nearly_the_same_reads_as_similar_with_its_similarity() -> None:
    a = person(1, "Olga", "Madrigal Moll", phones=["+34612000111"])
    b = person(2, "Olga", "Madrgial Moll", phones=["+34612000111"])
    reasons = find_pairs([a, b])[0].reasons
    assert reasons[0].startswith("similar_name:0.9") and "same_phone" in reasons
