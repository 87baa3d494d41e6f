"""The audit log: who did what to which record, when, from which request. Append-only."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """An attempt to change or delete an audit entry."""


class Action(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    ARCHIVE = "archive", _("Archived")
    RESTORE = "restore", _("Restored")
    DELETE = "delete", _("Deleted")
    READ = "read", _("Read sensitive data")  # a confidential or special item was shown
    EXPORT = "export", _("Exported")
    DENIED = "denied", _("Access denied")  # answered 404/403: the record is out of the user's reach
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    LOGOUT = "logout", _("Signed out")
    PERMISSION = "permission", _("Permission changed")
    CONSENT = "consent", _("Consent or legal basis recorded")
    ERASE = "erase", _("Erased (data-subject request)")
    PURGE = "purge", _("Purged by a retention rule")
    MERGE = "merge", _("Merged")
    IMPORT = "import", _("Imported")
    KEYS = "keys", _("Encryption keys rotated")


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly("Audit entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnly("Audit entries cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("Audit entries cannot be changed.")


class AuditEntry(models.Model):
    """One event. Written by the action itself through ``rapport.audit.services.record``.

    ``actor_id`` is a plain number, not a foreign key: an entry outlives the user it names.
    ``old`` and ``new`` never hold special-category values (those are recorded as sealed).
    ``redacted`` marks entries whose subject was erased: values removed, record pseudonymised.
    """

    at = models.DateTimeField(default=timezone.now)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True)  # username at the time
    action = models.CharField(max_length=16, choices=Action.choices)
    record_type = models.CharField(max_length=64, blank=True)  # "cards.card", "accounts.user", …
    record_id = models.CharField(max_length=64, blank=True)
    field = models.CharField(max_length=100, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    redacted = models.BooleanField(default=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["record_type", "record_id", "at"], name="audit_record"),
            models.Index(fields=["actor_id", "at"], name="audit_actor"),
            models.Index(fields=["action", "at"], name="audit_action"),
            models.Index(fields=["at"], name="audit_at"),
        ]
        default_permissions = ("view",)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("Audit entries cannot be deleted.")


class Maintenance(models.Model):
    """Present only inside the sanctioned maintenance operations (retention purge, the
    redaction of an erased subject, and the redaction of an item's values once it becomes
    special). Database triggers refuse UPDATE and DELETE on the audit table while this table
    is empty."""

    started_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=32)
