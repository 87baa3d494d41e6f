"""Reads of background jobs: whose jobs a user may see, one job, the latest of a kind.

A rep sees the jobs they asked for; a manager theirs and their teams' people's; an
administrator every job, the schedule's runs included (they have no asker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from rapport.core.errors import NotFound
from rapport.core.visibility import scope_for
from rapport.jobs.models import Job

if TYPE_CHECKING:
    from rapport.accounts.models import User


def visible_jobs(user: User) -> QuerySet[Job]:
    scope = scope_for(user)
    jobs = Job.objects.select_related("user")
    if scope.role == "admin":
        return jobs
    mine = Q(user_id=user.pk)
    if scope.managed_user_ids:
        mine |= Q(user_id__in=scope.managed_user_ids)
    return jobs.filter(mine)


def get_job(user: User, job_id: int) -> Job:
    """One job the user may see; any other answers like a missing one."""
    job = visible_jobs(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("job")
    return job


def recent_jobs(user: User, *, limit: int = 50, offset: int = 0, kind: str | None = None) -> list[Job]:
    jobs = visible_jobs(user)
    if kind:
        jobs = jobs.filter(kind=kind)
    return list(jobs.order_by("-created_at", "-id")[offset:offset + limit])


def count_jobs(user: User, *, kind: str | None = None) -> int:
    jobs = visible_jobs(user)
    return (jobs.filter(kind=kind) if kind else jobs).count()


def job_of_import(user: User, import_job_id: int) -> Job | None:
    """The background job running an import, if the import ran in the worker."""
    return visible_jobs(user).filter(kind="import", ref=import_job_id).order_by("-id").first()
