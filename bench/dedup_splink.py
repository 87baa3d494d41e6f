"""The same labelled public data deduplicated by Splink on DuckDB, for comparison with our engine.

    var/bench/splink-venv/bin/python -m bench.dedup_splink

Splink is not a dependency of Rapport: it runs in a virtual environment of its own
(``python3 -m venv var/bench/splink-venv && var/bench/splink-venv/bin/pip install splink==5.0.0``).
The rows are those ``bench.dedup_real`` scores (``bench.dedup_data``), the settings follow
Splink's own tutorial for people and are the same for every set of a kind: u by random
sampling, the chance that two random records match from deterministic rules (recall 0.7),
m by expectation-maximisation on two training blocking rules, term-frequency adjustment on
names and places, then every pair the prediction blocking rules bring together scored.
Precision, recall and F1 at the same thresholds; seconds for training and for prediction, and
the time to look one new record up among the others (what the creation-time check does).
Results: bench/results/dedup-splink.json.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from bench import dedup_data

THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
RESULTS = Path(__file__).resolve().parent / "results"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def people_rows(data: dedup_data.LabelledSet) -> list[dict[str, Any]]:
    rows = []
    for i, row in enumerate(data.rows, start=1):
        address = row["addresses"][0]
        rows.append({
            "unique_id": i, "given_name": row["given_name"] or None, "surname": row["family_name"] or None,
            "dob": row["birth_date"] or None, "street": address["street"] or None,
            "postcode": address["postal_code"] or None, "suburb": address["city"] or None,
        })
    return rows


def organisation_rows(data: dedup_data.LabelledSet) -> list[dict[str, Any]]:
    rows = []
    for i, row in enumerate(data.rows, start=1):
        address = row["addresses"][0]
        phone = _digits(row["phones"][0]) if row["phones"] else ""
        rows.append({
            "unique_id": i, "name": row["name"] or None, "street": address["street"] or None,
            "city": address["city"] or None, "phone": phone[-7:] or None,
        })
    return rows


def people_settings() -> tuple[Any, list[Any], list[Any]]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "dob"),
            block_on("given_name", "dob"),
            block_on("postcode", "dob"),
            block_on("street", "postcode"),
            block_on("substr(given_name, 1, 2)", "substr(surname, 1, 2)", "postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    deterministic = [block_on("given_name", "surname", "dob"), block_on("surname", "dob", "postcode")]
    training = [block_on("given_name", "surname"), block_on("dob")]
    return settings, deterministic, training


def organisation_settings() -> tuple[Any, list[Any], list[Any]]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.7]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.85]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("phone"),
            block_on("substr(name, 1, 3)"),
            block_on("street"),
            block_on("substr(street, 1, 5)", "city"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    deterministic = [block_on("name", "city"), block_on("phone")]
    training = [block_on("substr(name, 1, 3)"), block_on("city")]
    return settings, deterministic, training


def run(data: dedup_data.LabelledSet) -> dict[str, Any]:
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    rows = people_rows(data) if data.kind == "person" else organisation_rows(data)
    settings, deterministic, training = people_settings() if data.kind == "person" else organisation_settings()
    db = DuckDBAPI()
    table = db.register(pa.Table.from_pylist(rows))
    started = time.perf_counter()
    linker = Linker(table, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=min(THRESHOLDS)).as_record_list()
    predicted_in = time.perf_counter() - started
    lookups = []
    for i in range(0, min(len(rows), 20 * 37), 37):  # one new record against all the others: the creation-time check
        one = db.register(pa.Table.from_pylist([{**rows[i], "unique_id": 10**9 + i}]))
        started = time.perf_counter()
        linker.inference.predict_between(one, table, threshold_match_probability=0.8).as_record_list()
        lookups.append((time.perf_counter() - started) * 1000)
    lookups.sort()
    truth = data.true_pairs()
    found = [(min(p["unique_id_l"], p["unique_id_r"]), max(p["unique_id_l"], p["unique_id_r"]), p["match_probability"]) for p in predictions]
    table_rows = []
    for threshold in THRESHOLDS:
        predicted = {(a, b) for a, b, score in found if score >= threshold}
        tp = len(predicted & truth)
        fp, fn = len(predicted) - tp, len(truth) - tp
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table_rows.append({"threshold": threshold, "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)})
    at_default = next(r for r in table_rows if r["threshold"] == 0.8)
    return {"set": data.name, "records": len(rows), "true_pairs": len(truth), "train_seconds": round(trained, 2),
            "predict_seconds": round(predicted_in, 2), "at_default": at_default,
            "one_record_lookup_ms": {"p50": round(lookups[len(lookups) // 2], 1), "p95": round(lookups[int(len(lookups) * 0.95)], 1)},
            "best": max(table_rows, key=lambda r: r["f1"]), "per_threshold": table_rows}


def main() -> int:
    import splink

    results = []
    for data in dedup_data.all_sets():
        result = run(data)
        results.append(result)
        d, b = result["at_default"], result["best"]
        print(f"{data.name}: at 0.80 P={d['precision']:.3f} R={d['recall']:.3f} F1={d['f1']:.3f} (best {b['f1']:.3f} at {b['threshold']}); "
              f"train {result['train_seconds']} s, predict {result['predict_seconds']} s; one record looked up: {result['one_record_lookup_ms']} ms")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "dedup-splink.json"
    path.write_text(json.dumps({"splink": splink.__version__, "sets": results}, indent=2) + "\n", encoding="utf-8")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
