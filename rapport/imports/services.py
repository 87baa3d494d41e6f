"""Write use-cases of imports and exports. The CLI, the API and the web wizard all call these.

An import reads a file as a stream, in batches. Each batch is checked for duplicates (external
id, E.164 phone, e-mail) against the cards the user can see and against itself, new cards go
through ``cards.bulk.bulk_create_cards`` and existing ones through ``cards.services``, so
provenance, current values and the search index stay right. Every imported value of a catalog
item is a fact whose source is ``import`` and whose note names the job, the file and the row.

Kinds other apps register (``extensions``: products, orders, invoices, payments) run through the
same jobs, batches, transactions, worker process, error file, dry runs and reverts; their runner
turns the rows into records (``_execute_kind``).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
import gc
import io
import json
import logging
import re
import secrets
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import phonenumbers
from django.conf import settings
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapport.accounts.models import Role, User
from rapport.cards import services as cards
from rapport.cards.bulk import Loader, bulk_create_cards, insert_rows
from rapport.cards.models import Card, Email, Fact, Kind, Phone
from rapport.cards.values import parse_phone
from rapport.catalog import selectors as catalog
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.core.text import fold
from rapport.core.visibility import scope_for, visible_to
from rapport.imports import extensions, pipeline, problems, readers
from rapport.imports import mapping as mapping_module
from rapport.imports.mapping import BuiltRow, RowBuilder
from rapport.imports.models import Action, Format, ImportedRow, ImportJob, OnDuplicate, RowError, Status
from rapport.imports.problems import Problem, RowProblem
from rapport.imports.readers import FileRejected, SourceRow
from rapport.privacy import crypto
from rapport.search import services as search

log = logging.getLogger(__name__)

BATCH_ROWS = 2000
_INTERNATIONAL = re.compile(r"[\s().\-/]")
_PLAUSIBLE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
IMPORT_SOURCE = "import"
KINDS = {"organizations": Kind.ORGANIZATION, "organization": Kind.ORGANIZATION, "people": Kind.PERSON, "person": Kind.PERSON}
Progress = Callable[[ImportJob], None]


def _kind(value: Any) -> str:
    kind = KINDS.get(str(value or "").lower())
    if kind is None:
        raise ValidationError.single("kind", "Expected organizations or people.")
    return kind


def _may_import(user: User) -> None:
    if not scope_for(user).may_write_card(Card(owner=user)):
        raise PermissionDenied("Your role may not create cards.")


def _kind_names() -> str:
    return ", ".join(["organizations", "people", *(k.key for k in extensions.import_kinds())])


def _check_kind(value: Any) -> str:
    """A card kind, or the key of a kind another app registered (``extensions``)."""
    registered = extensions.import_kind(value)
    if registered is not None:
        return registered.key
    kind = KINDS.get(str(value or "").lower())
    if kind is None:
        raise ValidationError.single("kind", f"Expected one of: {_kind_names()}.")
    return kind


def _kind_mapping(kind: extensions.ImportKind, mapping: Any, headers: list[str]) -> dict[str, str]:
    """A registered kind's mapping: every column named is in the file and every target is one of
    the kind's, and the targets the kind cannot do without are there."""
    if mapping is None:
        final = kind.suggest(headers)
    else:
        if not isinstance(mapping, dict):
            raise ValidationError.single("mapping", "Expected an object of column name to target field.")
        valid = {value for value, _label in kind.targets()}
        errors: dict[str, list[str]] = {}
        final = {}
        for column, target in mapping.items():
            if not isinstance(column, str) or column not in headers:
                errors.setdefault(f"mapping.{column}", []).append("No such column in the file.")
            elif target not in (None, "") and (not isinstance(target, str) or target not in valid):
                errors.setdefault(f"mapping.{column}", []).append(f"Unknown target {str(target)[:60]!r}.")
            else:
                final[column] = target or ""
        if errors:
            raise ValidationError(errors)
    labels = dict(kind.targets())
    mapped = set(final.values())
    missing = [" or ".join(str(labels.get(t, t)) for t in options) for options in kind.required if not mapped & set(options)]
    if missing:
        raise ValidationError.single("mapping", "The file needs a column for: " + "; ".join(missing) + ".")
    return final


# --- jobs ---------------------------------------------------------------------------------------


@dataclass
class FilePreview:
    format: str
    headers: list[str]
    encoding: str
    delimiter: str
    samples: list[SourceRow]


def inspect(path: Path, *, sample_rows: int = 5) -> FilePreview:
    """Format, columns and first rows of a file, without importing anything. A CSV line that
    breaks the layout does not stop a look at the file (the run stops there unless told to
    keep going, a choice made on the mapping page that this preview feeds)."""
    opened = readers.open_file(path, keep_going=True)
    try:
        samples = []
        for row in opened.rows:
            samples.append(row)
            if len(samples) >= sample_rows:
                break
        headers = opened.headers
        if opened.format == Format.VCARD:
            headers = _vcard_columns()
        return FilePreview(opened.format, headers, opened.encoding, opened.delimiter, samples)
    finally:
        opened.close()


def _vcard_columns() -> list[str]:
    columns = list(readers.VCARD_FIELDS)
    for i in range(1, 21):
        columns += [f"phone.{i}", f"phone.{i}.type", f"email.{i}", f"email.{i}.type"]
    for i in range(1, 6):
        columns += [f"address.{i}.{part}" for part in (*mapping_module.ADDRESS_PARTS, "type")]
    return columns


def _guess_kind(fmt: str, suggestions: dict[str, str]) -> str:
    if fmt == Format.VCARD:
        return Kind.PERSON
    targets = set(suggestions.values())
    if targets & {"given_name", "family_name", "full_name", "item:birth_date"}:
        return Kind.PERSON
    return Kind.ORGANIZATION if "name" in targets else Kind.PERSON


def create_job(
    *,
    user: User,
    path: Path,
    file_name: str,
    kind: Any = None,
    mapping: Any = None,
    on_duplicate: Any = OnDuplicate.SKIP,
    region: Any = "",
    strict: bool = False,
    keep_file: bool = False,
    keep_going: bool = False,
) -> ImportJob:
    """Checks a file and the import settings and records the job (not yet run).

    Without ``mapping`` the columns are mapped by the suggestions; with ``keep_file`` the file
    is moved into the import folder (the web wizard runs it later, from another request).
    """
    _may_import(user)
    fail_stalled_jobs()
    errors = cards.Errors()
    if on_duplicate not in OnDuplicate.values:
        errors.add("on_duplicate", f"Expected one of: {', '.join(OnDuplicate.values)}.")
    region_code = str(region or "").strip().upper()
    if region_code and not (len(region_code) == 2 and region_code.isalpha()):
        errors.add("region", "Expected a two-letter country code.")
    chosen_kind = errors.run(_check_kind, kind) if kind not in (None, "") else None
    errors.raise_if_any()
    try:
        preview = inspect(path, sample_rows=0)
    except FileRejected as exc:
        raise ValidationError.single("file", str(exc)) from None
    registered = extensions.import_kind(chosen_kind)
    if chosen_kind is None and preview.format != Format.VCARD:
        registered = extensions.guess(lambda k: k.suggest(preview.headers))
    if registered is not None:
        registered.may_import(user)
        if preview.format == Format.VCARD:
            raise ValidationError.single("kind", "A vCard file holds people.")
        kind_value = registered.key
        final = _kind_mapping(registered, mapping, preview.headers)
        region_code, on_duplicate = "", OnDuplicate.SKIP
    else:
        kind_value = chosen_kind or _guess_kind(preview.format, mapping_module.suggest(preview.headers, Kind.PERSON))
        final = _card_mapping(preview, kind_value, mapping)
    job = ImportJob.objects.create(
        user=user, file_name=Path(file_name).name[:255] or "import", size_bytes=path.stat().st_size, format=preview.format,
        kind=kind_value, mapping=final, on_duplicate=on_duplicate, region=region_code, strict=bool(strict),
        keep_going=bool(keep_going),
    )
    if keep_file:
        folder = import_folder()
        target = folder / f"{job.pk}{Path(file_name).suffix.lower()[:10]}"
        shutil.move(str(path), target)
        job.stored_path = str(target)
    else:
        job.stored_path = str(path)
    job.save(update_fields=["stored_path"])
    return job


def _card_mapping(preview: FilePreview, kind_value: str, mapping: Any) -> dict[str, str]:
    if preview.format == Format.VCARD:
        if kind_value != Kind.PERSON:
            raise ValidationError.single("kind", "A vCard file holds people.")
        final = mapping_module.vcard_mapping(preview.headers)
    elif mapping is None:
        final = mapping_module.suggest(preview.headers, kind_value)
    else:
        final = mapping_module.validate_mapping(mapping, preview.headers, kind_value)
    return final


MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def receive_upload(*, user: User, name: str, chunks: Iterator[bytes], kind: Any = None, mapping: Any = None,
                   on_duplicate: Any = OnDuplicate.SKIP, region: Any = "", strict: bool = False,
                   keep_going: bool = False) -> ImportJob:
    """Stores an uploaded file (refusing it past the size limit, with nothing kept) and
    records its job, ready for the mapping step."""
    _may_import(user)
    limit = int(getattr(settings, "RAPPORT_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES))
    folder = import_folder()
    import tempfile

    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", suffix=Path(name).suffix.lower()[:10], delete=False)
    path = Path(handle.name)
    size = 0
    try:
        with handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError.single("file", f"The file is larger than {limit // (1024 * 1024)} MB; split it or use `rapport import`.")
                handle.write(chunk)
        return create_job(user=user, path=path, file_name=name, kind=kind, mapping=mapping, on_duplicate=on_duplicate,
                          region=region, strict=strict, keep_file=True, keep_going=keep_going)
    finally:
        path.unlink(missing_ok=True)  # moved into place when the job was created


def import_folder() -> Path:
    folder = Path(getattr(settings, "RAPPORT_IMPORT_DIR", "") or settings.HOME / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def get_job(user: User, job_id: Any) -> ImportJob:
    """A job of this user (admins see every job); any other answers NotFound."""
    if isinstance(job_id, bool) or not str(job_id).isdigit() or int(job_id) > 2**62:
        raise NotFound("import")
    qs = ImportJob.objects.filter(pk=int(job_id))
    if scope_for(user).role != Role.ADMIN:
        qs = qs.filter(user=user)
    job = qs.first()
    if job is None:
        raise NotFound("import")
    if job.is_stalled:
        fail_stalled_jobs()
        job.refresh_from_db()
    return job


STALLED_MESSAGE = (
    "The import stopped before the end (its process ended). Import the same file again to resume it: "
    "rows with an external id update the cards already imported. Or revert what it did."
)


def fail_stalled_jobs() -> int:
    """Marks failed the jobs still "running" with no batch written for longer than any batch
    takes (``STALLED_AFTER``): their process was killed, and nothing else would ever end them.
    Called when a job is looked at and when a new one is created; returns how many."""
    from rapport.imports.models import STALLED_AFTER

    from rapport.jobs.models import Job
    from rapport.jobs.models import Status as JobStatus

    cutoff = timezone.now() - STALLED_AFTER
    # One still on the queue has not started: no process of its own has ended. One whose worker
    # still beats its heartbeat is alive, however long its current batch takes.
    alive = timezone.now() - dt.timedelta(seconds=settings.RAPPORT_JOB_DEAD_AFTER_SECONDS)
    waiting_or_alive = Job.objects.filter(kind="import", ref__isnull=False).filter(
        models.Q(status=JobStatus.QUEUED) | models.Q(status=JobStatus.RUNNING, heartbeat_at__gte=alive)
    ).values("ref")
    stalled = ImportJob.objects.filter(status=Status.RUNNING).exclude(pk__in=waiting_or_alive).filter(
        models.Q(progress_at__lt=cutoff)
        | models.Q(progress_at__isnull=True, started_at__lt=cutoff)
        | models.Q(progress_at__isnull=True, started_at__isnull=True, created_at__lt=cutoff)
    )
    return stalled.update(status=Status.FAILED, message=STALLED_MESSAGE[:500], message_code="job.stalled", message_params={},
                          finished_at=timezone.now())


def set_mapping(*, user: User, job: ImportJob, mapping: Any, kind: Any = None, on_duplicate: Any = None, region: Any = None,
                keep_going: bool | None = None) -> ImportJob:
    """Changes the mapping (and kind, duplicate rule, region, whether to read on past unreadable
    CSV lines) of a job that has not run yet; ``None`` leaves a setting as it is."""
    if job.status != Status.UPLOADED:
        raise Conflict("This import has already run.")
    if keep_going is not None and bool(keep_going) != job.keep_going:
        ImportJob.objects.filter(pk=job.pk, status=Status.UPLOADED).update(keep_going=bool(keep_going))
        job.keep_going = bool(keep_going)
    new_kind = _check_kind(kind) if kind not in (None, "") else job.kind
    registered = extensions.import_kind(new_kind)
    if registered is not None or extensions.import_kind(job.kind) is not None:
        return _set_kind_mapping(job, registered, new_kind, mapping)
    errors = cards.Errors()
    if on_duplicate not in (None, "") and on_duplicate not in OnDuplicate.values:
        errors.add("on_duplicate", f"Expected one of: {', '.join(OnDuplicate.values)}.")
    region_code = job.region if region is None else str(region).strip().upper()
    if region_code and not (len(region_code) == 2 and region_code.isalpha()):
        errors.add("region", "Expected a two-letter country code.")
    errors.raise_if_any()
    headers = inspect(Path(job.stored_path), sample_rows=0).headers
    if job.format == Format.VCARD:
        final = mapping_module.vcard_mapping(headers)
    else:
        final = mapping_module.validate_mapping(mapping, headers, new_kind or job.kind)
    ImportJob.objects.filter(pk=job.pk, status=Status.UPLOADED).update(
        mapping=final, kind=new_kind, on_duplicate=on_duplicate or job.on_duplicate, region=region_code
    )
    job.refresh_from_db()
    return job


def _set_kind_mapping(job: ImportJob, registered: extensions.ImportKind | None, new_kind: str, mapping: Any) -> ImportJob:
    """The mapping of a job of a registered kind, or of a job moving between such a kind and a
    card kind: a mapping made for other targets is replaced by the suggestions for the new kind."""
    headers = inspect(Path(job.stored_path), sample_rows=0).headers
    if registered is not None:
        registered.may_import(job.user)
        final = _kind_mapping(registered, mapping if new_kind == job.kind else None, headers)
    elif job.format == Format.VCARD:
        final = mapping_module.vcard_mapping(headers)
    else:
        final = mapping_module.suggest(headers, new_kind)
    ImportJob.objects.filter(pk=job.pk, status=Status.UPLOADED).update(
        mapping=final, kind=new_kind, on_duplicate=OnDuplicate.SKIP, region=""
    )
    job.refresh_from_db()
    return job


# --- running ------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One row of a dry run: what it would do, and its problems."""

    number: int
    name: str
    action: str  # created | updated | merged | skipped | error
    problems: list[tuple[str, Problem]] = field(default_factory=list)  # (column, reason)


@dataclass
class RunReport:
    job: ImportJob
    dry_run: bool
    rows: list[PreviewRow] = field(default_factory=list)  # only with ``preview_rows``


def run_import(
    *,
    job: ImportJob,
    dry_run: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
    error_file: Path | None = None,
    preview_rows: int = 0,
    claimed: bool = False,
) -> RunReport:
    """Runs a job to the end. A bad row never stops it; a file that cannot be read fails it.

    With ``dry_run`` each batch is written in its own transaction and rolled back at once:
    nothing is committed, not even the job's counts, and the write lock is held only while a
    batch is written, never while the file is read (one transaction for the whole file kept
    every other writer waiting for minutes). Its errors go straight to ``error_file`` and its
    counts stay on the copy of the job in the report, so memory does not grow with the file.
    A row that repeats a row of an earlier batch counts as new in a dry run (that batch's
    cards were rolled back). ``claimed``: ``start`` already marked the job running.
    """
    _may_import(job.user)
    registered = extensions.import_kind(job.kind)
    if registered is not None:
        registered.may_import(job.user)
    expected = Status.RUNNING if claimed else Status.UPLOADED
    if job.status != expected:
        raise Conflict("This import has already run; import the file again to resume it.")
    if not dry_run:
        report = RunReport(job=job, dry_run=False)
        try:
            # In English whoever runs it: other apps' messages (a card's validation) are then
            # recognised as their message ids and stored as codes (``problems.recognise``).
            with translation.override("en"):
                _execute(job, limit, progress, report, preview_rows)
        finally:
            _discard_upload(job)
        if error_file is not None:
            write_error_file(job, error_file)
        return report
    dry = copy.copy(job)  # the caller's job stays as it is, waiting for its run
    report = RunReport(job=dry, dry_run=True)
    with _ErrorSink(error_file) as sink, translation.override("en"):
        _execute(dry, limit, progress, report, preview_rows, dry_sink=sink)
    return report


class _ErrorSink:
    """Where a dry run's errors go instead of the database: the error file, batch by batch
    (nothing accumulates), or nowhere."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._handle: IO[str] | None = None
        self._writer: Any = None
        self.language = translation.get_language() or settings.LANGUAGE_CODE  # the reader's, not the run's

    def __enter__(self) -> "_ErrorSink":
        if self.path is not None:
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            with translation.override(self.language):
                self._writer.writerow(error_file_header())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._handle is not None:
            self._handle.close()

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows as inserted into RowError: (job_id, row, column, reason, value, row_imported)."""
        if self._writer is None:
            return
        from rapport.imports.writers import safe_cell

        with translation.override(self.language):
            for _job, row, column, _reason, value, imported, code, params in sorted(rows, key=lambda r: r[1]):
                reason = problems.render(code, json.loads(params))
                self._writer.writerow([row, safe_cell(column), safe_cell(reason), safe_cell(value), _outcome(imported)])


def _discard_upload(job: ImportJob) -> None:
    """An uploaded file holds customer data: once its job has run it is deleted (a file given
    on the command line is the user's own and stays)."""
    path = Path(job.stored_path) if job.stored_path else None
    if path is not None and path.parent.resolve() == import_folder().resolve():
        path.unlink(missing_ok=True)


def _execute(job: ImportJob, limit: int | None, progress: Progress | None, report: RunReport, preview_rows: int,
             dry_sink: _ErrorSink | None = None) -> None:
    job._dry_run = dry_sink is not None  # type: ignore[attr-defined]  # read by _finish and _save_counts
    if dry_sink is None:
        ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, started_at=timezone.now())
    job.status = Status.RUNNING
    try:
        opened = readers.open_file(Path(job.stored_path), keep_going=job.keep_going)
    except FileRejected as exc:
        _finish(job, Status.FAILED, exc.problem)
        return
    registered = extensions.import_kind(job.kind)
    if registered is not None:
        _execute_kind(job, registered, opened, limit, progress, report, preview_rows, dry_sink)
        return
    runner = _Runner(job, report, preview_rows, dry_sink)
    headers = _vcard_columns() if opened.format == Format.VCARD else opened.headers
    builder = RowBuilder(
        mapping=job.mapping, headers=headers, kind=job.kind, source=IMPORT_SOURCE, provenance=job.provenance,
    )
    runner.builder = builder
    stage = _Stager(builder, runner.loader, region=job.region, strict=job.strict)
    batches: Generator[Staged, None, None] = (stage(batch) for batch in _source_batches(opened.rows, limit))
    if _in_worker(job):
        # Reading, mapping, the duplicate keys and the database-free checks run in a second
        # process while this one does the duplicate check and the writing (SQLite has one writer).
        batches = pipeline.run_in_worker(batches)
    # An import allocates millions of small, acyclic objects: the cyclic collector would scan
    # the growing heap again and again for nothing (as in bulk_create_cards). Between batches
    # the young generations (what the batch left, little) are collected, so memory stays bounded.
    collecting = gc.isenabled()
    gc.disable()
    checkpoints = _fewer_checkpoints()
    try:
        for staged in batches:
            runner.process(staged)
            del staged
            gc.collect(1)
            if progress:
                progress(job)
        _finish(job, Status.DONE, "")
    except FileRejected as exc:
        _finish(job, Status.FAILED, exc.problem)
    except pipeline.WorkerFailed as exc:
        log.error("import %s failed: %s", job.pk, exc.detail or exc)
        _finish(job, Status.FAILED, exc.problem)
        raise
    except Exception:
        log.exception("import %s failed", job.pk)
        _finish(job, Status.FAILED, problems.problem("job.unexpected"))
        raise
    finally:
        batches.close()  # stops the worker, if any, when the import ends early
        opened.close()
        checkpoints()
        if collecting:
            gc.enable()
        if progress:
            progress(job)


def _execute_kind(job: ImportJob, kind: extensions.ImportKind, opened: readers.OpenedFile, limit: int | None,
                  progress: Progress | None, report: RunReport, preview_rows: int, dry_sink: _ErrorSink | None = None) -> None:
    """A registered kind's run: the same batches, transactions, worker process, counts and
    errors as a card import; the kind's runner turns the rows into its records."""
    if opened.format == Format.VCARD:
        opened.close()
        _finish(job, Status.FAILED, problems.problem("job.vcard_people"))
        return
    runner = kind.runner(job)

    def staged() -> Iterator[tuple[int, Any]]:
        for batch in _source_batches(opened.rows, limit):
            yield len(batch), runner.stage(batch)
        yield 0, runner.end()

    batches: Iterator[tuple[int, Any]] = staged()
    if _in_worker(job):
        batches = pipeline.run_in_worker(batches)
    outcome = _KindOutcome(job, report, preview_rows, dry_sink)
    collecting = gc.isenabled()
    gc.disable()  # as for cards: many small acyclic objects, collected between batches
    checkpoints = _fewer_checkpoints()
    try:
        for rows, payload in batches:
            outcome.process(rows, payload, runner)
            del payload
            gc.collect(1)
            if progress:
                progress(job)
        message = ""
        finish = getattr(runner, "finish", None)
        if finish is not None:
            with transaction.atomic():
                message = finish() or ""
                if dry_sink is not None:
                    transaction.set_rollback(True)
        _finish(job, Status.DONE, message)
    except FileRejected as exc:
        _finish(job, Status.FAILED, exc.problem)
    except pipeline.WorkerFailed as exc:
        log.error("import %s failed: %s", job.pk, exc.detail or exc)
        _finish(job, Status.FAILED, exc.problem)
        raise
    except Exception:
        log.exception("import %s failed", job.pk)
        _finish(job, Status.FAILED, problems.problem("job.unexpected"))
        raise
    finally:
        if isinstance(batches, Generator):
            batches.close()
        opened.close()
        checkpoints()
        if collecting:
            gc.enable()
        if progress:
            progress(job)


class _KindOutcome:
    """Counts, error rows and preview of a registered kind's batches (``extensions.Outcome``)."""

    def __init__(self, job: ImportJob, report: RunReport, preview_rows: int, dry_sink: _ErrorSink | None = None) -> None:
        self.job = job
        self.report = report
        self.preview_rows = preview_rows
        self.dry_sink = dry_sink
        self._pending: list[tuple[Any, ...]] = []
        self._failed_rows: set[int] = set()

    def process(self, rows: int, payload: Any, runner: extensions.KindRunner) -> None:
        job = self.job
        counts = (job.rows_read, job.created_count, job.updated_count, job.skipped_count, job.error_count)
        preview = len(self.report.rows)
        try:
            # One transaction per batch, as for cards: its records, its errors and the job's counts.
            with transaction.atomic():
                job.rows_read += rows
                runner.write(payload, self)
                pending, self._pending = self._pending, []
                if self.dry_sink is not None:
                    self.dry_sink.write(pending)
                    transaction.set_rollback(True)  # a dry run: the batch is undone at once
                else:
                    insert_rows(RowError, ERROR_COLUMNS, pending)
                    _save_counts(job)
        except BaseException:
            job.rows_read, job.created_count, job.updated_count, job.skipped_count, job.error_count = counts
            del self.report.rows[preview:]
            self._pending.clear()
            raise

    def _preview(self, rows: list[int], name: str, action: str, problem: tuple[str, Problem] | None = None) -> None:
        for number in rows:
            if number <= self.preview_rows:
                self.report.rows.append(PreviewRow(number, name, action, [problem] if problem else []))

    def created(self, rows: list[int], name: str) -> None:
        self.job.created_count += 1
        self._preview(rows, name, "created")

    def updated(self, rows: list[int], name: str) -> None:
        self.job.updated_count += 1
        self._preview(rows, name, "updated")

    def unchanged(self, rows: list[int], name: str) -> None:
        self.job.skipped_count += 1
        self._preview(rows, name, "unchanged")

    def error(self, row: int, column: str, reason: str, value: str = "") -> None:
        self._pending.append(_error_row(self.job.pk, row, column, reason, value, False))
        self._failed_rows.add(row)
        self.job.error_count = len(self._failed_rows)
        if row <= self.preview_rows:
            entry = next((r for r in self.report.rows if r.number == row), None)
            text = problems.as_problem(reason)
            if entry is None:
                self.report.rows.append(PreviewRow(row, "", "error", [(column, text)]))
            else:
                entry.action = "error"
                entry.problems.append((column, text))


PIPELINE_MIN_BYTES = 256 * 1024  # below this a second process costs more than it saves
IMPORT_CHECKPOINT_PAGES = 20_000  # SQLite pages (80 MB) the write-ahead log may grow to during an import


def _fewer_checkpoints() -> Callable[[], None]:
    """On SQLite, lets the write-ahead log grow to ``IMPORT_CHECKPOINT_PAGES`` before it is copied
    into the database: by default that happens after every batch's commit, and copies (and
    syncs) again the index pages each batch touches; one copy per several batches saves about
    5 % of an import's time (bench.imports, 100,000 rows). A commit of another connection meanwhile
    may do the copy instead (a fraction of a second). Returns what puts the setting back and
    copies the log, at the end of the import. Not inside a transaction (a dry run), where the
    log cannot be copied."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return lambda: None
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            before = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA wal_autocheckpoint = {max(int(before), IMPORT_CHECKPOINT_PAGES)}")
    except DatabaseError:  # the import then finds the database as broken, and says so
        return lambda: None
    wrapper = connection.connection

    def restore() -> None:
        if connection.connection is not wrapper or connection.in_atomic_block:
            return  # a new connection has the default; a broken run left a transaction to roll back
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except DatabaseError:  # the next commit's own checkpoint copies the log then
            log.warning("could not copy the write-ahead log after an import", exc_info=True)

    return restore


def _in_worker(job: ImportJob) -> bool:
    """Whether this run reads the file in a worker process: a large enough file, fork
    available, and no transaction open here (a dry run, a caller's atomic block), since the
    connection is closed before forking and a transaction cannot outlive it.

    Only from the main thread (the command line): a fork copies the locks that other threads
    hold at that moment, so a worker forked from a thread of a web server could wait forever
    on one. Imports started from the web run in their thread, in one process."""
    if not settings.RAPPORT_IMPORT_WORKER or not pipeline.available():
        return False
    if threading.current_thread() is not threading.main_thread() or getattr(job, "_dry_run", False):
        return False  # a dry run reads in-line: it is a check, and often stops early (a preview)
    return job.size_bytes >= PIPELINE_MIN_BYTES and not any(c.in_atomic_block for c in connections.all())


def _source_batches(rows: Iterator[SourceRow], limit: int | None) -> Iterator[list[SourceRow]]:
    batch: list[SourceRow] = []
    read = 0
    try:
        for source_row in rows:
            if limit is not None and read >= limit:
                break
            batch.append(source_row)
            read += 1
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
    except FileRejected:
        # The reader stopped at a row it cannot trust: the rows before it are imported, as the
        # message says, then the import ends.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


@dataclass
class Staged:
    """One batch after the steps that need no database (``_Stager``)."""

    rows: int  # rows read
    errors: list[RowProblem]  # (row, column, reason, value) of rows that cannot be imported at all
    left_out: dict[int, list[RowProblem]]  # row -> problems of values left out of it
    built: list[BuiltRow]


class _Stager:
    """Mapping, duplicate keys and the database-free checks of a batch. Runs in the import's
    worker process or in-line, with the same result: it reads nothing but the rows."""

    def __init__(self, builder: RowBuilder, loader: Loader, *, region: str, strict: bool) -> None:
        self.builder = builder
        self.loader = loader
        self.region = region
        self.strict = strict
        self._phones: dict[tuple[str, str], str | None] = {}
        self._valid: dict[tuple[str, str], str | None] = {}
        # Countries the file itself shows (its numbers written with +code, its addresses): where
        # a number that is not valid for the import's region may have been typed.
        self._file_countries: Counter[str] = Counter()

    def __call__(self, batch: list[SourceRow]) -> Staged:
        staged = Staged(rows=len(batch), errors=[], left_out={}, built=[])
        for source in batch:
            row = self.builder.build(source.number, source.cells)
            self._phone_regions(row)
            found = [(source.number, p.column, p.reason, p.value) for p in source.problems + row.problems]
            # A problem in one cell (a formula, a date without a year) leaves that value out,
            # unless the job is strict; a row that cannot be read at all is never imported.
            if found and (self.strict or any(not column for _n, column, _r, _v in found)):
                staged.errors.extend(found)
                continue
            if found:
                staged.left_out[source.number] = found
            self._keys(row)
            if self.region and "region" not in row.data:
                row.data["region"] = self.region
            row.checked = self.loader.check(row.data)
            staged.built.append(row)
        return staged

    def _phone_regions(self, row: BuiltRow) -> None:
        """Gives each phone number the country it is valid in: the import's region, else the
        contact's own address country, else a country the file's other numbers and addresses
        show (an iPhone export from Canada imported with region ES). A number valid nowhere is
        left out of the row, with the countries tried, and listed in the error file."""
        phones = row.data.get("phones") or []
        countries = [a["country"] for a in row.data.get("addresses", []) if len(a.get("country") or "") == 2]
        self._file_countries.update(countries)
        if not phones:
            return
        base = (self.region or settings.RAPPORT_DEFAULT_REGION).upper()
        candidates = list(dict.fromkeys([base, *countries, *(c for c, _n in self._file_countries.most_common(3))]))
        kept: list[dict[str, str]] = []
        origins: list[str] = []
        for index, phone in enumerate(phones):
            column = row.origins.pop(f"phones[{index}]", "")
            region = next((c for c in candidates if self._valid_in(phone["number"], c)), None)
            if region is None:
                row.problems.append(readers.CellProblem(
                    column, problems.problem("phone.not_valid", value=repr(phone["number"]), regions=", ".join(candidates)),
                    phone["number"][:200],
                ))
                continue
            if region != base:
                phone["region"] = region
            international = self._valid[(phone["number"], region)]
            if international:
                self._file_countries[international] += 1
            origins.append(column)
            kept.append(phone)
        for index, column in enumerate(origins):
            row.origins[f"phones[{index}]"] = column
        if kept:
            row.data["phones"] = kept
        else:
            row.data.pop("phones", None)

    def _valid_in(self, raw: str, region: str) -> bool:
        """Whether ``raw`` is a valid number typed in ``region`` (as the cards service checks it);
        remembers the country it belongs to when it was written with its +code."""
        key = (raw, region)
        if key not in self._valid:
            if len(self._valid) >= 200_000:
                self._valid.clear()
            country: str | None = None
            try:
                number = phonenumbers.parse(raw, region)
                if phonenumbers.is_valid_number(number):
                    written = _INTERNATIONAL.sub("", raw)
                    country = (phonenumbers.region_code_for_number(number) or region) if written.startswith(("+", "00")) else ""
            except phonenumbers.NumberParseException:
                pass
            self._valid[key] = country
        return self._valid[key] is not None

    def _keys(self, row: BuiltRow) -> None:
        data = row.data
        own_id = data.pop("_rapport_id", None)
        if own_id is not None and own_id < 2**62:
            row.keys.append(f"i:{own_id}")
        external = str(data.get("external_id") or "").strip()
        if external:
            row.keys.append("x:" + external)
        for phone in data.get("phones", []):
            e164 = self._e164(phone["number"], phone.get("region") or self.region or None)
            if e164:
                row.keys.append("p:" + e164)
        for email in data.get("emails", []):
            # Only an address that could be valid identifies anyone ("n/a" in many rows does not).
            if _PLAUSIBLE_EMAIL.match(email.strip()):
                row.keys.append("e:" + email.strip().lower())

    def _e164(self, raw: str, region: str | None) -> str | None:
        """The number in E.164 for the duplicate check. Parsed but not validated: the cards
        service validates it (and names the problem) when the row is written."""
        key = (raw, region or "")
        if key in self._phones:
            return self._phones[key]
        compact = _INTERNATIONAL.sub("", raw)
        if compact.startswith("+") and compact[1:].isdigit() and 8 <= len(compact) <= 16:
            # Written internationally: its E.164 form is its digits (the service validates them).
            return compact
        e164: str | None = None
        try:
            number = phonenumbers.parse(raw, (region or settings.RAPPORT_DEFAULT_REGION).upper())
            # A placeholder ("0", "123") is no one's number: it must not make rows duplicates.
            if phonenumbers.is_possible_number(number):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
        if len(self._phones) >= 200_000:
            self._phones.clear()
        self._phones[key] = e164
        return e164


def _finish(job: ImportJob, status: str, message: problems.Problem | str) -> None:
    text = problems.as_problem(message) if message else None
    job.status, job.finished_at = status, timezone.now()
    job.message = text.english()[:500] if text else ""
    job.message_code, job.message_params = (text.code, text.params) if text else ("", {})
    if status == Status.DONE:
        job.rows_total = job.rows_read
    _save_counts(job, "status", "message", "message_code", "message_params", "finished_at", "rows_total")


def _save_counts(job: ImportJob, *extra: str) -> None:
    job.progress_at = timezone.now()
    if getattr(job, "_dry_run", False):
        return  # a dry run writes nothing: its counts stay on the job in memory
    fields = ["rows_read", "created_count", "updated_count", "skipped_count", "error_count", "left_out_count",
              "phones_left_out", "organizations_created", "progress_at", *extra]
    ImportJob.objects.filter(pk=job.pk).update(**{f: getattr(job, f) for f in fields})


class _Runner:
    """One job's batches: duplicates, organisations, new cards, updates, errors."""

    def __init__(self, job: ImportJob, report: RunReport, preview_rows: int, dry_sink: _ErrorSink | None = None) -> None:
        self.job = job
        self.dry_sink = dry_sink
        self.user = job.user
        self.scope = scope_for(self.user)
        self.report = report
        self.preview_rows = preview_rows
        self.builder: RowBuilder | None = None
        # One loader for the whole job: its caches carry over from batch to batch, and what it
        # needs from the database is read now, before a worker process forks with a copy of it.
        self.loader = Loader(self.user)
        self.loader.warm()
        self._orgs: dict[str, int | None] = {}
        self._new_orgs: list[str] = []  # organisations this batch created (forgotten if it is rolled back)
        self._pending_errors: list[tuple[Any, ...]] = []
        # Rows of the current batch not imported, or imported without some values; the counts
        # of earlier batches are in the job (a row belongs to one batch), so memory stays flat.
        self._failed_rows: set[int] = set()
        self._left_out_rows: set[int] = set()
        self._counted = (job.error_count, job.left_out_count)
        self._combined: dict[int, int] = {}  # row folded into an earlier row of its batch -> that row

    # --- errors ---------------------------------------------------------------------------------

    def _error_rows(self, errors: Sequence[RowProblem], *, imported: bool = False) -> None:
        """Records problems; ``imported`` when the row went in without the values named."""
        if not errors:
            return
        # Written once per batch (``_write_errors``), in the order they were found.
        job_id = self.job.pk
        entries = [_error_row(job_id, row, column, reason, value, imported) for row, column, reason, value in errors]
        self._pending_errors.extend(entries)
        if imported:
            # Phone numbers left out are counted on their own: a contact imported without any
            # of its numbers is the loss a summary must not hide.
            self.job.phones_left_out += sum(1 for entry in entries if _is_phone_problem(entry))
        if imported:
            self._left_out_rows.update(row for row, *_ in errors)
        else:
            self._failed_rows.update(row for row, *_ in errors)
        failed, left_out = self._counted
        self.job.error_count = failed + len(self._failed_rows)
        self.job.left_out_count = left_out + len(self._left_out_rows - self._failed_rows)
        for row, column, reason, _value in errors:
            if row <= self.preview_rows:
                self._preview(row, "", "created" if imported else "error", (column, problems.as_problem(reason)))

    def _preview(self, number: int, name: str, action: str, problem: tuple[str, Problem] | None = None) -> None:
        if number > self.preview_rows:
            return
        for entry in self.report.rows:
            if entry.number == number:
                if problem:
                    entry.problems.append(problem)
                if action == "error":
                    entry.action = "error"
                if name and not entry.name:
                    entry.name = name
                return
        self.report.rows.append(PreviewRow(number, name, action, [problem] if problem else []))

    # --- one batch ------------------------------------------------------------------------------

    def _write_errors(self) -> None:
        pending, self._pending_errors = self._pending_errors, []
        if self.dry_sink is not None:
            self.dry_sink.write(pending)
        else:
            insert_rows(RowError, ERROR_COLUMNS, pending)

    # --- one batch ------------------------------------------------------------------------------

    def process(self, staged: Staged) -> None:
        job = self.job
        counts = (job.rows_read, job.created_count, job.updated_count, job.skipped_count, job.error_count, job.left_out_count,
                  job.phones_left_out, job.organizations_created)
        try:
            self._process(staged)
            if self.dry_sink is not None:
                self._forget_new_orgs()  # rolled back with the batch
        except BaseException:
            self._forget_new_orgs()
            # The batch's transaction was rolled back: the job counts only what was committed.
            (job.rows_read, job.created_count, job.updated_count, job.skipped_count, job.error_count,
             job.left_out_count, job.phones_left_out, job.organizations_created) = counts
            self._pending_errors.clear()
            raise
        finally:
            self._failed_rows.clear()
            self._left_out_rows.clear()
            self._counted = (job.error_count, job.left_out_count)

    def _forget_new_orgs(self) -> None:
        for key in self._new_orgs:
            self._orgs.pop(key, None)
        self._new_orgs.clear()

    def _process(self, staged: Staged) -> None:
        self._new_orgs.clear()
        self.job.rows_read += staged.rows
        built, left_out = staged.built, staged.left_out
        new, existing = self._duplicates(built)
        # One transaction per batch: its cards, their records, its errors and the job's counts
        # commit together, in one commit (each costs a write of every page the batch touched),
        # and a failure leaves none of the batch behind.
        with transaction.atomic():
            if self.job.kind == Kind.PERSON:
                self._employers([*new, *(row for row, _card, _action in existing)])
            self._error_rows(staged.errors)
            done = self._create(new)
            for row, card_id, action in existing:
                if self._update(row, card_id, action):
                    done.add(row.number)
            skipped = {r.number for r in built} - {r.number for r in new} - {r.number for r, _c, _a in existing}
            for number, found in left_out.items():
                if number in self._combined:
                    self._error_rows(found, imported=self._combined[number] in done)
                elif number not in skipped:
                    self._error_rows(found, imported=number in done)
            self._combined.clear()
            self._write_errors()
            _save_counts(self.job)
            if self.dry_sink is not None:
                transaction.set_rollback(True)  # a dry run: the batch is undone at once

    def _duplicates(self, rows: list[BuiltRow]) -> tuple[list[BuiltRow], list[tuple[BuiltRow, int, str]]]:
        """Splits a batch into new rows and rows that update or merge into a card we can see.

        The rule, until the duplicate engine takes over: the same external id updates; the
        same E.164 phone or e-mail (case-insensitive) is a duplicate, handled per
        ``on_duplicate``. Rows of the batch are checked against each other the same way.
        """
        found = find_existing(self.user, self.job.kind, {k for r in rows for k in r.keys})
        new: list[BuiltRow] = []
        existing: list[tuple[BuiltRow, int, str]] = []
        pending: dict[str, BuiltRow] = {}  # key -> a new row of this batch
        for row in rows:
            # The card's own id (a re-imported export) or its external id: this row updates it.
            identity = [k for k in row.keys if k.startswith(("i:", "x:"))]
            card_id = next((found[k] for k in identity if k in found), None)
            external = next((k for k in identity if k.startswith("x:")), None)
            if card_id is not None:
                existing.append((row, card_id, Action.UPDATED))
                continue
            if external and external in pending:
                _combine(pending[external], row, overwrite=True)
                self._combined[row.number] = pending[external].number
                self.job.updated_count += 1
                continue
            contact = [k for k in row.keys if k.startswith(("p:", "e:"))]
            match = next((found[k] for k in contact if k in found), None)
            twin = next((pending[k] for k in contact if k in pending), None)
            if (match is not None or twin is not None) and self.job.on_duplicate != OnDuplicate.CREATE:
                if self.job.on_duplicate == OnDuplicate.SKIP:
                    self.job.skipped_count += 1
                    self._preview(row.number, _name_of(row), "skipped")
                elif match is not None:
                    existing.append((row, match, Action.MERGED))
                elif twin is not None:
                    _combine(twin, row, overwrite=False)
                    self._combined[row.number] = twin.number
                    self.job.updated_count += 1
                continue
            for key in row.keys:
                pending.setdefault(key, row)
            new.append(row)
        return new, existing

    def _employers(self, rows: list[BuiltRow]) -> None:
        """A person's company column (vCard ``ORG``, Google's "Organization 1 - Name", Outlook's
        "Company") links them to that organisation: a card the user can see with the same
        normalised name, or one created for it, owned by the importer. The job title becomes
        the title of that employment. Created organisations are recorded as rows of the job
        (the row that first named them), so a revert deletes them too. Only a name no card can
        be made of (too long, refused) is kept as the ``employer`` fact instead."""
        folded = {name: fold(name)[:300] for name in {r.organization_name for r in rows if r.organization_name}}
        if len(self._orgs) + len(folded) > 100_000:
            self._orgs.clear()  # before the look-up, so this batch's names are all looked up
        wanted = set(folded.values()) - set(self._orgs)
        if wanted:
            for sort_name, card_id in (
                visible_to(self.user).filter(kind=Kind.ORGANIZATION, archived_at__isnull=True, sort_name__in=wanted)
                .order_by("id").values_list("sort_name", "id")
            ):
                self._orgs.setdefault(sort_name, card_id)
            missing: dict[str, tuple[str, int]] = {}  # folded name -> (name as written, first row)
            for row in rows:
                key = folded.get(row.organization_name)
                if key in wanted and key not in self._orgs and key not in missing:
                    missing[key] = (row.organization_name, row.number)
            self._create_organizations(missing)
        assert self.builder is not None
        for row in rows:
            title = row.data.pop("_title", "")
            if not row.organization_name:
                continue
            org_id = self._orgs.get(folded[row.organization_name])
            if org_id is not None:
                row.data["organization"] = org_id
                row.data["title"] = title[:200]
                if row.checked is not None:
                    # Checked before the organisation was known: its employment is added here
                    # (the loader checks at load time that the user can see that card).
                    row.checked.prepared.organization_id = org_id
                    row.checked.prepared.title = row.data["title"].strip()
            else:
                employer = self.builder.employer_facts(row, title)
                row.data.setdefault("facts", []).extend(employer.facts)
                row.origins.update(employer.origins)
                if row.checked is not None and employer.checked is not None:
                    row.checked.extend(employer.checked)

    def _create_organizations(self, missing: dict[str, tuple[str, int]]) -> None:
        """Organisation cards for company names no visible card has (inside the batch's transaction)."""
        if not missing:
            return
        keys = list(missing)
        created: list[tuple[int, int]] = []

        def on_created(pairs: list[tuple[int, int]]) -> None:
            created.extend(pairs)

        bulk_create_cards(
            user=self.user, rows=[{"kind": Kind.ORGANIZATION, "name": missing[k][0]} for k in keys], batch_size=len(keys),
            on_error=lambda _index, _exc: None, on_created=on_created, loader=self.loader,
        )
        for index, card_id in created:
            self._orgs[keys[index]] = card_id
            self._new_orgs.append(keys[index])
        insert_rows(
            ImportedRow, ["job_id", "row", "card_id", "action", "before", "version_after"],
            [(self.job.pk, missing[keys[index]][1], card_id, Action.CREATED.value, None, 1) for index, card_id in created],
        )
        self.job.organizations_created += len(created)
        for key in keys:
            self._orgs.setdefault(key, None)

    def _create(self, rows: list[BuiltRow], *, retry: bool = True) -> set[int]:
        """New cards through the bulk loader; returns the numbers of the rows that became cards."""
        if not rows:
            return set()
        failed: dict[int, list[RowProblem]] = {}
        keys: dict[int, list[str]] = {}

        def on_error(index: int, exc: ValidationError) -> None:
            row = rows[index]
            for key, messages in exc.errors.items():
                name = re.sub(r"^rows\[\d+\]\.", "", key)
                keys.setdefault(index, []).append(name)
                for message in messages:
                    failed.setdefault(index, []).append((row.number, row.column_of(name), message, _value_of(row, name)))

        created: set[int] = set()

        def on_created(pairs: list[tuple[int, int]]) -> None:
            job_id = self.job.pk
            insert_rows(
                ImportedRow, ["job_id", "row", "card_id", "action", "before", "version_after"],
                [(job_id, rows[index].number, card_id, Action.CREATED.value, None, 1) for index, card_id in pairs],
            )
            self.job.created_count += len(pairs)
            # The bulk loader indexes names, e-mails and phones; a website's domain is added here.
            search.index_websites((card_id, str(rows[index].data.get("website") or "")) for index, card_id in pairs)
            for index, _card_id in pairs:
                number = rows[index].number
                created.add(number)
                if number <= self.preview_rows:  # the name only for the rows a preview shows
                    self._preview(number, _name_of(rows[index]), "created")

        bulk_create_cards(
            user=self.user, rows=[r.checked or r.data for r in rows], batch_size=len(rows), on_error=on_error,
            on_created=on_created, loader=self.loader,
        )
        again: list[BuiltRow] = []
        for index, found in failed.items():
            row = rows[index]
            if retry and not self.job.strict and _strip(row, keys[index]):
                row.left_out = found
                again.append(row)
            else:
                self._error_rows(found)
        if again:
            created_again = self._create(again, retry=False)
            for row in again:
                self._error_rows(row.left_out, imported=row.number in created_again)
            created |= created_again
        return created

    def _update(self, row: BuiltRow, card_id: int, action: str, *, retry: bool = True) -> bool:
        """Writes the row onto a card; True when it was written (perhaps without bad values)."""
        try:
            with transaction.atomic():
                card = Card.objects.select_for_update().get(pk=card_id)
                before = snapshot(card)
                _apply(self.user, card, row, overwrite=action == Action.UPDATED)
                card.refresh_from_db(fields=["version"])
                ImportedRow.objects.create(
                    job=self.job, row=row.number, card=card, action=action, before=before, version_after=card.version
                )
        except ValidationError as exc:
            found = [
                (row.number, row.column_of(key), message, _value_of(row, key))
                for key, messages in exc.errors.items() for message in messages
            ]
            if retry and not self.job.strict and _strip(row, list(exc.errors)):
                written = self._update(row, card_id, action, retry=False)
                self._error_rows(found, imported=written)
                return written
            self._error_rows(found)
            return False
        self.job.updated_count += 1
        self._preview(row.number, _name_of(row), action)
        return True


_REQUIRED = {"name", "given_name", "family_name", "local_name", "kind", "owner", "team", "__all__"}


def _strip(row: BuiltRow, keys: list[str]) -> bool:
    """Leaves the failing values out of a row; False when a failing value is one a card
    cannot do without (its name), so the row cannot be imported at all."""
    row.checked = None  # the row changes: it is validated again when loaded
    drop: dict[str, set[int]] = {}
    for key in keys:
        match = re.match(r"^(phones|emails|addresses|facts|social)\[(\d+)\]", key)
        top = key.split(".")[0].split("[")[0]
        if match:
            drop.setdefault(match.group(1), set()).add(int(match.group(2)))
        elif top in _REQUIRED:
            return False
        elif top in row.data:
            row.data.pop(top)
        else:
            return False
    for name, indexes in drop.items():
        values = row.data.get(name) or []
        row.data[name] = [v for i, v in enumerate(values) if i not in indexes]
    return True


def find_existing(user: User, kind: str, keys: set[str]) -> dict[str, int]:
    """Cards the user can see that carry one of the duplicate keys (``i:`` card id, ``x:`` external id,
    ``p:`` E.164 phone, ``e:`` e-mail), as key -> card id (the oldest card wins).

    The one place the duplicate rule of imports lives; the duplicate engine will replace it.
    """
    result: dict[str, int] = {}
    scope = scope_for(user)
    own_ids = [int(k[2:]) for k in keys if k.startswith("i:")]
    externals = [k[2:] for k in keys if k.startswith("x:")]
    phones = [k[2:] for k in keys if k.startswith("p:")]
    emails = [k[2:] for k in keys if k.startswith("e:")]
    visible = scope.card_q("card__")
    # Each list goes to the database as one parameter (a JSON or array value the query unpacks):
    # a batch's thousands of keys would otherwise cost Django and the driver one placeholder each.
    if own_ids:
        for card_id in visible_to(user).filter(kind=kind, pk__in=_listed(own_ids, "bigint")).values_list("id", flat=True):
            result[f"i:{card_id}"] = card_id
    if externals:
        for external, card_id in (
            visible_to(user).filter(kind=kind, external_id__in=_listed(externals)).order_by("-id").values_list("external_id", "id")
        ):
            result["x:" + external] = card_id
    if phones:
        for e164, card_id in (
            Phone.objects.filter(visible, e164__in=_listed(phones), card__kind=kind, card__archived_at__isnull=True)
            .order_by("-card_id").values_list("e164", "card_id")
        ):
            result["p:" + e164] = card_id
    if emails:
        # The local part is stored as typed: compare case-insensitively.
        for address, card_id in (
            Email.objects.annotate(folded=Lower("address"))
            .filter(visible, folded__in=_listed(emails), card__kind=kind, card__archived_at__isnull=True)
            .order_by("-card_id").values_list("folded", "card_id")
        ):
            result["e:" + address] = card_id
    return result


def _listed(values: list[Any], sql_type: str = "text") -> RawSQL:
    """A subquery yielding ``values``, for ``__in``, with the whole list as one parameter."""
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])


def _name_of(row: BuiltRow) -> str:
    data = row.data
    return str(data.get("name") or " ".join(p for p in (data.get("given_name"), data.get("family_name")) if p) or data.get("local_name") or "")


def _value_of(row: BuiltRow, key: str) -> str:
    match = re.match(r"^(\w+)\[(\d+)\]", key)
    data = row.data
    if match:
        values = data.get(match.group(1)) or []
        index = int(match.group(2))
        if index < len(values):
            value = values[index]
            if isinstance(value, dict):
                value = value.get("number") or value.get("value") or ""
            return str(value)[:200]
        return ""
    value = data.get(key.split(".")[0])
    return "" if value is None or isinstance(value, (list, dict)) else str(value)[:200]


def _combine(target: BuiltRow, row: BuiltRow, *, overwrite: bool) -> None:
    """Folds a later row of the same batch into an earlier one (same card in the file)."""
    target.checked = None  # its data changes: it is validated again when loaded
    for key, value in row.data.items():
        if key in ("phones", "emails", "addresses", "facts"):
            current = target.data.setdefault(key, [])
            for entry in value:
                if entry not in current and len(current) < 20:
                    target.origins[f"{key}[{len(current)}]"] = row.origins.get(f"{key}[{value.index(entry)}]", "")
                    current.append(entry)
        elif value not in (None, "") and (overwrite or target.data.get(key) in (None, "")):
            target.data[key] = value
    target.keys.extend(k for k in row.keys if k not in target.keys)


def snapshot(card: Card) -> dict[str, Any]:
    """The core fields and contact points of a card, to put back on revert."""
    return {
        "display_name": card.display_name, "given_name": card.given_name, "family_name": card.family_name,
        "local_name": card.local_name, "website": card.website, "industry": card.industry, "size_band": card.size_band,
        "tier": card.tier, "lifecycle_stage": card.lifecycle_stage, "external_id": card.external_id,
        "phones": [{"number": p.e164, "region": p.region, "kind": p.kind} for p in card.phones.all()],
        "emails": [{"address": e.address, "kind": e.kind} for e in card.emails.all()],
        "addresses": list(card.addresses.values("kind", "street", "city", "region", "postal_code", "country")),
    }


_CORE = ("website", "industry", "size_band", "tier", "lifecycle_stage", "external_id")


def _apply(user: User, card: Card, row: BuiltRow, *, overwrite: bool) -> None:
    """Writes a row onto an existing card through the cards services. ``overwrite`` (same
    external id) replaces core fields the row has; otherwise only empty ones are filled.
    Contact points are added when new; facts are added unless the card already holds that value."""
    data = row.data
    change: dict[str, Any] = {}
    for name in _CORE:
        value = data.get(name)
        if value not in (None, "") and (overwrite or not getattr(card, name)) and value != getattr(card, name):
            change[name] = value
    if card.kind == Kind.ORGANIZATION:
        if data.get("name") and (overwrite and data["name"] != card.display_name):
            change["name"] = data["name"]
    else:
        for part in ("given_name", "family_name", "local_name"):
            value = data.get(part)
            if value and (overwrite or not getattr(card, part)) and value != getattr(card, part):
                change[part] = value
    current_phones = [{"number": p.e164, "region": p.region, "kind": p.kind} for p in card.phones.all()]
    known_phones = {p["number"] for p in current_phones}
    region = data.get("region") or None
    offset_phones = len(current_phones)
    new_phones = []
    for phone in data.get("phones", []):
        e164 = None
        try:
            e164 = parse_phone("phone", phone["number"], phone.get("region") or region)[0]
        except ValidationError:
            pass
        if e164 is None or e164 not in known_phones:
            new_phones.append(phone)
            if e164:
                known_phones.add(e164)
    current_emails = [{"address": e.address, "kind": e.kind} for e in card.emails.all()]
    known_emails = {e["address"].casefold() for e in current_emails}
    new_emails = [e for e in data.get("emails", []) if e.strip().casefold() not in known_emails]
    current_addresses = list(card.addresses.values("kind", "street", "city", "region", "postal_code", "country"))
    new_addresses = [a for a in data.get("addresses", []) if {**{p: "" for p in mapping_module.ADDRESS_PARTS}, **a} not in current_addresses]
    if new_phones:
        change["phones"] = current_phones + new_phones
        change["region"] = region
    if new_emails:
        change["emails"] = current_emails + new_emails
    if new_addresses:
        change["addresses"] = current_addresses + new_addresses
    if change:
        try:
            cards.update_card(user=user, card=card, data=change)
        except ValidationError as exc:
            raise ValidationError(_shift(exc.errors, {"phones": offset_phones, "emails": len(current_emails),
                                                      "addresses": len(current_addresses)})) from None
        card.refresh_from_db()
    if data.get("organization") and not card.employments.filter(organization_id=data["organization"]).exists():
        cards.add_employment(user=user, person=card, data={"organization": data["organization"], "title": data.get("title", "")})
    profile = card.profile or {}
    for i, fact in enumerate(data.get("facts", [])):
        current = profile.get(fact["item"])
        try:
            if current is not None:
                item = catalog.items().get(fact["item"])
                if item is not None:
                    from rapport.cards.values import parse_item_value

                    if parse_item_value(item, fact["value"])[0] == crypto.unseal(current.get("v")):
                        continue
            cards.add_fact(
                user=user, card=card, item_key=fact["item"], value=fact["value"], source_key=fact["source"], note=fact["note"]
            )
        except ValidationError as exc:
            raise ValidationError({f"facts[{i}].{k}": v for k, v in exc.errors.items()}) from None


def _shift(errors: dict[str, list[str]], offsets: dict[str, int]) -> dict[str, list[str]]:
    """Error keys of the combined list (existing + new) back to the row's own positions."""
    result: dict[str, list[str]] = {}
    for key, messages in errors.items():
        match = re.match(r"^(phones|emails|addresses)\[(\d+)\](.*)$", key)
        if match:
            key = f"{match.group(1)}[{int(match.group(2)) - offsets[match.group(1)]}]{match.group(3)}"
        result.setdefault(key, []).extend(messages)
    return result


# --- revert -------------------------------------------------------------------------------------


@dataclass
class RevertReport:
    deleted: int = 0
    restored: int = 0
    kept: int = 0  # cards changed by someone since the import: their core fields were left alone
    facts_removed: int = 0


@transaction.atomic
def revert_import(*, user: User, job: ImportJob) -> RevertReport:
    """Undoes a whole import: cards it created are deleted, cards it updated get their earlier
    core fields and contact points back, and every fact it recorded is removed.

    A card someone changed after the import keeps those changes: a created card is archived
    instead of deleted, an updated one keeps its core fields (only the import's facts go).
    """
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.user_id != user.id and scope_for(user).role != Role.ADMIN:
        raise NotFound("import")
    if locked.status not in (Status.DONE, Status.FAILED) and not locked.is_stalled:
        raise Conflict("Only a finished import can be reverted." if locked.status != Status.REVERTED else "This import was already reverted.")
    registered = extensions.import_kind(locked.kind)
    if registered is not None:
        undone = registered.revert(locked, user)
        locked.status, locked.reverted_at, locked.reverted_by = Status.REVERTED, timezone.now(), user
        undone_text = problems.as_problem(undone.message) if undone.message else None
        locked.message = undone.message[:500]
        locked.message_code, locked.message_params = (undone_text.code, undone_text.params) if undone_text else ("", {})
        locked.save(update_fields=["status", "reverted_at", "reverted_by", "message", "message_code", "message_params"])
        job.refresh_from_db()
        return RevertReport(deleted=undone.deleted, restored=undone.restored, kept=undone.kept)
    report = RevertReport()
    note_prefix = locked.provenance + ", row "
    source = catalog.sources().get(IMPORT_SOURCE)
    created = ImportedRow.objects.filter(job=locked, action=Action.CREATED, card__isnull=False)
    untouched = list(created.filter(card__version=1).values_list("card_id", flat=True))
    touched = list(created.exclude(card__version=1).values_list("card_id", flat=True))
    for chunk in _id_chunks(untouched):
        Card.objects.filter(pk__in=chunk).delete()
    report.deleted = len(untouched)
    now = timezone.now()
    for chunk in _id_chunks(touched):
        Card.objects.filter(pk__in=chunk).update(archived_at=now)
    report.kept += len(touched)
    for imported in ImportedRow.objects.filter(job=locked).exclude(action=Action.CREATED).exclude(card__isnull=True).select_related("card"):
        card = imported.card
        assert card is not None
        facts = Fact.objects.filter(card=card, source=source, note__startswith=note_prefix)
        items = set(facts.values_list("item_id", flat=True))
        report.facts_removed += facts.delete()[0]
        card.refresh_from_db()
        for item_id in items:
            item = catalog.item_by_id(item_id)
            if item is not None:
                cards.refresh_current_value(card, item)
        card.refresh_from_db()
        if imported.before and card.version == (imported.version_after or 0) + len(items):
            _restore(card, imported.before)
            report.restored += 1
        else:
            report.kept += 1
    locked.status, locked.reverted_at, locked.reverted_by = Status.REVERTED, timezone.now(), user
    if report.kept:
        kept = problems.problem("job.reverted_kept", count=report.kept)
        locked.message, locked.message_code, locked.message_params = kept.english(), kept.code, kept.params
    locked.save(update_fields=["status", "reverted_at", "reverted_by", "message", "message_code", "message_params"])
    job.refresh_from_db()
    return report


def _id_chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _restore(card: Card, before: dict[str, Any]) -> None:
    fields = {k: before[k] for k in ("display_name", "given_name", "family_name", "local_name", *_CORE) if k in before}
    for name, value in fields.items():
        setattr(card, name, value)
    card.sort_name = fold(card.display_name)[:300]
    card.updated_at = timezone.now()
    card.save(update_fields=[*fields, "sort_name", "updated_at"])
    points = cards.ContactPoints(
        phones=[(p["number"], p["number"], p["region"], p["kind"]) for p in before.get("phones", [])],
        emails=[(e["address"], e["kind"]) for e in before.get("emails", [])],
        addresses=before.get("addresses", []),
    )
    cards._save_contact_points(card, points, replace=True)
    search.index_card(card)


# --- error file ---------------------------------------------------------------------------------

ERROR_COLUMNS = ["job_id", "row", "column", "reason", "value", "row_imported", "code", "params"]


def _error_row(job_id: int, row: int, column: str, reason: problems.Problem | str, value: str,
               imported: bool) -> tuple[Any, ...]:
    """A ``RowError`` as inserted: the reason in English and as its code and values."""
    text = problems.as_problem(reason)
    return (job_id, row, column[:255], text.english()[:500], value[:200], imported, text.code[:40], json.dumps(text.params))


def _is_phone_problem(entry: tuple[Any, ...]) -> bool:
    code, params = entry[6], entry[7]
    return code == "phone.not_valid" or (code == problems.MESSAGE and "phone number" in params)


def error_file_header() -> list[str]:
    """The error file's columns, in the active language."""
    return [_("row"), _("column"), _("reason"), _("value"), _("outcome")]


def _outcome(imported: bool) -> str:
    return _("value left out") if imported else _("row not imported")



def error_rows(job: ImportJob) -> Iterator[RowError]:
    return RowError.objects.filter(job=job).order_by("row", "id").iterator(chunk_size=2000)


def write_error_file(job: ImportJob, path: Path | IO[str]) -> int:
    """The error file: one line per problem (row, column, reason, value, outcome), UTF-8 with
    BOM so spreadsheets open it right; values are neutralised like every export. The outcome
    says whether the row was not imported or was imported without that value."""
    from rapport.imports.writers import safe_cell

    own = isinstance(path, Path)
    handle: IO[str] = path.open("w", encoding="utf-8-sig", newline="") if isinstance(path, Path) else path
    count = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(error_file_header())
        for error in error_rows(job):
            writer.writerow([error.row, safe_cell(error.column), safe_cell(error.reason_text), safe_cell(error.value),
                             _outcome(error.row_imported)])
            count += 1
    finally:
        if own:
            handle.close()
    return count


def error_file_text(job: ImportJob) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    write_error_file(job, buffer)
    return buffer.getvalue()


# --- background runs (web wizard, API) ------------------------------------------------------------


def start(*, user: User, job: ImportJob) -> None:
    """Runs a job that is waiting for its run, in the background (see ``launch``)."""
    _may_import(user)
    # Claimed here, in the request: a second click cannot start it twice, and the page the
    # user is sent to already shows it running.
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.UPLOADED).update(status=Status.RUNNING, started_at=timezone.now())
    if not claimed:
        raise Conflict("This import has already run; import the file again to resume it.")
    job.status = Status.RUNNING
    launch(job)


