"""Qualification of prospects and targets: intent, purchasing power, timeframe, budget, authority."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Intent(models.TextChoices):
    UNKNOWN = "", _("Not assessed")
    NONE = "none", _("No purchase intent")
    UNCLEAR = "unclear", _("Unclear intent")
    CLEAR = "clear", _("Clear intent")


class Power(models.TextChoices):
    UNKNOWN = "", _("Not assessed")
    WEAK = "weak", _("Weak purchasing power")
    STRONG = "strong", _("Strong purchasing power")


class Timeframe(models.TextChoices):
    UNKNOWN = "", _("Not known")
    NOW = "now", _("This month")  # near term
    QUARTER = "quarter", _("Within three months")  # near term
    YEAR = "year", _("Within a year")
    LATER = "later", _("Not now: later")  # cannot buy now; park and check back


NEAR_TERM = (Timeframe.NOW, Timeframe.QUARTER)


class Budget(models.TextChoices):
    UNKNOWN = "", _("Not known")
    NONE = "none", _("No budget")
    PLANNED = "planned", _("Budget being planned")
    APPROVED = "approved", _("Budget approved")


class Authority(models.TextChoices):
    UNKNOWN = "", _("Not known")
    DECIDES = "yes", _("Our contact decides")
    INFLUENCES = "no", _("Our contact does not decide")


class Qualification(models.Model):
    """How ready a prospect or target is to buy; drives the recommended treatment on the card.

    One row per card, replaced as the rep learns more; ``version`` guards concurrent edits.
    """

    card = models.OneToOneField("cards.Card", on_delete=models.CASCADE, related_name="qualification", primary_key=True)
    intent = models.CharField(_("purchase intent"), max_length=8, choices=Intent.choices, blank=True)
    power = models.CharField(_("purchasing power"), max_length=8, choices=Power.choices, blank=True)
    timeframe = models.CharField(_("timeframe"), max_length=8, choices=Timeframe.choices, blank=True)
    budget = models.CharField(_("budget"), max_length=8, choices=Budget.choices, blank=True)
    authority = models.CharField(_("decision maker"), max_length=3, choices=Authority.choices, blank=True)
    check_back_on = models.DateField(_("check back on"), null=True, blank=True)  # for parked prospects
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"qualification of card {self.card_id}"
