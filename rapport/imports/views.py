"""The import wizard (upload → mapping with suggestions → preview → run with progress → report)
and the export download of the list pages. Views call ``services`` and ``selectors`` only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts import selectors as people_selectors
from rapport.cards import selectors as card_selectors
from rapport.cards.forms import PRIVATE_FILTERS, CardFilterForm
from rapport.cards.models import Kind
from rapport.core.errors import Conflict, NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import fragment_or_page, web_view
from rapport.imports import api, extensions, mapping, selectors, services
from rapport.imports.forms import MappingForm, UploadForm
from rapport.imports.models import Format, ImportJob, Status
from rapport.imports.readers import FileRejected

KIND_PATH = {Kind.ORGANIZATION: "organizations", Kind.PERSON: "people"}
VCARD_SAMPLE = 200  # vCards read to list the fields a file holds on the mapping page


@require_http_methods(["GET", "POST"])
@web_view
def import_list(request: AuthedHttpRequest) -> HttpResponse:
    """Recent imports and the upload form (step 1)."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.receive_upload(
                user=request.user, name=upload.name, chunks=upload.chunks(), kind=form.cleaned_data["kind"] or None
            )
        except ValidationError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return redirect("import-detail", job_id=job.pk)
    other_kinds = [str(kind.label) for kind in extensions.import_kinds()]
    return render(request, "imports/list.html", {"form": form, "jobs": selectors.jobs_of(request.user), "other_kinds": other_kinds})


def _mapping_form(job: ImportJob, data: Any = None) -> MappingForm:
    vcard = job.format == Format.VCARD
    # A vCard's fields are named by the reader; the page lists those its first cards hold.
    preview = services.inspect(Path(job.stored_path), sample_rows=VCARD_SAMPLE if vcard else 3)
    samples: dict[str, str] = {}
    for row in preview.samples:
        for header, value in row.cells.items():
            if value and header not in samples:
                samples[header] = value[:80]
    headers = [h for h in job.mapping if h in samples and job.mapping[h]] if vcard else preview.headers
    registered = extensions.import_kind(job.kind)
    kind = job.kind if registered else KIND_PATH.get(Kind(job.kind), "people") if job.kind in Kind.values else "people"
    initial: dict[str, Any] = {"kind": kind, "on_duplicate": job.on_duplicate, "region": job.region, "keep_going": job.keep_going}
    for i, header in enumerate(headers):
        initial[f"col_{i}"] = job.mapping.get(header, "")
    if registered:
        targets = registered.targets()
    else:
        suggested = {} if vcard else mapping.suggest(preview.headers, job.kind)
        groups = mapping.address_groups({**suggested, **job.mapping})
        targets = mapping.target_choices(job.kind, groups=groups)
    return MappingForm(data, initial=initial, headers=headers, targets=targets, samples=samples, cards=registered is None,
                       csv=job.format == Format.CSV)


