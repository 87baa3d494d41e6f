"""REST endpoints: import jobs (upload, mapping, preview, run, errors, revert) and exports."""

from __future__ import annotations

import json
import tempfile
from typing import Any, Literal

from django.http import FileResponse, HttpResponse, JsonResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from rapport.cards.api import CardFilterParams
from rapport.cards.selectors import CardFilter
from rapport.core.errors import Conflict, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.imports import selectors, services
from rapport.jobs.schemas import BackgroundJobOut
from rapport.imports.schemas import (
    ExportRecordList,
    ExportRecordOut,
    ImportErrorList,
    ImportJobList,
    ImportJobOut,
    MappingIn,
    PreviewOut,
    RevertOut,
)

router = Router(tags=["imports and exports"])

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcard": "text/vcard; charset=utf-8",
}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "vcard": "vcf"}


@router.post("/imports", response={201: ImportJobOut},
             summary="Upload a CSV, XLSX or vCard file as an import job (kind: organizations, people, or a registered kind)")
def upload(
    request: AuthedHttpRequest,
    file: File[UploadedFile],
    kind: Form[str] = "",
    on_duplicate: Form[str] = "skip",
    region: Form[str] = "",
    strict: Form[bool] = False,
    mapping: Form[str] = "",
    keep_going: Form[bool] = False,
) -> Status[dict[str, Any]]:
    parsed: Any = None
    if mapping:
        try:
            parsed = json.loads(mapping)
        except ValueError:
            raise ValidationError.single("mapping", "Expected a JSON object of column to target.") from None
    job = services.receive_upload(
        user=request.user, name=file.name or "upload", chunks=file.chunks(), kind=kind or None, mapping=parsed,
        on_duplicate=on_duplicate, region=region, strict=strict, keep_going=keep_going,
    )
    return Status(201, ImportJobOut.from_job(job))


@router.get("/imports", response=ImportJobList, summary="Recent import jobs")
def list_jobs(request: AuthedHttpRequest) -> dict[str, Any]:
    jobs = selectors.jobs_of(request.user)
    return {"items": [ImportJobOut.from_job(j) for j in jobs], "count": len(jobs)}


@router.get("/imports/{job_id}", response=ImportJobOut, summary="An import job and its progress")
def get_job(request: AuthedHttpRequest, job_id: int) -> dict[str, Any]:
    return ImportJobOut.from_job(services.get_job(request.user, job_id))


@router.put("/imports/{job_id}/mapping", response=ImportJobOut, summary="Set the column mapping before running")
def set_mapping(request: AuthedHttpRequest, job_id: int, payload: MappingIn) -> dict[str, Any]:
    job = services.get_job(request.user, job_id)
    job = services.set_mapping(user=request.user, job=job, mapping=payload.mapping, kind=payload.kind,
                               on_duplicate=payload.on_duplicate, region=payload.region, keep_going=payload.keep_going)
    return ImportJobOut.from_job(job)


@router.post("/imports/{job_id}/preview", response=PreviewOut, summary="Dry run of the first rows: what each would do")
def preview(request: AuthedHttpRequest, job_id: int, rows: int = 50) -> dict[str, Any]:
    job = services.get_job(request.user, job_id)
    limit = max(1, min(rows, 200))
    report = services.run_import(job=job, dry_run=True, limit=limit, preview_rows=limit)
    return {
        "job": ImportJobOut.from_job(report.job),
        "rows": [
            {"row": r.number, "name": r.name, "action": r.action,
             "problems": [{"column": c, "code": p.code, "params": p.params, "reason": str(p)} for c, p in r.problems]}
            for r in sorted(report.rows, key=lambda r: r.number)
        ],
    }


@router.post("/imports/{job_id}/run", response={202: ImportJobOut}, summary="Run the import (poll the job for progress)")
def run(request: AuthedHttpRequest, job_id: int) -> Status[dict[str, Any]]:
    job = services.get_job(request.user, job_id)
    services.start(user=request.user, job=job)
    job.refresh_from_db()
    return Status(202, ImportJobOut.from_job(job))