def launch(job: ImportJob) -> None:
    """Runs a claimed job in ``rapport worker`` (a background job of the queue, whose page and
    heartbeat the jobs app keeps), or right away when ``RAPPORT_IMPORTS_IN_BACKGROUND`` is off
    (tests, single-request deployments)."""
    if not getattr(settings, "RAPPORT_IMPORTS_IN_BACKGROUND", True):
        run_import(job=job, claimed=True)
        return
    from rapport.jobs import services as jobs
    from rapport.jobs.models import Kind as JobKind

    jobs.enqueue(kind=JobKind.IMPORT, user=job.user, ref=job.pk)


def run_claimed(*, import_job_id: int, progress: Progress | None = None) -> ImportJob:
    """The worker's run of a job ``start`` claimed; returns the job as it ended. A job no
    longer running (reverted, or failed while it waited) is left as it is."""
    job = ImportJob.objects.get(pk=import_job_id)
    if job.status == Status.RUNNING:
        try:
            run_import(job=job, claimed=True, progress=progress)
        except Exception:
            # Recorded on the job by the run; the worker reads the outcome from the job.
            log.exception("import %s failed", import_job_id)
        job.refresh_from_db()
    return job


def fail_killed_run(*, import_job_id: int, message: str = STALLED_MESSAGE) -> int:
    """Marks failed a job still "running" whose worker died (the jobs app's heartbeat sweep
    found it), at once rather than after ``STALLED_AFTER``. What its batches wrote stays:
    importing the same file again resumes it."""
    return ImportJob.objects.filter(pk=import_job_id, status=Status.RUNNING).update(
        status=Status.FAILED, message=message[:500], finished_at=timezone.now(),
        message_code="job.stalled" if message == STALLED_MESSAGE else "", message_params={},
    )