@require_http_methods(["GET", "POST"])
@web_view
def import_detail(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    """Step 2 to 5: the mapping (until the job runs), then its progress and report."""
    job = services.get_job(request.user, job_id)
    if job.status != Status.UPLOADED:
        return render(request, "imports/report.html", _report_context(request.user, job))
    try:
        form = _mapping_form(job, request.POST or None)
    except FileRejected as exc:
        messages.error(request, str(exc))
        return redirect("import-list")
    preview_rows: list[services.PreviewRow] | None = None
    preview_job: ImportJob | None = None
    if request.method == "POST" and form.is_valid():
        try:
            job = services.set_mapping(
                user=request.user, job=job, mapping=form.mapping(), kind=form.cleaned_data["kind"],
                on_duplicate=form.cleaned_data.get("on_duplicate"), region=form.cleaned_data.get("region"),
                keep_going=form.cleaned_data.get("keep_going") if "keep_going" in form.fields else None,
            )
            if "run" in request.POST:
                services.start(user=request.user, job=job)
                return redirect("import-detail", job_id=job.pk)
            report = services.run_import(job=job, dry_run=True, limit=50, preview_rows=50)
            preview_rows, preview_job = sorted(report.rows, key=lambda r: r.number), report.job
        except ValidationError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(None, f"{field}: {error}")
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("import-detail", job_id=job.pk)
        form = _mapping_form(job, request.POST)
        form.is_valid()
    context = {"job": job, "form": form, "preview_rows": preview_rows, "preview_job": preview_job,
               "records": extensions.import_kind(job.kind) is not None}
    return fragment_or_page(request, "imports/_preview.html", "imports/mapping.html", context)


def _report_context(user: Any, job: ImportJob) -> dict[str, Any]:
    from rapport.jobs.models import Status as JobStatus
    from rapport.jobs.selectors import job_of_import

    # Still on the queue: no worker has taken it yet, which is not a stalled run.
    queued = job.status == Status.RUNNING and job.rows_read == 0 and getattr(job_of_import(user, job.pk), "status", "") == JobStatus.QUEUED
    # "records": a kind another app registered (orders…), whose counts are records, not cards.
    return {"job": job, "errors": selectors.errors_of(job, limit=100), "queued": queued,
            "running": job.status == Status.RUNNING and (queued or not job.is_stalled),
            "records": extensions.import_kind(job.kind) is not None}


@require_GET
@web_view
def import_progress(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    """The progress fragment htmx polls while the job runs (the poll stops when it is done)."""
    job = services.get_job(request.user, job_id)
    return render(request, "imports/_progress.html", _report_context(request.user, job))


@require_GET
@web_view
def import_errors(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job = services.get_job(request.user, job_id)
    response = HttpResponse(services.error_file_text(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@require_POST
@web_view
def import_revert(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job = services.get_job(request.user, job_id)
    try:
        report = services.revert_import(user=request.user, job=job)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        counts = {"deleted": report.deleted, "restored": report.restored, "kept": report.kept}
        if extensions.import_kind(job.kind) is not None:
            messages.success(request, _("Import reverted: %(deleted)d records deleted, %(restored)d restored, %(kept)d kept because they changed since.")
                             % counts)
        else:
            messages.success(request, _("Import reverted: %(deleted)d cards deleted, %(restored)d restored, %(kept)d kept because they changed since.")
                             % counts)
    return redirect("import-detail", job_id=job.pk)


@require_GET
@web_view
def export_file(request: AuthedHttpRequest, job_id: int) -> FileResponse | HttpResponse:
    """The file of a finished background export, for the person who asked for it."""
    from rapport.jobs import selectors as job_selectors

    try:
        exported = services.export_file(user=request.user, job=job_selectors.get_job(request.user, job_id))
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("job-detail", job_id=job_id)
    return api.export_file_response(exported)


@require_http_methods(["GET", "POST"])
@web_view
def export_download(request: AuthedHttpRequest, kind: str) -> FileResponse | HttpResponse:
    """The list page's export: the same filters as the list, in the format asked for.

    The list page POSTs its filters. A link may select the others, but a name or value
    filter in a URL is refused rather than dropped: the export would be wider than asked.
    """
    if kind not in ("organizations", "people"):
        raise NotFound("list")
    card_kind = Kind.ORGANIZATION if kind == "organizations" else Kind.PERSON
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "GET" and any(data.get(name) for name in PRIVATE_FILTERS):
        return HttpResponse(_("Send the name and value filters in the body of a POST, not in the address."), status=400,
                            content_type="text/plain; charset=utf-8")
    form = CardFilterForm(
        data, owners=people_selectors.filter_owners(user), teams=people_selectors.reachable_teams(user),
        items=card_selectors.filterable_items(user, card_kind), industries=[],
    )
    if not form.is_valid():
        # Never export a wider list than the one on screen: a filter we cannot read stops the export.
        return HttpResponse("; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()), status=400,
                            content_type="text/plain; charset=utf-8")
    fmt = data.get("format", "csv")
    flt = form.card_filter(card_kind)
    try:
        if fmt in services.EXPORT_FORMATS and selectors.export_is_long(user, flt):
            # Too long to write while the browser waits: the worker writes it, its page offers it.
            job = services.queue_export(user=user, kind=kind, flt=flt, fmt=fmt, channel="web")
            messages.info(request, _("This list is long: it is being exported in the background. "
                                     "The file will be offered here when it is ready."))
            return redirect("job-detail", job_id=job.pk)
        return api.export_response(request, kind, flt, fmt, channel="web")
    except ValidationError as exc:
        return HttpResponse("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()), status=400, content_type="text/plain; charset=utf-8")