@router.get("/imports/{job_id}/errors", response=ImportErrorList,
            summary="The problems of an import: code and values, and the reason in the language of the request")
def errors_list(request: AuthedHttpRequest, job_id: int, limit: int = 500) -> dict[str, Any]:
    job = services.get_job(request.user, job_id)
    errors = selectors.errors_of(job, limit=max(1, min(limit, 5000)))
    items = [
        {"row": e.row, "column": e.column, "code": e.code, "params": e.params, "reason": e.reason_text, "value": e.value,
         "row_imported": e.row_imported}
        for e in errors
    ]
    return {"items": items, "count": job.problem_count}


@router.get("/imports/{job_id}/errors.csv", summary="The error file: row, column, reason, value, outcome")
def errors_file(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job = services.get_job(request.user, job_id)
    response = HttpResponse(services.error_file_text(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@router.post("/imports/{job_id}/revert", response=RevertOut, summary="Undo a whole import")
def revert(request: AuthedHttpRequest, job_id: int) -> dict[str, Any]:
    job = services.get_job(request.user, job_id)
    report = services.revert_import(user=request.user, job=job)
    return vars(report)


@router.get("/exports", response=ExportRecordList, summary="Export records (admins: everyone's)")
def list_exports(request: AuthedHttpRequest) -> dict[str, Any]:
    records = list(selectors.exports_of(request.user))
    return {"items": [ExportRecordOut.from_record(r) for r in records], "count": len(records)}


@router.get("/exports/{kind}", summary="Download the cards of a list as CSV, XLSX or vCard 4.0")
def export(
    request: AuthedHttpRequest,
    kind: Literal["organizations", "people"],
    filters: Query[CardFilterParams],
    format: Literal["csv", "xlsx", "vcard"] = "csv",
) -> FileResponse:
    return export_response(request, kind, filters.visible_filter(request.user), format, channel="api")


@router.post("/exports/{kind}", response={202: BackgroundJobOut},
             summary="Export the cards of a long list in the background; download it from /exports/files/{job id} once done")
def export_later(
    request: AuthedHttpRequest,
    kind: Literal["organizations", "people"],
    filters: Query[CardFilterParams],
    format: Literal["csv", "xlsx", "vcard"] = "csv",
) -> Any:
    from rapport.jobs.api import job_out

    job = services.queue_export(user=request.user, kind=kind, flt=filters.visible_filter(request.user), fmt=format,
                                channel="api")
    return Status(202, job_out(job))


@router.get("/exports/files/{job_id}", summary="The file of a finished background export (only for who asked for it)")
def export_later_file(request: AuthedHttpRequest, job_id: int) -> FileResponse | JsonResponse:
    from rapport.jobs import selectors as job_selectors

    try:
        exported = services.export_file(user=request.user, job=job_selectors.get_job(request.user, job_id))
    except Conflict as exc:  # not finished, or expired: the same request may succeed later, or never
        return JsonResponse({"detail": str(exc)}, status=409)
    return export_file_response(exported)


def export_file_response(exported: services.ExportFile) -> FileResponse:
    """The file of a finished background export, as the web page and the API hand it over."""
    return FileResponse(exported.path.open("rb"), as_attachment=True, filename=exported.download_name,
                        content_type=CONTENT_TYPES.get(exported.format, "application/octet-stream"))


def export_response(request: AuthedHttpRequest, kind: str, flt: CardFilter, fmt: str, *, channel: str) -> FileResponse:
    """Writes the export to a spooled file (memory up to 8 MB, then disk) and streams it."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        services.export_cards(user=request.user, kind=kind, flt=flt, fmt=fmt, stream=spool, channel=channel)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    response = FileResponse(spool, content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"), as_attachment=True,
                            filename=f"rapport-{kind}.{EXTENSIONS.get(fmt, 'dat')}")
    return response
