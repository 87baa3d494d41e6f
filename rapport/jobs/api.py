"""REST endpoints of background jobs: a job's progress and outcome, and the list of the jobs a
user may see (theirs; a manager's team's; every job for an administrator)."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router

from rapport.core.http import AuthedHttpRequest
from rapport.core.pagination import PageParams
from rapport.jobs import selectors
from rapport.jobs.models import Job, Kind
from rapport.jobs.schemas import BackgroundJobList, BackgroundJobOut

router = Router(tags=["jobs"])


def job_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk, "kind": job.kind, "kind_label": str(job.get_kind_display()), "status": job.status,
        "status_label": str(job.get_status_display()), "user": job.user.get_username() if job.user else None,
        "progress_done": job.progress_done, "progress_total": job.progress_total, "percent": job.percent,
        "result": job.result, "error": job.error_text, "attempts": job.attempts, "ref": job.ref,
        "created_at": job.created_at, "started_at": job.started_at, "heartbeat_at": job.heartbeat_at,
        "finished_at": job.finished_at,
    }


@router.get("", response=BackgroundJobList, summary="Background jobs you may see, newest first")
def list_jobs(request: AuthedHttpRequest, page: Query[PageParams], kind: Kind | None = None) -> dict[str, Any]:
    offset, limit = page.clamp()
    jobs = selectors.recent_jobs(request.user, limit=limit, offset=offset, kind=kind)
    return {"count": selectors.count_jobs(request.user, kind=kind), "items": [job_out(j) for j in jobs]}


@router.get("/{job_id}", response=BackgroundJobOut, summary="One background job: its progress and how it ended")
def get_job(request: AuthedHttpRequest, job_id: int) -> dict[str, Any]:
    return job_out(selectors.get_job(request.user, job_id))
