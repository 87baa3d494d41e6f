"""The churn flag on real purchases: precision and recall on the CDNOW transaction data.

    python -m bench.churn_eval [--holdout-weeks 26] [--samples 5] [--db sqlite|postgres|none]

The data: CDNOW, an online music retailer, 69,659 purchases by 23,570 customers who first
bought in the first quarter of 1997, followed to the end of June 1998 (the standard data set of
Fader & Hardie; it ships in the PyPI wheel ``Lifetimes==0.11.3`` as
``lifetimes/datasets/CDNOW_master.txt``). The wheel is downloaded once with pip into
``var/bench/wheels`` and read with ``zipfile``; nothing is installed and the data stays out of
the repository.

For each as-of date (calibration: every purchase up to it) the customers with at least two
purchase occasions are scored exactly as the churn report scores them (``rapport.analytics.churn``:
prior fitted on their intervals, risk from each one's own history), then the holdout (the
following ``--holdout-weeks`` weeks, and separately everything to the end of the data) says
who came back. A flagged customer who made no purchase in the holdout really did not come
back. Reported per alert level and for two simple rules: silent more than 90 days, and
silent more than twice its own average interval:

* precision: flagged customers who did not come back / flagged customers;
* recall: non-returning regulars who were flagged / all non-returning regulars;
* base rate: the share of regulars that did not come back (the precision of flagging at random).

The report's computation (histories, prior fit, scores) is timed on the whole data set in
memory, and (unless ``--db none``) as ``churn_report`` runs it for an admin and a rep over a
throwaway database (``bench.common.setup``) holding CDNOW as cards and orders.
Results: bench/results/churn_eval.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import common

WHEEL = "Lifetimes==0.11.3"
MEMBER = "lifetimes/datasets/CDNOW_master.txt"
AS_OF_DATES = (dt.date(1997, 9, 30), dt.date(1997, 12, 31))
DATA_END = dt.date(1998, 6, 30)
THRESHOLDS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95)
NAIVE_DAYS = 90
RHYTHM_SPLIT = 60  # days: frequent and occasional buyers, for the breakdown by rhythm
Purchases = dict[str, list[dt.date]]


def wheel_path() -> Path:
    folder = common.ROOT / "var" / "bench" / "wheels"
    found = sorted(folder.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-d", str(folder)], check=True)
        found = sorted(folder.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not found:
        raise SystemExit(f"pip did not leave a {WHEEL} wheel in {folder}")
    return found[0]


def load_cdnow(path: Path) -> Purchases:
    """Order dates per customer (one entry per purchase line; same-day purchases repeat)."""
    purchases: Purchases = defaultdict(list)
    with zipfile.ZipFile(path) as wheel:
        text = wheel.read(MEMBER).decode("ascii")
    lines = text.splitlines()
    if lines[0].split() != ["customer_id", "date", "number_of_cds", "dollar_value"]:
        raise SystemExit(f"unexpected header in {MEMBER}: {lines[0]!r}")
    for line in lines[1:]:
        parts = line.split()
        if len(parts) != 4:
            continue
        day = parts[1]
        purchases[parts[0]].append(dt.date(int(day[:4]), int(day[4:6]), int(day[6:])))
    return dict(purchases)


def report(purchases: Purchases, as_of: dt.date) -> dict[str, tuple[Any, Any]]:
    """What the churn report computes, without the database: histories, the prior, the scores."""
    from rapport.analytics import churn

    histories = {}
    for customer, days in purchases.items():
        h = churn.history(d for d in days if d <= as_of)
        if h is not None:
            histories[customer] = h
    prior = churn.fit_prior((h.intervals, h.span_days) for h in histories.values())
    return {customer: (h, churn.score(h, as_of=as_of, prior=prior)) for customer, h in histories.items()}


def confusion(flags: dict[str, bool], lost: dict[str, bool]) -> dict[str, Any]:
    flagged = sum(flags.values())
    hits = sum(1 for c, f in flags.items() if f and lost[c])
    lost_total = sum(lost.values())
    precision = hits / flagged if flagged else None
    recall = hits / lost_total if lost_total else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "flagged": flagged, "flagged_share": round(flagged / len(flags), 4) if flags else None,
        "true_positives": hits, "precision": _r(precision), "recall": _r(recall), "f1": _r(f1),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evaluate(purchases: Purchases, as_of: dt.date, holdout_end: dt.date) -> dict[str, Any]:
    from rapport.analytics import churn

    scored = report(purchases, as_of)
    regulars = {c: (h, s) for c, (h, s) in scored.items() if s is not None}
    returned = {c: any(as_of < d <= holdout_end for d in purchases[c]) for c in regulars}
    lost = {c: not returned[c] for c in regulars}
    prior = churn.fit_prior((h.intervals, h.span_days) for h, _s in regulars.values())
    def at_risk(level: float) -> Callable[[churn.History, churn.Score], bool]:
        return lambda h, s: s.risk >= level

    rules = {f"risk >= {t}": at_risk(t) for t in THRESHOLDS}
    rules[f"silent > {NAIVE_DAYS} days"] = lambda h, s: s.days_silent > NAIVE_DAYS
    rules["silent > 2x own average interval"] = lambda h, s: s.days_silent > 2 * h.span_days / h.intervals
    results = {name: confusion({c: rule(h, s) for c, (h, s) in regulars.items()}, lost) for name, rule in rules.items()}
    # The same number of customers as the 90-day rule flags, taken by risk: the two rankings compared.
    volume = results[f"silent > {NAIVE_DAYS} days"]["flagged"]
    top = set(sorted(regulars, key=lambda c: -regulars[c][1].risk)[:volume])
    results[f"top {volume} by risk (the 90-day rule's volume)"] = confusion({c: c in top for c in regulars}, lost)
    # Where each rule works: regulars split by their usual interval (the model's, at the as-of date).
    by_rhythm = {}
    for label, keep in ((f"usual interval < {RHYTHM_SPLIT} days", True), (f"usual interval >= {RHYTHM_SPLIT} days", False)):
        group = {c: hs for c, hs in regulars.items() if (hs[1].usual_interval_days < RHYTHM_SPLIT) == keep}
        group_lost = {c: lost[c] for c in group}
        by_rhythm[label] = {
            "regulars": len(group), "base_rate": _r(sum(group_lost.values()) / len(group)) if group else None,
            **{name: confusion({c: rules[name](h, s) for c, (h, s) in group.items()}, group_lost)
               for name in (f"risk >= {churn.DEFAULT_ALERT}", f"silent > {NAIVE_DAYS} days")},
        }
    # How early: the silence after which each regular that did not come back is flagged.
    earliness = {}
    for t in THRESHOLDS:
        days = [churn.silence_at_risk(h, prior=prior, risk=t) for c, (h, _s) in regulars.items() if lost[c]]
        known = [d for d in days if d is not None]
        earliness[f"risk >= {t}"] = {
            "median_days_silent_when_flagged": round(statistics.median(known), 1) if known else None,
            "share_flagged_before_90_days": _r(sum(d < NAIVE_DAYS for d in known) / len(known)) if known else None,
        }
    return {
        "as_of": as_of.isoformat(), "holdout_end": holdout_end.isoformat(),
        "customers": len(scored), "regulars": len(regulars),
        "not_returning": sum(lost.values()), "base_rate": _r(sum(lost.values()) / len(regulars)) if regulars else None,
        "prior": {"r": round(prior.r, 4), "alpha_days": round(prior.alpha, 2), "fitted": prior.fitted,
                  "customers": prior.customers},
        "median_usual_interval_days": round(statistics.median(s.usual_interval_days for _h, s in regulars.values()), 1),
        "rules": results,
        "earliness_among_not_returning": earliness,
        "by_rhythm": by_rhythm,
    }


def timing(purchases: Purchases, samples: int) -> dict[str, Any]:
    runs = []
    for _ in range(samples):
        start = time.perf_counter()
        report(purchases, DATA_END)
        runs.append((time.perf_counter() - start) * 1000)
    lines = sum(len(days) for days in purchases.values())
    return {"whole_data_set": common.percentiles(runs), "customers": len(purchases), "purchase_lines": lines}


def database_timing(purchases: Purchases, samples: int) -> dict[str, Any]:
    """The report as the API computes it, from a database holding CDNOW as cards and orders:
    two teams of one rep each, the customers shared between them by id, every purchase line
    one confirmed order."""
    from django.db import transaction

    from rapport.accounts.services import create_user
    from rapport.analytics import selectors
    from rapport.cards.models import Card
    from rapport.commerce.models import Order, OrderStatus

    admin = create_user(username="bench_admin", role="admin", password="x", validate=False)
    reps = [create_user(username=f"bench_rep_{t}", role="rep", teams=[f"Team {t}"], password="x", validate=False) for t in (1, 2)]
    teams = [rep.teams.get() for rep in reps]
    started = time.perf_counter()
    with transaction.atomic():
        cards = Card.objects.bulk_create([
            Card(kind="organization", display_name=f"CDNOW {customer}", sort_name=f"cdnow {customer}", external_id=customer,
                 owner=reps[i % 2], team=teams[i % 2])
            for i, customer in enumerate(sorted(purchases))
        ], batch_size=2000)
        ids = {card.external_id: card.pk for card in cards}
        Order.objects.bulk_create([
            Order(card_id=ids[customer], currency="USD", ordered_on=day, total=0, status=OrderStatus.CONFIRMED)
            for customer, days in purchases.items() for day in days
        ], batch_size=5000)
    load_seconds = time.perf_counter() - started
    figures: dict[str, Any] = {"load_seconds": round(load_seconds, 1)}
    for who, user in (("admin", admin), ("rep", reps[0])):
        for as_of in (AS_OF_DATES[0], DATA_END):
            runs = []
            for _ in range(samples):
                ms, report = common.timed(lambda: selectors.churn_report(user, as_of=as_of))
                runs.append(ms)
            figures[f"{who}_as_of_{as_of.isoformat()}"] = {**common.percentiles(runs), "rows": len(report.rows),
                                                            "flagged": report.flagged}
    return figures


def _table(evaluation: dict[str, Any]) -> str:
    rows = [f"as of {evaluation['as_of']}, holdout to {evaluation['holdout_end']}: {evaluation['regulars']} regulars, "
            f"base rate {evaluation['base_rate']}"]
    for name, figures in evaluation["rules"].items():
        rows.append(f"  {name:34} flagged {figures['flagged']:6}  precision {figures['precision']}  recall {figures['recall']}"
                    f"  F1 {figures['f1']}")
    for name, figures in evaluation["earliness_among_not_returning"].items():
        rows.append(f"  {name:34} flagged after a median {figures['median_days_silent_when_flagged']} days of silence; "
                    f"{figures['share_flagged_before_90_days']} before 90 days")
    for label, group in evaluation["by_rhythm"].items():
        rows.append(f"  {label}: {group['regulars']} regulars, base rate {group['base_rate']}")
        for name, figures in group.items():
            if isinstance(figures, dict):
                rows.append(f"    {name:32} flagged {figures['flagged']:6}  precision {figures['precision']}  recall {figures['recall']}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--holdout-weeks", type=int, default=26)
    parser.add_argument("--samples", type=int, default=5, help="timed runs of the whole report")
    parser.add_argument("--db", choices=["none", "sqlite", "postgres"], default="sqlite",
                        help="also load CDNOW as cards and orders into a throwaway database and time the report there")
    args = parser.parse_args()
    if args.db == "none":
        # The model needs no database; Django is set up only for the settings and the results file.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
        os.environ["RAPPORT_SQLITE_PATH"] = ":memory:"
        os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
    else:
        common.setup("churn_eval", db=args.db)
    from rapport.analytics import churn

    path = wheel_path()
    purchases = load_cdnow(path)
    evaluations = []
    for as_of in AS_OF_DATES:
        for end in sorted({min(as_of + dt.timedelta(weeks=args.holdout_weeks), DATA_END), DATA_END}):
            evaluation = evaluate(purchases, as_of, end)
            evaluations.append(evaluation)
            print(_table(evaluation), flush=True)
    timings = timing(purchases, args.samples)
    print(f"report over all {timings['customers']} customers: {timings['whole_data_set']}")
    if args.db != "none":
        timings["database"] = database_timing(purchases, args.samples)
        print(f"through the database: {timings['database']}")
    common.write_results(
        "churn_eval",
        parameters={"data": f"CDNOW_master.txt from the {WHEEL} wheel", "as_of": [d.isoformat() for d in AS_OF_DATES],
                    "holdout_weeks": args.holdout_weeks, "thresholds": list(THRESHOLDS),
                    "default_alert": churn.DEFAULT_ALERT},
        figures={"evaluations": evaluations, "timing": timings},
    )


if __name__ == "__main__":
    main()
