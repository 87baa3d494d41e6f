"""What each kind of job does: one function per kind, calling the use-case of the app that owns
the work. Imported by the worker when a job runs, never at the top of a domain module: the
domain apps stay unaware of the queue, and this module reaches them only inside its functions.

A runner gets the job (its ``user``, ``params`` and ``ref``) and a ``report(done, total)``
callback for progress, and returns the counts shown on the job's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from rapport.core.errors import ValidationError
from rapport.jobs.models import Job, Kind

Report = Callable[[int, "int | None"], None]
Runner = Callable[[Job, Report], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    run: Runner
    retry: bool = True  # whether a passing error (database busy, network) may run it again from the start
    needs_user: bool = False


def _import(job: Job, report: Report) -> dict[str, Any]:
    from rapport.imports import services
    from rapport.imports.models import Status

    if job.ref is None:
        raise ValidationError.single("ref", "An import job names its import.")
    done = services.run_claimed(import_job_id=job.ref, progress=lambda ij: report(ij.rows_read, ij.rows_total))
    if done.status == Status.FAILED:
        raise ValidationError(done.message or "The import failed.")
    return {"rows": done.rows_read, "created": done.created_count, "updated": done.updated_count,
            "skipped": done.skipped_count, "errors": done.error_count}


def _export(job: Job, report: Report) -> dict[str, Any]:
    from rapport.imports import services

    assert job.user is not None  # needs_user
    return services.run_queued_export(user=job.user, job_id=job.pk, params=job.params, progress=report)


def _dedup_scan(job: Job, report: Report) -> dict[str, Any]:
    from rapport.dedup import services

    assert job.user is not None  # needs_user
    result = services.scan(user=job.user, kind=str(job.params.get("kind") or "person"))
    return {"found": len(result.pairs), "new": result.created}


def _segments_refresh(job: Job, report: Report) -> dict[str, Any]:
    from rapport.segments import services

    steps = {"values": 1, "dimensions": 2}

    def progress(step: str, _count: int) -> None:
        report(steps.get(step, 0), 3)

    result = services.refresh(progress=progress)
    return {"cards": result.cards, "valued": result.valued}


def _funnel_rules(job: Job, report: Report) -> dict[str, Any]:
    from rapport.funnel import rules
    from rapport.funnel.services import apply_order_evidence

    if rules.order_evidence() is None:
        return {"moves": 0}
    return {"moves": len(apply_order_evidence())}


def _agenda_remind(job: Job, report: Report) -> dict[str, Any]:
    from rapport.agenda import reminders

    return dict(reminders.generate())


def _agenda_digest(job: Job, report: Report) -> dict[str, Any]:
    from rapport.agenda import digest

    return dict(digest.send_digests(base_url=settings.RAPPORT_BASE_URL))


KINDS: dict[str, JobKind] = {
    # An import that failed half-way resumes by importing the same file again (external ids
    # update what is there): never run again from the start behind the user's back.
    Kind.IMPORT: JobKind(_import, retry=False, needs_user=True),
    Kind.EXPORT: JobKind(_export, needs_user=True),  # a second run writes a new file; the first one's is removed
    Kind.DEDUP_SCAN: JobKind(_dedup_scan, needs_user=True),
    Kind.SEGMENTS_REFRESH: JobKind(_segments_refresh),
    Kind.FUNNEL_RULES: JobKind(_funnel_rules),
    Kind.AGENDA_REMIND: JobKind(_agenda_remind),  # idempotent: a second run changes nothing
    Kind.AGENDA_DIGEST: JobKind(_agenda_digest, retry=False),  # a retry could send someone's day twice
}


def kind_of(key: str) -> JobKind:
    try:
        return KINDS[key]
    except KeyError:
        raise ValidationError.single("kind", f"Expected one of: {', '.join(KINDS)}.") from None