# --- export -------------------------------------------------------------------------------------

EXPORT_FORMATS = (Format.CSV, Format.XLSX, Format.VCARD)


@dataclass
class ExportResult:
    rows: int
    record_id: int


EXPORT_EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "vcard": "vcf"}
EXPORT_PROGRESS_EVERY = 1000  # rows between two progress reports of an export in the worker


def _checked_export(kind: Any, fmt: Any, flt: Any, segment: Any) -> tuple[str, Any]:
    """The card kind and the filter of an export, or the refusal of what cannot be exported."""
    from rapport.cards.selectors import CardFilter

    card_kind = _kind(kind)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError.single("format", "Expected csv, xlsx or vcard.")
    if not isinstance(flt, CardFilter):
        raise ValidationError.single("filters", "Expected list filters.")
    if segment not in (None, ""):
        if isinstance(segment, bool) or not str(segment).isdigit() or len(str(segment)) > 18:
            raise ValidationError.single("segment", "Expected the id of a saved segment.")
        flt = dataclasses.replace(flt, segment=int(segment))
    flt.kind = card_kind
    return card_kind, flt


def export_cards(
    *, user: User, kind: Any, flt: Any, fmt: Any, stream: IO[bytes], channel: str = "web", segment: Any = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ExportResult:
    """Writes the cards of a list (kind + list filters) the user may see to ``stream`` and
    records the export (who, when, which filter, how many rows).

    Only what the user may see: cards outside ``visible_to`` are not in it, items above the
    user's clearance have no column, and a confidential value on a card where the user may
    not read it is left out. ``progress(done, total)`` is told every few thousand rows.
    """
    from rapport.imports import selectors
    from rapport.imports.writers import CsvWriter, VcardWriter, XlsxWriter

    card_kind, flt = _checked_export(kind, fmt, flt, segment)
    cards_qs, items = selectors.export_cards(user, flt)
    total = cards_qs.count() if progress is not None else None
    count = 0

    def written() -> None:
        if progress is not None and count % EXPORT_PROGRESS_EVERY == 0:
            progress(count, total)
    if fmt == Format.VCARD:
        vcard = VcardWriter(stream)
        for exported in selectors.iter_export(user, cards_qs, items):
            card, core = exported.card, exported.core
            vcard.card(
                kind=card.kind, uid=core["external_id"] or f"rapport-card-{card.id}", full_name=core["name"],
                given=core["given_name"], family=core["family_name"], organization=core["organization"],
                title=core["title"], phones=exported.phones, emails=exported.emails, addresses=exported.addresses,
                website=core["website"], birthday=str(exported.raw.get("birth_date") or ""),
                nickname=str(exported.raw.get("nickname") or ""), note="",
            )
            count += 1
            written()
        vcard.close()
    else:
        writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == Format.CSV else XlsxWriter(stream, card_kind)
        columns = list(selectors.CORE_COLUMNS)
        if card_kind == Kind.ORGANIZATION:
            columns = [c for c in columns if c not in ("given_name", "family_name", "organization", "title")]
        writer.header(columns + [f"item:{i.key}" for i in items])
        for exported in selectors.iter_export(user, cards_qs, items):
            writer.row([exported.core[c] for c in columns] + [exported.items.get(i.key) for i in items])
            count += 1
            written()
        writer.close()
    if progress is not None:
        progress(count, max(count, total or 0))
    from rapport.imports.models import ExportRecord

    filters = {k: v for k, v in vars(flt).items() if v not in (None, "", False) and k != "kind"}
    record = ExportRecord.objects.create(
        user=user, kind=card_kind, format=fmt, filters=filters, rows=count, channel=channel[:8]
    )
    from rapport.audit.services import record as audit

    audit(action="export", record_type="cards.card", actor=user,
          detail={"kind": card_kind, "format": fmt, "rows": count, "channel": channel[:8],
                  "items": sorted(i.key for i in items if i.sensitivity in ("confidential", "special"))})
    return ExportResult(rows=count, record_id=record.pk)


def export_dir() -> Path:
    """Where the worker writes the exports of long lists until they are downloaded."""
    return Path(getattr(settings, "RAPPORT_EXPORT_DIR", "") or settings.HOME / "exports")


def export_keep() -> dt.timedelta:
    return dt.timedelta(hours=max(1, int(getattr(settings, "RAPPORT_EXPORT_KEEP_HOURS", 48))))


def queue_export(*, user: User, kind: Any, flt: Any, fmt: Any, channel: str = "web", segment: Any = None) -> Any:
    """Puts the export of a list on the background queue (a list too long to write while the
    browser waits); returns the job, whose page offers the file to the person who asked once
    the worker has written it. The filters are checked now, the cards read when it runs (what
    the user may see then)."""
    from rapport.jobs import services as jobs
    from rapport.jobs.models import Kind as JobKind

    card_kind, flt = _checked_export(kind, fmt, flt, segment)
    filters = {k: v for k, v in dataclasses.asdict(flt).items() if v not in (None, "", False)}
    return jobs.enqueue(kind=JobKind.EXPORT, user=user, params={"kind": card_kind, "format": fmt, "filters": filters,
                                                                "channel": str(channel)[:8]})


def run_queued_export(*, user: User, job_id: int, params: dict[str, Any],
                      progress: Callable[[int, int | None], None] | None = None) -> dict[str, Any]:
    """The worker's run of ``queue_export``: writes the file into ``export_dir`` under a name
    nobody can guess, whole or not at all; returns what the job's page shows."""
    from rapport.cards.selectors import CardFilter

    fmt = params.get("format")
    if fmt not in EXPORT_FORMATS:
        raise ValidationError.single("format", "Expected csv, xlsx or vcard.")
    known = {f.name for f in dataclasses.fields(CardFilter)}
    stored = params.get("filters")
    raw: dict[str, Any] = stored if isinstance(stored, dict) else {}
    flt = CardFilter(**{k: v for k, v in raw.items() if k in known})
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"export-{int(job_id)}-{secrets.token_hex(12)}.{EXPORT_EXTENSIONS[str(fmt)]}"
    partial = folder / f"{name}.part"
    try:
        with partial.open("wb") as stream:
            result = export_cards(user=user, kind=params.get("kind"), flt=flt, fmt=fmt, stream=stream,
                                  channel=str(params.get("channel") or "web"), progress=progress)
        partial.replace(folder / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return {"rows": result.rows, "file": name, "format": str(fmt), "kind": str(params.get("kind") or "")}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    download_name: str
    format: str


def export_file(*, user: User, job: Any) -> ExportFile:
    """The file a finished background export wrote, for the person who asked it alone (it holds
    what they may see; nobody else, an administrator included, downloads it). NotFound for
    anyone else or a job that is not an export; Conflict while it runs or once it expired."""
    from rapport.jobs.models import Kind as JobKind
    from rapport.jobs.models import Status as JobStatus

    if job.kind != JobKind.EXPORT or job.user_id != user.pk:
        raise NotFound("export")
    if job.status != JobStatus.DONE:
        raise Conflict(_("This export is not ready yet."))
    name = str(job.result.get("file") or "")
    path = export_dir() / name
    if not re.fullmatch(r"export-\d+-[0-9a-f]{24}\.(csv|xlsx|vcf)", name) or not path.is_file() \
            or job.finished_at is None or timezone.now() - job.finished_at > export_keep():
        raise Conflict(_("This export is no longer kept. Export the list again."))
    kind = "organizations" if job.result.get("kind") == Kind.ORGANIZATION else "people"
    return ExportFile(path=path, download_name=f"rapport-{kind}.{path.suffix.lstrip('.')}", format=str(job.result.get("format")))


def forget_old_exports(*, now: dt.datetime | None = None) -> int:
    """Deletes the files of background exports older than ``RAPPORT_EXPORT_KEEP_HOURS`` (and
    the pieces of runs that died); run daily by the worker's schedule. Returns how many."""
    folder = export_dir()
    if not folder.is_dir():
        return 0
    cutoff = ((now or timezone.now()) - export_keep()).timestamp()
    gone = 0
    for path in folder.glob("export-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except FileNotFoundError:
            continue
    return gone


def export_records(*, user: User, kind: Any, fmt: Any, stream: IO[bytes], channel: str = "web") -> ExportResult:
    """Writes the records of a kind another app registered (products…) as CSV or XLSX, with the
    same neutralised cells as card exports, and records the export like them."""
    from rapport.audit.services import record as audit
    from rapport.imports.models import ExportRecord
    from rapport.imports.writers import CsvWriter, XlsxWriter

    registered = extensions.export_kind(kind)
    if registered is None:
        names = ", ".join(["organizations", "people", *(k.key for k in extensions.export_kinds())])
        raise ValidationError.single("kind", f"Expected one of: {names}.")
    if fmt not in registered.formats:
        raise ValidationError.single("format", f"Expected {' or '.join(registered.formats)}.")
    writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == Format.CSV else XlsxWriter(stream, registered.key)
    count = registered.write(user, writer)
    writer.close()
    export = ExportRecord.objects.create(user=user, kind=registered.key[:16], format=fmt, rows=count, channel=channel[:8])
    audit(action="export", record_type=registered.key[:64], actor=user,
          detail={"kind": registered.key, "format": fmt, "rows": count, "channel": channel[:8]})
    return ExportResult(rows=count, record_id=export.pk)
