"""The agenda: tasks and reminders of each rep, the keep-in-touch clock of each customer, and
each user's calendar feed and digest settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a task comes from: typed by a person, or made by the daily reminder run."""

    MANUAL = "manual", _("Task")
    BIRTHDAY = "birthday", _("Birthday")
    SPOUSE_BIRTHDAY = "spouse_birthday", _("Spouse's birthday")
    WEDDING = "wedding", _("Wedding anniversary")
    FAMILY_DATE = "family_date", _("Family date")
    COMPANY_ANNIVERSARY = "company_anniversary", _("Company anniversary")
    HOLIDAY = "holiday", _("Holiday greeting")
    CADENCE = "cadence", _("Keep in touch")
    OTHER = "other", _("Reminder")  # from another app's daily source (silent regulars…)


# The dates of a card's facts: replaced, moved or removed when the facts change.
DATE_SOURCES = (Source.BIRTHDAY, Source.SPOUSE_BIRTHDAY, Source.WEDDING, Source.FAMILY_DATE, Source.COMPANY_ANNIVERSARY)


class Recurrence(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")
    YEARLY = "yearly", _("Every year")


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> "TaskQuerySet":
        return self.filter(done_at__isnull=True)

    def made(self) -> "TaskQuerySet":
        """Reminders of the daily run, not typed by anyone."""
        return self.exclude(source=Source.MANUAL)


class Task(models.Model):
    """Something a user has to do by a date: a follow-up typed by a person, or a reminder the
    daily run made (a birthday, a holiday greeting, a customer not heard from for too long)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agenda_tasks")
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, null=True, blank=True, related_name="agenda_tasks")
    deal = models.ForeignKey("deals.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    visit = models.ForeignKey("visits.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    title = models.CharField(_("what"), max_length=300)
    note = models.TextField(_("note"), blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    why = models.CharField(max_length=500, blank=True)  # the reason a made reminder exists
    suggestion = models.TextField(blank=True)  # a greeting to send, in the customer's language
    key = models.CharField(max_length=120, blank=True)  # made reminders: one per key and owner
    due_on = models.DateField(_("due on"))
    due_time = models.TimeField(_("at"), null=True, blank=True)
    recurrence = models.CharField(_("repeats"), max_length=8, choices=Recurrence.choices, blank=True)
    snoozed = models.PositiveSmallIntegerField(default=0)  # how many times put off
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    detail = models.JSONField(default=dict, blank=True)  # e.g. a holiday's country and how many contacts
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "due_time", "id"]
        indexes = [
            # A rep's Today: open work by date; a manager's view of the team's overdue work.
            models.Index(fields=["owner", "done_at", "due_on"], name="agenda_task_todo"),
            models.Index(fields=["card", "source"], name="agenda_task_card"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], condition=~Q(key=""), name="agenda_task_owner_key"),
        ]

    def __str__(self) -> str:
        return self.title


class ContactClock(models.Model):
    """When we last heard from a customer: the keep-in-touch clock, moved by any logged activity."""

    card = models.OneToOneField("cards.Card", on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_contact_on = models.DateField(null=True, blank=True)


class Mark(models.Model):
    """How far a daily job has read (the activities already counted on the clocks)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()
    number = models.BigIntegerField(default=0)


class AgendaProfile(models.Model):
    """A user's agenda settings: time zone, the daily digest and the secret calendar address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="agenda_profile")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    digest = models.BooleanField(_("daily e-mail"), default=True)
    last_digest_on = models.DateField(null=True, blank=True)
    feed_hash = models.CharField(max_length=64, blank=True, db_index=True)  # SHA-256 of the secret in the address
    feed_created_at = models.DateTimeField(null=True, blank=True)
