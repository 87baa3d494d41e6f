"""A dry run writes nothing, holds no transaction (so no write lock) while it reads, and keeps
nothing per row in memory."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path
from typing import Any

from django.db import connection

from rapport.cards.models import Card
from rapport.imports import readers, services
from rapport.imports.models import ImportedRow, ImportJob, RowError, Status


def _file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / f"orgs-{rows}.csv"
    # Every other row has a phone that is not one: a value left out, listed in the error file.
    body = "".join(f"Empresa {i},{'bad' if i % 2 else ''},retail\r\n" for i in range(rows))
    path.write_text("Company,Phone,Industry\r\n" + body, encoding="utf-8")
    return path


def test_a_dry_run_reads_the_file_outside_any_transaction_and_commits_nothing(users: Any, tmp_path: Path, monkeypatch: Any) -> None:
    opened_for_real = readers.open_file
    in_transaction: list[bool] = []

    def watched(path: Path, **options: Any) -> readers.OpenedFile:
        opened = opened_for_real(path, **options)
        inner = opened.rows

        def rows() -> Any:
            for row in inner:
                # Deeper than the test's own transaction: a transaction of the import is open.
                in_transaction.append(len(connection.atomic_blocks) > outside)
                yield row

        opened.rows = rows()
        return opened

    outside = len(connection.atomic_blocks)
    job = services.create_job(user=users["rep_ana"], path=_file(tmp_path, 2_500), file_name="orgs.csv", kind="organizations")
    monkeypatch.setattr(readers, "open_file", watched)
    errors = tmp_path / "errors.csv"
    report = services.run_import(job=job, dry_run=True, error_file=errors)
    assert len(in_transaction) == 2_500 and not any(in_transaction)
    # Exact counts on the report, nothing in the database, the job still waiting for its run.
    assert (report.job.rows_read, report.job.created_count, report.job.left_out_count) == (2_500, 2_500, 1_250)
    assert report.job.status == Status.DONE
    assert Card.objects.count() == 0 and RowError.objects.count() == 0 and ImportedRow.objects.count() == 0
    stored = ImportJob.objects.get(pk=job.pk)
    assert (stored.status, stored.rows_read, stored.created_count) == (Status.UPLOADED, 0, 0)
    assert job.status == Status.UPLOADED
    with errors.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert len(lines) == 1 + 1_250 and lines[1][0] == "2" and lines[1][4] == "value left out"
    # The real run after it still works.
    assert services.run_import(job=job).job.created_count == 2_500


def test_a_dry_run_keeps_no_memory_per_row(users: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "BATCH_ROWS", 150)

    def measure(rows: int) -> tuple[int, int]:
        job = services.create_job(user=users["rep_ana"], path=_file(tmp_path, rows), file_name="o.csv", kind="organizations")
        tracemalloc.start()
        services.run_import(job=job, dry_run=True, error_file=tmp_path / "errors.csv")
        kept, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return kept, top

    measure(150)  # imports and caches filled once
    (_, small), (kept, large) = measure(300), measure(1_200)
    # Four times the rows (and the errors): the peak is that of a batch, not of the file, and
    # nothing is kept once the run is over.
    assert large < small * 2, (small, large)
    assert kept < 500_000, kept


def test_the_command_line_dry_run_commits_no_job_and_no_card(users: Any, tmp_path: Path, capsys: Any) -> None:
    from rapport.cli import main

    errors = tmp_path / "errors.csv"
    code = main(["import", str(_file(tmp_path, 3_000)), "--kind", "organizations", "--user", "rep_ana", "--dry-run",
                 "--errors", str(errors)])
    out = capsys.readouterr().out
    assert code == 0 and "Would import 3000 rows" in out and "1500 rows imported without some of their values" in out
    assert ImportJob.objects.count() == 0 and Card.objects.count() == 0
    assert len(errors.read_text(encoding="utf-8-sig").splitlines()) == 1 + 1_500
