"""Pages of background jobs: the list of the jobs a user may see, and one job's progress,
polled by htmx while it waits or runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rapport.core.http import AuthedHttpRequest
from rapport.core.web import fragment_or_page, web_view
from rapport.jobs import selectors
from rapport.jobs.models import Job

PAGE_SIZE = 50


def _context(job: Job) -> dict[str, Any]:
    return {"job": job, "polling": not job.finished, "export_keep_hours": settings.RAPPORT_EXPORT_KEEP_HOURS}


@require_GET
@web_view
def job_list(request: AuthedHttpRequest) -> HttpResponse:
    jobs = selectors.recent_jobs(request.user, limit=PAGE_SIZE)
    return render(request, "jobs/list.html", {"jobs": jobs})


@require_GET
@web_view
def job_detail(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job = selectors.get_job(request.user, job_id)
    return fragment_or_page(request, "jobs/_progress.html", "jobs/detail.html", _context(job))
