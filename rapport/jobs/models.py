"""Background jobs: work that runs in ``rapport worker`` rather than in a web request (imports,
exports of long lists, duplicate scans, segment refresh, the nightly funnel rules, the agenda's
reminders and digest).

The queue itself (Huey, ``rapport.jobs.queue``) only carries a job's id; this table is what the
web pages and the API show: who asked, how far it got, how it ended.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_lazy as _, pgettext_lazy


class Kind(models.TextChoices):
    """What a job does; each has its runner in ``rapport.jobs.kinds``."""

    IMPORT = "import", pgettext_lazy("background job", "Import")
    EXPORT = "export", pgettext_lazy("background job", "Export")
    DEDUP_SCAN = "dedup_scan", _("Duplicate search")
    SEGMENTS_REFRESH = "segments_refresh", _("Segment refresh")
    FUNNEL_RULES = "funnel_rules", _("Automatic stage moves")
    AGENDA_REMIND = "agenda_remind", _("Daily reminders")
    AGENDA_DIGEST = "agenda_digest", _("Daily e-mail digest")


class Status(models.TextChoices):
    QUEUED = "queued", _("Waiting")  # in the queue, no worker has taken it yet (or it waits for a retry)
    RUNNING = "running", _("Running")  # a worker runs it and beats its heartbeat
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")  # ended with an error, or its worker died (heartbeat too old)


FINISHED = (Status.DONE, Status.FAILED)


class JobQuerySet(models.QuerySet["Job"]):
    def unfinished(self) -> "JobQuerySet":
        return self.filter(status__in=(Status.QUEUED, Status.RUNNING))


class Job(models.Model):
    """One run of background work, with its progress and outcome.

    ``user`` is who asked (none for the schedule's runs, which only administrators see);
    ``ref`` points at the record the job works on where there is one (the ``ImportJob`` of an
    import). ``heartbeat_at`` is moved by the running worker every few seconds: a running job
    whose heartbeat is older than ``RAPPORT_JOB_DEAD_AFTER_SECONDS`` lost its worker.
    """

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    ref = models.BigIntegerField(null=True, blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)  # unknown until the work is measured
    result = models.JSONField(default=dict, blank=True)  # counts of what it did, shown on its page
    error = models.TextField(blank=True)  # in the asker's language, or an English text translated when shown
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="jobs_running_heartbeat"),
            models.Index(fields=["user", "-created_at"], name="jobs_user_recent"),
            models.Index(fields=["kind", "ref"], name="jobs_kind_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return max(0, min(100, round(100 * self.progress_done / self.progress_total)))

    @property
    def error_text(self) -> str:
        """The error in the reader's language: texts stored in English are catalog entries."""
        return gettext(self.error) if self.error else ""
