"""API schemas for import jobs and export records: explicit fields, separate In / Out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.imports.models import ExportRecord, ImportJob


class ImportJobOut(Schema):
    id: int
    file_name: str
    format: str
    kind: str
    status: str
    message: str  # in the language of the request
    message_code: str  # "" on jobs from before codes (see docs/imports.md)
    message_params: dict[str, Any]
    on_duplicate: str
    region: str
    strict: bool
    keep_going: bool  # read on past a CSV line that breaks the file's layout
    mapping: dict[str, str]
    rows_read: int
    rows_total: int | None
    created: int
    updated: int
    skipped: int
    errors: int
    values_left_out: int  # rows imported without some of their values (listed in the error file)
    phones_left_out: int  # phone numbers not kept (valid in no country tried; listed in the error file)
    organizations_created: int  # organisation cards made for people's company columns
    created_at: dt.datetime
    finished_at: dt.datetime | None
    reverted_at: dt.datetime | None

    @staticmethod
    def from_job(job: ImportJob) -> dict[str, Any]:
        return {
            "id": job.pk, "file_name": job.file_name, "format": job.format, "kind": job.kind, "status": job.status,
            "message": job.message_text, "message_code": job.message_code, "message_params": job.message_params, "on_duplicate": job.on_duplicate, "region": job.region, "strict": job.strict,
            "keep_going": job.keep_going, "mapping": job.mapping, "rows_read": job.rows_read, "rows_total": job.rows_total,
            "created": job.created_count, "updated": job.updated_count, "skipped": job.skipped_count,
            "errors": job.error_count, "values_left_out": job.left_out_count,
            "phones_left_out": job.phones_left_out, "organizations_created": job.organizations_created, "created_at": job.created_at,
            "finished_at": job.finished_at, "reverted_at": job.reverted_at,
        }


class ImportJobList(Schema):
    items: list[ImportJobOut]
    count: int


class MappingIn(Schema):
    mapping: dict[str, Any] = Field(..., description='{"column": "target"}; "" ignores a column')
    kind: str | None = Field(None, description="organizations, people, or a registered kind: products, orders, invoices, payments")
    on_duplicate: str | None = None
    region: str | None = Field(None, max_length=2)
    keep_going: bool | None = Field(None, description="read on past a CSV line that breaks the file's layout")


class ImportProblemOut(Schema):
    column: str
    code: str  # stable: what a client tests (see docs/imports.md)
    params: dict[str, Any]
    reason: str  # in the language of the request


class PreviewRowOut(Schema):
    row: int
    name: str
    action: str
    problems: list[ImportProblemOut]


class ImportErrorOut(Schema):
    row: int
    column: str
    code: str  # "" on rows from before codes: ``reason`` is then as written
    params: dict[str, Any]
    reason: str  # in the language of the request
    value: str
    row_imported: bool  # True: the row was imported without this value


class ImportErrorList(Schema):
    items: list[ImportErrorOut]
    count: int


class PreviewOut(Schema):
    job: ImportJobOut
    rows: list[PreviewRowOut]


class RevertOut(Schema):
    deleted: int
    restored: int
    kept: int
    facts_removed: int


class ExportRecordOut(Schema):
    id: int
    user: str
    kind: str
    format: str
    filters: dict[str, Any]
    rows: int
    channel: str
    created_at: dt.datetime

    @staticmethod
    def from_record(record: ExportRecord) -> dict[str, Any]:
        return {
            "id": record.pk, "user": record.user.get_username(), "kind": record.kind, "format": record.format,
            "filters": record.filters, "rows": record.rows, "channel": record.channel, "created_at": record.created_at,
        }


class ExportRecordList(Schema):
    items: list[ExportRecordOut]
    count: int
