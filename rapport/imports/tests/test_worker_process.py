"""A large import reads its file in a worker process: the result is the in-line import's, exactly,
and a worker that dies or a file that breaks halfway fails the job cleanly, without hanging."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rapport.cards.models import Card, Fact
from rapport.imports import pipeline, services
from rapport.imports.models import ImportedRow, ImportJob, RowError, Status
from rapport.search.models import Term

pytestmark = pytest.mark.django_db(transaction=True)  # the worker is only forked outside a transaction

LONG = "x" * 210
# Every path of a batch: cards created, updated and merged, duplicates inside the file and against
# the database, employers found or kept as facts, values left out, rows refused, formulas.
MESSY = (
    "external_id,First Name,Last Name,Mobile Phone,E-mail Address,Birthday,Company,Job Title\r\n"
    "c-1,Lucía,Martín,612 345 678,lucia@frutas.es,1980-04-12,Frutas Martín,Gerente\r\n"
    "c-2,Andrei,Popescu,+40 721 123 456,andrei@example.ro,12/05/1975,,\r\n"
    "c-3,Ioana,Stan,+40 721 000 111,not-an-address,1990-01-01,Nueva S.L.,Compras\r\n"
    "c-4,Wei,=SUM(A1),+86 138 0013 8000,wei@example.cn,--04-12,,\r\n"
    ",,,,,,,\r\n"
    "c-5,,,,solo@example.es,,,\r\n"
    "c-6,,,,,,Frutas Martín,\r\n"
    "c-7,Ana,López,+34 699 000 001,ana@x.es,1985-02-30,Frutas Martín," + LONG + "\r\n"
    "c-1,Lucía,Martín Ruiz,612 345 679,LUCIA@frutas.es,,,\r\n"
    "c-8,María,García,+34 600 000 000,maria.existing@example.es,,,\r\n"
    "old-1,Pedro,Sánchez,+34 611 111 111,pedro@x.es,1970-07-07,Nueva S.L.,Jefe\r\n"
    "c-9,Elena,Dumitru,12,elena@x.ro,,Otra,\r\n"
    "c-10,Carmen,Zhang,+34 622 222 222,carmen@x.es,1999-09-09,,Directora,extra\r\n"
    "c-11," + "N" * 160 + ",Largo,+34 633 333 333,largo@x.es,,,\r\n"
    "c-12,Mihai,Ionescu,+34 644 444 444,ana@x.es,,,\r\n"
    "c-13,Chen,Wang,+34 612 345 678,chen@x.cn,,Frutas Martín,Socio\r\n"
)


@pytest.fixture
def world(users: Any, make_org: Any, make_person: Any) -> Any:
    def build() -> None:
        make_org(name="Frutas Martín")
        make_person(given_name="María", family_name="Vieja", phones=["+34 600 000 000"], emails=["maria@example.es"])
        make_person(given_name="Pedro", family_name="Antes", external_id="old-1")

    return build


def _import(users: Any, tmp_path: Path, content: str | bytes, *, worker: bool, name: str = "messy.csv", **options: Any) -> ImportJob:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    job = services.create_job(user=users["rep_ana"], path=path, file_name=name, region="ES", **options)
    with _WorkerUsed() as used:
        try:
            services.run_import(job=job)
        finally:
            job.refresh_from_db()
    assert used == ([True] if worker else [])
    return job


class _WorkerUsed:
    """Records whether the run went through the worker process."""

    def __enter__(self) -> list[bool]:
        self.used: list[bool] = []
        self.original = pipeline.run_in_worker

        def spy(items: Iterator[Any]) -> Any:
            self.used.append(True)
            return self.original(items)

        pipeline.run_in_worker = spy
        return self.used

    def __exit__(self, *_exc: Any) -> None:
        pipeline.run_in_worker = self.original


def _snapshot(job: ImportJob) -> dict[str, Any]:
    """Everything the import stored, with ids, times and the job's number taken out."""

    def note(text: str) -> str:
        return re.sub(r"import #\d+", "import #N", text)

    def card_key(card_id: int | None) -> Any:
        card = Card.objects.filter(pk=card_id).first() if card_id is not None else None
        return (card.display_name, card.external_id) if card else None

    cards = []
    for card in Card.objects.order_by("display_name", "external_id", "given_name"):
        profile = {k: {f: v for f, v in entry.items() if f not in ("f", "at")} for k, entry in card.profile.items()}
        cards.append((
            card.kind, card.display_name, card.sort_name, card.given_name, card.family_name, card.external_id,
            card.lifecycle_stage, card.completeness, card.version, profile,
            [(p.e164, p.raw, p.region, p.kind, p.position) for p in card.phones.order_by("position")],
            [(e.address, e.kind, e.position) for e in card.emails.order_by("position")],
            sorted((e.organization.display_name, e.title) for e in card.employments.all()),
            sorted((f.item.key, f.value_text, f.source.key, f.confidence, note(f.note)) for f in Fact.objects.filter(card=card)),
            sorted((t.term, t.weight) for t in Term.objects.filter(card=card)),
        ))
    return {
        "job": (job.status, job.message, job.rows_read, job.rows_total, job.created_count, job.updated_count,
                job.skipped_count, job.error_count),
        "errors": [(e.row, e.column, e.reason, e.value, e.row_imported) for e in RowError.objects.filter(job=job).order_by("row", "id")],
        "rows": [(r.row, r.action, card_key(r.card_id), r.version_after, r.before is not None)
                 for r in ImportedRow.objects.filter(job=job).order_by("row", "id")],
        "cards": cards,
    }


