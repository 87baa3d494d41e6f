"""The churn, RFM and persistence reports as CSV or XLSX (the reports described by a ``ReportSpec``
are written by ``rapport.analytics.reports.write``).

Cells go through the spreadsheet-safe writers of the imports app (formula-like text is
neutralised), and every export is recorded in the audit log with its filters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import IO, Any

from rapport.analytics.selectors import CHURN_COLUMNS, ChurnReport
from rapport.analytics.selectors import RFM_COLUMNS, RfmReport
from rapport.analytics.retention import Retention
from rapport.analytics.selectors import RETENTION_COLUMNS, retention_rows

FORMATS = ("csv", "xlsx")


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_churn(report: ChurnReport, stream: IO[bytes], fmt: str) -> int:
    """Writes the rows to ``stream``; returns how many."""
    from rapport.imports.writers import CsvWriter, XlsxWriter

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == "csv" else XlsxWriter(stream, title="churn")
    writer.header(list(CHURN_COLUMNS))
    for row in report.rows:
        writer.row([_cell(v) for v in row.values()])
    writer.close()
    return len(report.rows)


def record_export(*, user: Any, report: ChurnReport, fmt: str, channel: str, team: int | None, rep: int | None,
                  segment: int | None = None) -> None:
    from rapport.audit.services import record

    record(action="export", record_type="analytics.churn", actor=user, detail={
        "report": "churn", "format": fmt, "channel": channel, "as_of": report.as_of.isoformat(), "team": team, "rep": rep,
        "segment": segment, "rows": len(report.rows),
    })


def write_rfm(report: RfmReport, stream: IO[bytes], fmt: str) -> int:
    """The RFM report, ``RFM_COLUMNS`` in order; writes the rows to ``stream`` and returns how many."""
    from rapport.imports.writers import CsvWriter, XlsxWriter

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == "csv" else XlsxWriter(stream, title="rfm")
    writer.header(list(RFM_COLUMNS))
    for row in report.rows:
        writer.row([_rfm_cell(v, fmt) for v in row.values()])
    writer.close()
    return len(report.rows)


def _rfm_cell(value: Any, fmt: str) -> Any:
    if isinstance(value, Decimal):  # exact text in CSV, as the API writes it; a number in a spreadsheet
        return float(value) if fmt == "xlsx" else str(value)
    return _cell(value)


def record_rfm_export(*, user: Any, report: RfmReport, fmt: str, channel: str, team: int | None, rep: int | None) -> None:
    from rapport.audit.services import record

    record(action="export", record_type="analytics.rfm", actor=user, detail={
        "report": "rfm", "format": fmt, "channel": channel, "as_of": report.as_of.isoformat(), "months": report.months,
        "team": team, "rep": rep, "rows": len(report.rows),
    })


def write_retention(report: Retention[int], stream: IO[bytes], fmt: str) -> int:
    """The persistence report, ``RETENTION_COLUMNS`` in order, one row per cohort and month
    offset; writes the rows to ``stream`` and returns how many."""
    from rapport.imports.writers import CsvWriter, XlsxWriter

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    writer: CsvWriter | XlsxWriter = CsvWriter(stream) if fmt == "csv" else XlsxWriter(stream, title="persistence")
    writer.header(list(RETENTION_COLUMNS))
    rows = retention_rows(report)
    for row in rows:
        writer.row([_cell(v) for v in row])
    writer.close()
    return len(rows)


def record_retention_export(*, user: Any, report: Retention[int], fmt: str, channel: str, cohorts: int,
                            team: int | None, rep: int | None, segment: int | None = None) -> None:
    from rapport.audit.services import record

    record(action="export", record_type="analytics.persistence", actor=user, detail={
        "report": "persistence", "format": fmt, "channel": channel, "as_of": report.as_of.isoformat(),
        "cohorts": cohorts, "team": team, "rep": rep, "segment": segment, "rows": len(report.cohorts),
    })
