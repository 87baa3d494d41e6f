"""The orders import on real transactions: CDNOW's 69,659 purchases through ``rapport import --kind orders``.

    python -m bench.orders_real [--xlsx-rows 5000] [--reuse]

The data: CDNOW, an online music retailer, 69,659 purchases by 23,570 customers (January 1997
to June 1998; the Fader & Hardie data set that ships in the PyPI wheel ``Lifetimes==0.11.3`` as
``lifetimes/datasets/CDNOW_master.txt``, fetched once with pip by ``bench.churn_eval.wheel_path``
into ``var/bench/wheels``; nothing is installed and the data stays out of the repository).

Into a throwaway SQLite database (``bench.common.setup``):

1. the 23,570 customers as organisation cards (``bulk_create_cards``) whose external id is the
   CDNOW id as the file writes it, leading zeros kept (``00001``);
2. the purchases written as a spreadsheet would export the flat orders file: UTF-8 with a BOM,
   CRLF, ``customer_external_id,order_external_id,ordered_on,quantity,amount,currency``, the
   order number ``<customer>-<YYYYMMDD>-<n>`` (a customer's several purchases on one day are
   separate orders, numbered in file order), ISO dates, USD; and the first ``--xlsx-rows`` rows
   as two workbooks: ids as text with their leading zeros and dates as Excel dates, and the
   same with the customer ids turned into numbers (``1``), as Excel does to numeric-looking text;
3. through the CLI (``rapport.cli.main``, in this process): a dry run, the import, the same file
   again (nothing may be doubled), a revert of both; each workbook imported and reverted.

Checked: orders created, the sum of their totals against the file's ``dollar_value`` (to the
cent), what became of the purchases of $0, the error file, and the workbooks' outcome.
``--reuse`` keeps the cards of an earlier run (its orders and jobs are deleted first).
Results: bench/results/orders-real-cdnow.json.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import re
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from bench import common

MEMBER = "lifetimes/datasets/CDNOW_master.txt"
HEADER = ["customer_external_id", "order_external_id", "ordered_on", "quantity", "amount", "currency"]


class Purchase(NamedTuple):
    customer: str  # as the file writes it: "00001"
    day: dt.date
    cds: int
    dollars: str  # as the file writes it: "11.77"
    order: str  # <customer>-<YYYYMMDD>-<n>


def load_purchases() -> list[Purchase]:
    from bench.churn_eval import wheel_path

    with zipfile.ZipFile(wheel_path()) as wheel:
        lines = wheel.read(MEMBER).decode("ascii").splitlines()
    if lines[0].split() != ["customer_id", "date", "number_of_cds", "dollar_value"]:
        raise SystemExit(f"unexpected header in {MEMBER}: {lines[0]!r}")
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    purchases = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) != 4:
            continue
        customer, day, cds, dollars = parts
        seen[customer, day] += 1
        purchases.append(Purchase(customer, dt.date(int(day[:4]), int(day[4:6]), int(day[6:])), int(cds), dollars,
                                  f"{customer}-{day}-{seen[customer, day]}"))
    return purchases


def build_customers(user: Any, customers: list[str]) -> dict[str, Any]:
    from rapport.cards.bulk import bulk_create_cards
    from rapport.cards.models import Card

    have = set(Card.objects.filter(external_id__in=customers).values_list("external_id", flat=True))
    todo = [c for c in customers if c not in have]
    started = time.perf_counter()
    created = bulk_create_cards(user=user, rows=({"kind": "organization", "name": f"CDNOW {c}", "external_id": c} for c in todo),
                                batch_size=5000) if todo else 0
    seconds = time.perf_counter() - started
    return {"existing": len(have), "created": created, "seconds": round(seconds, 1),
            "cards_per_s": round(created / seconds) if created else None}


def write_csv(path: Path, purchases: list[Purchase]) -> None:
    """As a spreadsheet saves "CSV UTF-8": a BOM, CRLF line ends."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for p in purchases:
            writer.writerow([p.customer, p.order, p.day.isoformat(), p.cds, p.dollars, "USD"])