def _both_ways(users: Any, world: Any, tmp_path: Path, monkeypatch: Any, content: str | bytes, *,
               file_name: str = "messy.csv", **options: Any) -> tuple[Any, Any]:
    monkeypatch.setattr(services, "BATCH_ROWS", 4)  # several batches through the pipe
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    world()
    with _Setting(worker=False):
        inline = _snapshot(_import(users, tmp_path, content, worker=False, name=file_name, **options))
    Card.objects.all().delete()
    ImportJob.objects.all().delete()
    world()
    forked = _snapshot(_import(users, tmp_path, content, worker=True, name=file_name, **options))
    return inline, forked


class _Setting:
    def __init__(self, *, worker: bool) -> None:
        self.worker = worker

    def __enter__(self) -> None:
        from django.conf import settings

        self.before = getattr(settings, "RAPPORT_IMPORT_WORKER", True)
        settings.RAPPORT_IMPORT_WORKER = self.worker

    def __exit__(self, *_exc: Any) -> None:
        from django.conf import settings

        settings.RAPPORT_IMPORT_WORKER = self.before


@pytest.mark.parametrize("options", [{"on_duplicate": "skip"}, {"on_duplicate": "merge"}, {"on_duplicate": "create"}, {"strict": True}])
def test_a_messy_file_imports_the_same_through_the_worker_as_in_line(
    users: Any, world: Any, tmp_path: Path, monkeypatch: Any, options: dict[str, Any]
) -> None:
    inline, forked = _both_ways(users, world, tmp_path, monkeypatch, MESSY * 3, **options)
    assert inline["job"][0] == Status.DONE
    assert inline["errors"] and inline["rows"] and len(inline["cards"]) > 5
    assert forked == inline


def test_workbooks_and_vcards_import_the_same_through_the_worker(
    users: Any, world: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in csv.reader(io.StringIO(MESSY * 2)):
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    inline, forked = _both_ways(users, world, tmp_path, monkeypatch, buffer.getvalue(), file_name="book.xlsx")
    assert inline["errors"] and len(inline["cards"]) > 5
    assert forked == inline
    Card.objects.all().delete()
    ImportJob.objects.all().delete()
    cards = "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Ruiz {i}\r\nN:Ruiz {i};Ana;;;\r\nTEL;TYPE=CELL:+34 699 {i:06d}\r\n"
        f"EMAIL:{'ana' if i % 3 else 'not-an-address'}{i}@example.es\r\nBDAY:{'--04-12' if i % 5 == 0 else '1980-04-12'}\r\n"
        f"ORG:{'Frutas Martín' if i % 2 else 'Nueva S.L.'}\r\nTITLE:Gerente\r\nEND:VCARD\r\n"
        for i in range(1, 30)
    )
    inline, forked = _both_ways(users, world, tmp_path, monkeypatch, cards * 2, file_name="cards.vcf")
    assert inline["errors"] and len(inline["cards"]) > 20
    assert forked == inline


