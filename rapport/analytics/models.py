"""What analytics keeps of its own: the promotions whose sales are compared with the weeks before them.

Commerce has price lists (prices valid between two dates, per currency) but nothing that names
a promotion, what it covers and where; the promotions report needs exactly that.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_BASELINE_DAYS = 366


class Promotion(models.Model):
    """A promotion: a period, what it covers (products and/or categories; none: all our products)
    and where (regions and/or countries of the customers; none: everywhere).

    Its sales are compared with a baseline of ``baseline_days`` just before ``starts_on``
    (empty: as many days as the promotion lasts). Promotions are shared by the whole company:
    everyone reads them, managers and administrators write them.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    baseline_days = models.PositiveSmallIntegerField(_("baseline days"), null=True, blank=True)
    products = models.ManyToManyField("commerce.Product", blank=True, related_name="+", verbose_name=_("products"))
    categories = models.JSONField(_("product categories"), default=list, blank=True)  # ["Aceites", …]
    regions = models.JSONField(_("regions"), default=list, blank=True)  # the customer's address region
    countries = models.JSONField(_("countries"), default=list, blank=True)  # ISO 3166-1 alpha-2
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_on", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="promotion_name_not_empty"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="promotion_dates_in_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def baseline_length(self) -> int:
        return self.baseline_days or self.days

    @property
    def baseline_start(self) -> dt.date:
        return self.starts_on - dt.timedelta(days=self.baseline_length)

    @property
    def baseline_end(self) -> dt.date:
        return self.starts_on - dt.timedelta(days=1)