def write_xlsx(path: Path, purchases: list[Purchase], *, numeric_ids: bool) -> None:
    """As a spreadsheet holds the rows: dates as Excel dates, quantities and amounts as numbers,
    ids as text (``numeric_ids``: the customer ids as numbers, their leading zeros gone)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Orders")
    sheet.append(HEADER)
    for p in purchases:
        sheet.append([int(p.customer) if numeric_ids else p.customer, p.order, p.day, p.cds, float(p.dollars), "USD"])
    workbook.save(path)
    # write-only mode stores dates with a date format: check it reads back as a date, as Excel shows it
    check = openpyxl.load_workbook(path, read_only=True)
    cell = next(check.worksheets[0].iter_rows(min_row=2, max_row=2))[2]
    assert isinstance(cell.value, dt.datetime), cell.value
    check.close()


def clear_orders() -> None:
    from bench.orders_import import clear_orders as clear

    clear()


def cli(argv: list[str]) -> tuple[int, float, Any]:
    """``rapport <argv>`` in this process; its exit code, wall seconds and the newest job."""
    from rapport.cli import main as rapport
    from rapport.imports.models import ImportJob

    started = time.perf_counter()
    code = rapport(argv)
    seconds = time.perf_counter() - started
    return code, seconds, ImportJob.objects.order_by("-id").first()


def state() -> dict[str, Any]:
    """Orders and lines in the database; the totals added up as Decimals in Python (SQLite's
    SUM over a decimal column adds floats: 2500315.63000041 for these orders)."""
    from rapport.commerce.models import Order, OrderLine

    totals = list(Order.objects.values_list("total", flat=True))
    return {"orders": len(totals), "lines": OrderLine.objects.count(),
            "total": str(sum(totals, Decimal("0.00"))),
            "line_total": str(sum(OrderLine.objects.values_list("amount", flat=True), Decimal("0.00"))),
            "customers": Order.objects.values("card").distinct().count()}


def verify(purchases: list[Purchase]) -> dict[str, Any]:
    """Each order against its purchase: customer, date, total, currency, quantity; the mismatches counted."""
    from rapport.commerce.models import Order, OrderLine

    stored = {number: (customer, day, total, currency) for number, customer, day, total, currency in
              Order.objects.values_list("external_id", "card__external_id", "ordered_on", "total", "currency")}
    quantities = dict(OrderLine.objects.values_list("order__external_id", "quantity"))
    wrong: collections.Counter[str] = collections.Counter()
    examples: list[str] = []
    for p in purchases:
        got = stored.get(p.order)
        if got is None:
            wrong["missing"] += 1
            continue
        for what, ok in (("customer", got[0] == p.customer), ("date", got[1] == p.day),
                         ("total", got[2] == Decimal(p.dollars)), ("currency", got[3] == "USD"),
                         ("quantity", quantities.get(p.order) == p.cds)):
            if not ok:
                wrong[what] += 1
                if len(examples) < 5:
                    examples.append(f"{p.order}: {what} {got} vs {p}")
    return {"orders_checked": len(purchases), "mismatches": dict(wrong), "examples": examples,
            "zero_total_orders": sum(1 for v in stored.values() if v[2] == 0)}


def job_figures(job: Any, code: int, seconds: float) -> dict[str, Any]:
    return {"exit": code, "job": job.pk, "status": job.status, "message": job.message, "rows": job.rows_read,
            "created": job.created_count, "updated": job.updated_count, "unchanged": job.skipped_count,
            "not_imported": job.error_count, "seconds": round(seconds, 2),
            "rows_per_s": round(job.rows_read / seconds) if seconds else None}


def error_summary(path: Path) -> dict[str, Any]:
    """The error file: how many rows, the reasons counted, the first few rows as written."""
    if not path.exists():
        return {"rows": 0}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # the reasons counted with their numbers left out ("No such customer. N is the external id N…")
    reasons = collections.Counter(f"{r.get('column', '')}: {re.sub(r'[0-9]+', 'N', r.get('reason', ''))}" for r in rows)
    return {"rows": len(rows), "header": list(rows[0]) if rows else [], "reasons": dict(reasons.most_common(10)),
            "first": rows[:3]}


def expected(purchases: list[Purchase]) -> dict[str, Any]:
    paid = [p for p in purchases if Decimal(p.dollars) > 0]
    return {"rows": len(purchases), "orders": len({p.order for p in purchases}),
            "customers": len({p.customer for p in purchases}),
            "total": str(sum((Decimal(p.dollars) for p in purchases), Decimal("0.00"))),
            "zero_amount_rows": len(purchases) - len(paid),
            "same_day_repeats": sum(1 for p in purchases if not p.order.endswith("-1")),
            "first": purchases[0].day.isoformat(), "last": max(p.day for p in purchases).isoformat()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_real", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xlsx-rows", type=int, default=5000)
    parser.add_argument("--reuse", action="store_true", help="keep the customers of an earlier run")
    args = parser.parse_args(argv)
    target = common.setup("orders-real", reuse=args.reuse)
    print(f"database: {target}", flush=True)
    folder = Path(str(target)).parent / "orders-real"
    folder.mkdir(exist_ok=True)
    from rapport.accounts.models import User
    from rapport.accounts.services import create_user

    user = User.objects.filter(username="bench_orders").first() or create_user(
        username="bench_orders", role="admin", password="x", validate=False)
    purchases = load_purchases()
    want = expected(purchases)
    print(f"file: {want}", flush=True)
    figures: dict[str, Any] = {"expected": want,
                               "customers": build_customers(user, sorted({p.customer for p in purchases}))}
    clear_orders()
    paid_total = str(sum((Decimal(p.dollars) for p in purchases if Decimal(p.dollars) > 0), Decimal("0.00")))
    base = ["--user", user.username]

    # --- the CSV --------------------------------------------------------------------------------------
    csv_path = folder / "cdnow-orders.csv"
    write_csv(csv_path, purchases)
    figures["csv"] = {"mb": round(csv_path.stat().st_size / 1e6, 2)}
    runs: dict[str, Any] = {}
    errors = folder / "dry-run-errors.csv"
    code, seconds, job = cli(["import", str(csv_path), "--kind", "orders", "--dry-run", "--errors", str(errors), *base])
    # the dry run's job is rolled back with the rest: the counters come from the printed line
    runs["dry_run"] = {"exit": code, "seconds": round(seconds, 2), "rows_per_s": round(want["rows"] / seconds),
                       "after": state(), "errors": error_summary(errors), "job_left_behind": job is not None}
    print(f"dry run: {runs['dry_run']}", flush=True)

    errors = folder / "import-errors.csv"
    code, seconds, job = cli(["import", str(csv_path), "--kind", "orders", "--errors", str(errors), *base])
    runs["import"] = {**job_figures(job, code, seconds), "after": state(), "errors": error_summary(errors),
                      "verify": verify(purchases)}
    first_job = job.pk
    print(f"import: {runs['import']}", flush=True)

    errors = folder / "again-errors.csv"
    code, seconds, job = cli(["import", str(csv_path), "--kind", "orders", "--errors", str(errors), *base])
    runs["again"] = {**job_figures(job, code, seconds), "after": state(), "errors": error_summary(errors),
                     "verify": verify(purchases)}
    second_job = job.pk
    print(f"again: {runs['again']}", flush=True)

    started = time.perf_counter()
    code_2 = cli(["import", "--revert", str(second_job), *base])[0]
    after_2 = state()
    code_1 = cli(["import", "--revert", str(first_job), *base])[0]
    runs["revert"] = {"exit": [code_2, code_1], "seconds": round(time.perf_counter() - started, 2),
                      "after_reverting_the_second": after_2, "after": state()}
    print(f"revert: {runs['revert']}", flush=True)
    figures["csv"]["runs"] = runs

    # --- the workbooks --------------------------------------------------------------------------------
    head = purchases[: args.xlsx_rows]
    figures["xlsx_expected"] = {**expected(head), "paid_total": str(sum((Decimal(p.dollars) for p in head if Decimal(p.dollars) > 0),
                                                                        Decimal("0.00")))}
    for variant, numeric in (("ids_as_text", False), ("ids_as_numbers", True)):
        path = folder / f"cdnow-orders-{variant}.xlsx"
        write_xlsx(path, head, numeric_ids=numeric)
        errors = folder / f"xlsx-{variant}-errors.csv"
        code, seconds, job = cli(["import", str(path), "--kind", "orders", "--errors", str(errors), *base])
        result = {**job_figures(job, code, seconds), "after": state(), "errors": error_summary(errors),
                  "verify": verify(head)}
        result["revert_exit"] = cli(["import", "--revert", str(job.pk), *base])[0]
        result["after_revert"] = state()
        figures[f"xlsx_{variant}"] = result
        print(f"xlsx {variant}: {result}", flush=True)

    imported = runs["import"]["after"]
    figures["summary"] = {
        "orders_expected": want["orders"], "orders_imported": imported["orders"],
        "total_expected": want["total"], "total_expected_without_zero_rows": paid_total, "total_imported": imported["total"],
        "totals_match_to_the_cent": Decimal(imported["total"]) == Decimal(want["total"]),
        "orders_matching_their_purchase": not runs["import"]["verify"]["mismatches"],
        "zero_amount_purchases_imported_as_zero_orders": runs["import"]["verify"]["zero_total_orders"],
        "reimport_doubles_nothing": runs["again"]["after"] == imported,
        "reimport_rows_per_s": runs["again"]["rows_per_s"], "revert_seconds": runs["revert"]["seconds"],
        "revert_leaves_no_orders": runs["revert"]["after"]["orders"] == 0,
        "import_rows_per_s": runs["import"]["rows_per_s"],
    }
    out = common.write_results("orders-real-cdnow", parameters=vars(args), figures=figures)
    print(f"summary: {figures['summary']}")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