def test_a_worker_import_is_reverted_like_an_in_line_one(users: Any, world: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "BATCH_ROWS", 4)
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    outcomes = []
    for worker in (False, True):
        Card.objects.all().delete()
        ImportJob.objects.all().delete()
        world()
        with _Setting(worker=worker):
            job = _import(users, tmp_path, MESSY, worker=worker, on_duplicate="merge")
        report = services.revert_import(user=users["rep_ana"], job=job)
        outcomes.append((report, _snapshot(job)["cards"]))
    assert outcomes[0][0].deleted and outcomes[0][0].restored
    assert outcomes[1] == outcomes[0]


def test_a_worker_that_dies_mid_file_fails_the_job_with_a_clear_message(
    users: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(services, "BATCH_ROWS", 5)
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    stage = services._Stager.__call__

    def dies_at_row_12(self: Any, batch: list[Any]) -> Any:
        if any(row.number >= 12 for row in batch):
            os.kill(os.getpid(), signal.SIGKILL)  # only ever runs in the worker here
        return stage(self, batch)

    monkeypatch.setattr(services._Stager, "__call__", dies_at_row_12)
    lines = "".join(f"p-{i},Persona,{i},persona{i}@example.es\r\n" for i in range(1, 31))
    signal.alarm(60)  # a hang fails the test instead of the suite
    try:
        with pytest.raises(pipeline.WorkerFailed):
            _import(users, tmp_path, "external_id,First Name,Last Name,E-mail Address\r\n" + lines, worker=True)
    finally:
        signal.alarm(0)
    job = ImportJob.objects.get()
    assert job.status == Status.FAILED
    assert job.message == (
        "The process reading the file stopped unexpectedly (killed by signal 9). The rows before it were imported."
    )
    # The batches before the death are committed, with their records; nothing after them.
    assert (job.rows_read, job.created_count) == (10, 10)
    assert sorted(Card.objects.values_list("external_id", flat=True)) == sorted(f"p-{i}" for i in range(1, 11))
    assert ImportedRow.objects.filter(job=job).count() == 10


def test_a_worker_that_raises_fails_the_job_and_the_error_is_logged(
    users: Any, tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    monkeypatch.setattr(services, "BATCH_ROWS", 5)
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    stage = services._Stager.__call__

    def breaks_at_row_7(self: Any, batch: list[Any]) -> Any:
        if any(row.number >= 7 for row in batch):
            raise RuntimeError("mapping bug")
        return stage(self, batch)

    monkeypatch.setattr(services._Stager, "__call__", breaks_at_row_7)
    lines = "".join(f"p-{i},Persona,{i}\r\n" for i in range(1, 21))
    with pytest.raises(pipeline.WorkerFailed):
        _import(users, tmp_path, "external_id,First Name,Last Name\r\n" + lines, worker=True)
    job = ImportJob.objects.get()
    assert (job.status, job.rows_read, job.created_count) == (Status.FAILED, 5, 5)
    assert job.message == "The process reading the file failed. The rows before it were imported."
    assert "mapping bug" in caplog.text


def test_a_worker_may_not_query_the_database(users: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    stage = services._Stager.__call__

    def queries(self: Any, batch: list[Any]) -> Any:
        Card.objects.count()
        return stage(self, batch)

    monkeypatch.setattr(services._Stager, "__call__", queries)
    with pytest.raises(pipeline.WorkerFailed) as failed:
        _import(users, tmp_path, "First Name\r\nAna\r\n", worker=True)
    assert "must not query the database" in failed.value.detail


def test_a_file_that_breaks_halfway_fails_the_same_way_through_the_worker(
    users: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    # Valid UTF-8 well past what the encoding is detected from, then a byte that is not.
    good = "".join(f"p-{i},Lucía,Martín {i}\r\n" for i in range(12_000)).encode()
    content = b"external_id,First Name,Last Name\r\n" + good + b"p-x,\xff\xfe,bad\r\n"
    outcomes = []
    for worker in (False, True):
        Card.objects.all().delete()
        path = tmp_path / "broken.csv"
        path.write_bytes(content)
        job = services.create_job(user=users["rep_ana"], path=path, file_name="broken.csv")
        with _Setting(worker=worker), _WorkerUsed() as used:
            services.run_import(job=job)
        job.refresh_from_db()
        assert used == ([True] if worker else [])
        outcomes.append((job.status, job.message, job.rows_read, job.created_count, Card.objects.count()))
    assert outcomes[0][0] == Status.FAILED and "not valid utf-8" in outcomes[0][1]
    assert outcomes[1] == outcomes[0]


def test_a_small_file_a_dry_run_and_a_transaction_stay_in_one_process(users: Any, tmp_path: Path) -> None:
    from django.db import transaction

    _import(users, tmp_path, "First Name\r\nAna\r\n", worker=False)  # below the size threshold
    path = tmp_path / "big.csv"
    path.write_text("First Name\r\n" + "Ana\r\n" * 60_000, encoding="utf-8")
    job = services.create_job(user=users["rep_ana"], path=path, file_name="big.csv", on_duplicate="create")
    with _WorkerUsed() as used:
        services.run_import(job=job, dry_run=True, limit=10)
    assert used == []
    job = services.create_job(user=users["rep_ana"], path=path, file_name="big.csv", on_duplicate="create")
    with _WorkerUsed() as used, transaction.atomic():
        services.run_import(job=job, limit=10)
    assert used == []


def test_an_import_started_from_another_thread_stays_in_one_process(users: Any, tmp_path: Path, monkeypatch: Any) -> None:
    import threading

    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    path = tmp_path / "web.csv"
    path.write_text("First Name\r\nAna\r\n", encoding="utf-8")
    job = services.create_job(user=users["rep_ana"], path=path, file_name="web.csv")
    assert services._in_worker(job)  # from the main thread, as the command line runs it
    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(services._in_worker(job)))  # as the web app launches it
    thread.start()
    thread.join()
    assert seen == [False]


def test_an_import_that_stops_early_stops_its_worker(users: Any, tmp_path: Path, monkeypatch: Any) -> None:
    import multiprocessing

    monkeypatch.setattr(services, "BATCH_ROWS", 5)
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    process = services._Runner.process
    seen: list[int] = []

    def fails_on_the_second_batch(self: Any, staged: Any) -> None:
        seen.append(staged.rows)
        if len(seen) == 2:
            raise RuntimeError("disk full")
        process(self, staged)

    monkeypatch.setattr(services._Runner, "process", fails_on_the_second_batch)
    lines = "".join(f"p-{i},Persona,{i}\r\n" for i in range(1, 200))
    with pytest.raises(RuntimeError):
        _import(users, tmp_path, "external_id,First Name,Last Name\r\n" + lines, worker=True)
    job = ImportJob.objects.get()
    assert (job.status, job.rows_read, job.created_count) == (Status.FAILED, 5, 5)
    assert job.message == "An unexpected error stopped the import; the rows before it were imported."
    assert multiprocessing.active_children() == []


def test_sqlite_copies_its_write_ahead_log_less_often_only_during_an_import(
    users: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a setting of SQLite")
    monkeypatch.setattr(services, "BATCH_ROWS", 5)
    monkeypatch.setattr(services, "PIPELINE_MIN_BYTES", 0)
    seen: list[int] = []
    process = services._Runner.process

    def records_the_setting(self: Any, staged: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            seen.append(cursor.fetchone()[0])
        process(self, staged)

    monkeypatch.setattr(services._Runner, "process", records_the_setting)
    lines = "".join(f"p-{i},Persona,{i}\r\n" for i in range(1, 12))
    _import(users, tmp_path, "external_id,First Name,Last Name\r\n" + lines, worker=True)
    assert seen == [services.IMPORT_CHECKPOINT_PAGES] * 3
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1000
