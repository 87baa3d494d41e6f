"""``rapport dedup --train``: weights learned from the cards, stored, used by the next scan and check."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.utils import translation

from rapport.core.errors import PermissionDenied, ValidationError
from rapport.dedup import services
from rapport.dedup.models import Candidate, MatchModel
from rapport.dedup.reasons import reason_label, reason_labels
from rapport.dedup.scoring import DEFAULT_WEIGHTS

GIVEN = ["Lucía", "Martín", "Elena", "Pablo", "Sara", "Hugo", "Irene", "Diego", "Noelia", "Raúl"]
FAMILY = ["Navarro", "Castillo", "Ortega", "Delgado", "Rubio", "Molina", "Serrano", "Blanco", "Suárez", "Vidal", "Iglesias"]


def _people(make_person: Any, count: int, seed: int = 1) -> list[Any]:
    """``count`` cards of people of Madrid, one in four entered again (typo in the family name, phone typed another way)."""
    rng = random.Random(seed)
    made: list[Any] = []
    i = 0
    while len(made) < count:
        i += 1
        given, family = rng.choice(GIVEN), f"{rng.choice(FAMILY)} {rng.choice(FAMILY)}"
        address = {"kind": "home", "street": f"Calle {rng.choice(FAMILY)} {i + 1}", "city": "Madrid", "postal_code": f"280{i % 50:02d}"}
        made.append(make_person(given_name=given, family_name=family, phones=[f"+3461{i:07d}"], addresses=[address]))
        if i % 4 == 0 and len(made) < count:
            typo = family[:2] + family[3] + family[2] + family[4:]
            made.append(make_person(given_name=given, family_name=typo, phones=[f"61{i:07d}"], addresses=[address]))
    return made


def test_an_admin_trains_the_weights_and_the_next_scan_scores_with_them(users: dict[str, Any], make_person: Any) -> None:
    _people(make_person, 121)
    result = services.train(user=users["admin"], kind="person")
    stored = MatchModel.objects.get()
    assert result.model.trained and stored.records == 121 and stored.trained_by == users["admin"]
    assert result.model.weights["phone"][0] > 3 and result.model.weights["name"][-1] < 0
    assert stored.parameters["prior"] != -4.0 and stored.parameters["about"]["trained"]
    assert any(stored.parameters["weights"][f] != list(DEFAULT_WEIGHTS[f]) for f in ("name", "street", "place"))
    assert services.current_model("person").weights == result.model.weights
    assert services.current_model("organization").weights == DEFAULT_WEIGHTS  # nothing learned for them
    scan = services.scan(user=users["admin"], kind="person")
    assert any("same_phone" in p.reasons for p in scan.pairs)


def test_only_the_last_few_models_of_a_kind_are_kept(users: dict[str, Any], make_person: Any) -> None:
    _people(make_person, 121)
    for _ in range(services.MODELS_KEPT + 2):
        services.train(user=users["admin"], kind="person")
    assert MatchModel.objects.filter(kind="person").count() == services.MODELS_KEPT


def test_a_rep_a_manager_or_an_analyst_cannot_train(users: dict[str, Any]) -> None:
    for name in ("rep_ana", "manager_mei", "analyst_al"):
        with pytest.raises(PermissionDenied):
            services.train(user=users[name], kind="person")
    assert not MatchModel.objects.exists()


def test_training_refuses_an_unknown_kind(users: dict[str, Any]) -> None:
    for kind in ("robot", "", None, 3, "x" * 500):
        with pytest.raises(ValidationError):
            services.train(user=users["admin"], kind=kind)  # type: ignore[arg-type]


def test_with_too_few_cards_nothing_is_stored_and_the_defaults_stay(users: dict[str, Any], make_person: Any) -> None:
    _people(make_person, 5)
    result = services.train(user=users["admin"], kind="person")
    assert not result.model.trained and result.stored is None and not MatchModel.objects.exists()
    assert services.current_model("person").weights == DEFAULT_WEIGHTS


def test_cards_without_any_duplicate_teach_nothing_and_the_defaults_stay(users: dict[str, Any], make_person: Any) -> None:
    for i in range(60):
        make_person(given_name=GIVEN[i % 4], family_name=FAMILY[i % 5], phones=[f"+3461{i:07d}"])
    result = services.train(user=users["admin"], kind="person")
    assert not result.model.trained and result.model.about["why"] == "no_duplicates_to_learn_from"
    assert not MatchModel.objects.exists()


def test_a_damaged_stored_model_falls_back_to_defaults_for_what_is_damaged(users: dict[str, Any]) -> None:
    MatchModel.objects.create(kind="person", parameters={"prior": -8, "weights": {"name": "oops", "phone": [9, 8, -2]}})
    model = services.current_model("person")
    assert model.prior == -8 and model.weights["phone"] == (9.0, 8.0, -2.0) and model.weights["name"] == DEFAULT_WEIGHTS["name"]


def test_the_command_line_trains_then_scans_and_refuses_a_rep(users: dict[str, Any], make_person: Any, capsys: Any) -> None:
    from rapport.cli import main

    _people(make_person, 121)
    assert main(["dedup", "--kind", "people", "--train-only"]) == 0
    out = capsys.readouterr().out
    assert "Weights learned from 121 cards" in out and "phone" in out and "compared in" not in out
    assert MatchModel.objects.count() == 1
    assert main(["dedup", "--kind", "people", "--train", "--no-queue"]) == 0
    assert "compared in" in capsys.readouterr().out and MatchModel.objects.count() == 2
    assert main(["dedup", "--kind", "organizations", "--train-only"]) == 0
    assert "Too few cards to learn from (0): the default weights stay." in capsys.readouterr().out
    assert main(["dedup", "--kind", "people", "--train-only", "--user", "rep_ana"]) != 0
    assert "administrator" in capsys.readouterr().err
    assert MatchModel.objects.count() == 2


def test_the_demo_leaves_its_deliberate_duplicates_in_the_review_queue(db: Any) -> None:
    from rapport.cards import demo

    result = demo.generate(organizations=10, people=60, seed=5)
    pending = Candidate.objects.filter(kind="person", status="pending")
    assert result.duplicates >= 1 and pending.count() >= result.duplicates


def test_reasons_read_as_evidence_in_the_readers_language() -> None:
    assert reason_labels(["similar_name:0.93", "same_address"]) == ["similar name 0.93", "same address"]
    assert reason_label("same_phone_without_area_code") == "same phone number, one without area code"
    assert reason_label("similar_name:oops") == "similar name"
    assert reason_label("an_unknown_code") == "an_unknown_code"
    with translation.override("es"):
        assert reason_labels(["similar_name:0.93", "same_address"]) == ["nombre parecido 0,93", "misma dirección"]
    with translation.override("ro"):
        assert reason_label("similar_name:0.93") == "nume asemănător 0,93"
    with translation.override("zh-hans"):
        assert reason_label("same_address") == "地址相同"
