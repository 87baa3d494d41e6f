"""Saved segments (named live filters over cards) and the segmentation dimensions of every card."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    """A named filter over cards, private to its owner or shared with one team.

    ``conditions`` is a list of ``{"field", "value"}`` checked by
    ``rapport.segments.conditions`` on save and again on every use: a condition that has
    become invalid (a deleted catalog item, an item above the user's clearance) refuses the
    segment rather than silently widening it.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=16, blank=True)  # "", organization or person
    conditions = models.JSONField(default=list)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="segments",
        verbose_name=_("shared with team"),
    )  # null: private to the owner
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="segment_name_not_empty")]

    def __str__(self) -> str:
        return self.name


class Dimensions(models.Model):
    """The textbook's segmentation dimensions of one card, recomputed by ``rapport segments refresh``.

    Organisation vs individual is the card's kind; the others are derived from stage,
    qualification, stage history and (once an orders app provides them) orders.
    """

    card = models.OneToOneField("cards.Card", on_delete=models.CASCADE, primary_key=True, related_name="dimensions")
    likely = models.BooleanField(default=True)  # likely customer vs non-customer (lost, or no intent)
    buying = models.BooleanField(default=False)  # customer (buys) vs visitor (only enquired)
    familiar = models.BooleanField(default=False)  # any past transaction
    frequent = models.BooleanField(null=True)  # buys at least as often as the norm of its kind; null: not a buyer
    priority = models.BooleanField(default=False)  # a target, or tier A
    value = models.FloatField(null=True)  # revenue, else estimated potential: the ABC basis
    # No secondary indexes: segments reach this table from the card by primary key, and the
    # refresh rewrites every row, which each extra index would slow down.
    refreshed_at = models.DateTimeField(default=timezone.now)  # when these values last changed
