"""Import jobs (what was read, what it became, what went wrong) and the record of every export."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Format(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    VCARD = "vcard", "vCard"


class OnDuplicate(models.TextChoices):
    SKIP = "skip", _("Skip the row")  # the existing card stays as it is
    MERGE = "merge", _("Add to the existing card")  # new contact points and facts go to it
    CREATE = "create", _("Create a new card anyway")


class Status(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")  # file stored, mapping not yet confirmed
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")  # the file itself could not be read; rows already imported stay
    REVERTED = "reverted", _("Reverted")


STALLED_AFTER = dt.timedelta(minutes=10)


class ImportJob(models.Model):
    """One run of one file: its settings, progress counters and outcome.

    A re-run of the same file is a new job; rows with an external id update the cards the
    earlier job created, so a killed import is resumed by importing the file again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs")
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)  # the upload, for the web wizard
    size_bytes = models.BigIntegerField(default=0)
    format = models.CharField(max_length=8, choices=Format.choices)
    kind = models.CharField(max_length=16)  # organization | person
    mapping = models.JSONField(default=dict, blank=True)  # source column -> target field
    on_duplicate = models.CharField(max_length=8, choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    region = models.CharField(max_length=2, blank=True)  # where phone numbers without +country were typed
    # Strict: a row with any bad value is not imported. Otherwise bad values are left out (and
    # listed in the error file) and the row is imported when what remains still makes a card.
    strict = models.BooleanField(default=False)
    # A CSV line that is not CSV (an unclosed quote) stops the import there, unless this is set:
    # then it is reported as a row not imported and reading goes on after it.
    keep_going = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    message = models.CharField(max_length=500, blank=True)  # why the job failed, or what revert left alone (English)
    # The same as a code and its values (``problems``), shown in the reader's language; empty on
    # jobs from before codes, which show ``message`` as written.
    message_code = models.CharField(max_length=40, blank=True)
    message_params = models.JSONField(default=dict, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # unknown until read for streamed formats
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)  # duplicates left alone (--on-duplicate skip)
    error_count = models.PositiveIntegerField(default=0)  # rows not imported
    left_out_count = models.PositiveIntegerField(default=0)  # rows imported without some of their values
    phones_left_out = models.PositiveIntegerField(default=0)  # phone numbers not kept (listed in the error file)
    organizations_created = models.PositiveIntegerField(default=0)  # for people's company columns, not in created_count
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # last batch written: tells a killed run from a slow one
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="import_job_user")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def problem_count(self) -> int:
        """Rows the error file lists: not imported, or imported with values left out."""
        return self.error_count + self.left_out_count

    @property
    def is_stalled(self) -> bool:
        """Running, but no batch for longer than any batch takes: the process was killed."""
        if self.status != Status.RUNNING:
            return False
        last = self.progress_at or self.started_at or self.created_at
        return timezone.now() - last > STALLED_AFTER

    @property
    def message_text(self) -> str:
        """``message`` in the active language."""
        from rapport.imports.problems import render

        return render(self.message_code, self.message_params, fallback=self.message) if self.message_code else self.message

    @property
    def provenance(self) -> str:
        """The note every fact of this job carries: which import, which file."""
        return f"import #{self.pk}: {self.file_name}"


class Action(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")  # same external id: the row updated the card
    MERGED = "merged", _("Merged")  # same phone or e-mail: the row was added to the card


class ImportedRow(models.Model):
    """What one row of one job did to one card; revert undoes exactly these."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField()  # 1-based data row (a header line is not counted), or the n-th vCard
    card = models.ForeignKey("cards.Card", on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)  # core fields and contact points before an update
    version_after = models.PositiveIntegerField(null=True, blank=True)  # to tell whether someone edited it since

    class Meta:
        ordering = ["row", "id"]
        indexes = [
            models.Index(fields=["job", "row"], name="imported_row_job"),
            models.Index(fields=["card"], name="imported_row_card"),
        ]


class RowError(models.Model):
    """A row that was not imported, and why: the lines of the downloadable error file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)  # in English; ``code`` and ``params`` are what is shown
    value = models.CharField(max_length=200, blank=True)  # the offending value, cut short
    row_imported = models.BooleanField(default=False)  # True: only this value was left out
    # The reason as a code and its values (``problems``); empty on rows from before codes.
    code = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="row_error_job")]

    @property
    def column_label(self) -> str:
        """The column in the active language when the reader named it (a vCard's "phone.2")."""
        from rapport.imports.mapping import column_label

        return column_label(self.column)

    @property
    def reason_text(self) -> str:
        """The reason in the active language (as written, for rows from before codes)."""
        from rapport.imports.problems import render

        return render(self.code, self.params, fallback=self.reason) if self.code else self.reason


class ExportRecord(models.Model):
    """Who exported which list, when, in which format and how many cards it held."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports")
    kind = models.CharField(max_length=16)
    format = models.CharField(max_length=8, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=8, default="web")  # web | api | cli
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="export_record_user")]
