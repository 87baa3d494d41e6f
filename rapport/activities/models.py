"""Activities: calls, visits, meetings, messages and notes logged against customer cards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Note")
    GIFT = "gift", _("Gift")
    EVENT = "event", _("Event")


class Activity(models.Model):
    """Something that happened with one or more customers, written by a user."""

    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    summary = models.CharField(_("summary"), max_length=300)
    details = models.TextField(_("details"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities")
    recorded_at = models.DateTimeField(default=timezone.now)
    cards = models.ManyToManyField("cards.Card", through="Participant", related_name="activities")
    colleagues = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"


class Participant(models.Model):
    """A card taking part in an activity."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participants")
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="participations")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["card", "activity"], name="participant_unique")]
