"""After-sales: satisfaction checks after delivery, complaints and service cases, and referral
requests to satisfied customers (which feed the funnel's referral chains)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.commerce.models import Order

SATISFIED = 4  # a score from here up is a satisfied customer, worth asking for referrals


class SatisfactionCheckQuerySet(models.QuerySet["SatisfactionCheck"]):
    def pending(self) -> SatisfactionCheckQuerySet:
        """Checks whose result is not recorded yet."""
        return self.filter(done_at__isnull=True)

    def due(self, today: dt.date) -> SatisfactionCheckQuerySet:
        """Pending checks whose day has come (overdue ones included)."""
        return self.pending().filter(due_on__lte=today)

    def done(self) -> SatisfactionCheckQuerySet:
        return self.filter(done_at__isnull=False)


class SatisfactionCheck(models.Model):
    """A satisfaction check due some days after a delivery; a satisfied customer is asked for referrals.

    One per order. ``in_use_on`` completes the delivery's story (delivered and accepted are on
    the order): the day the customer started using what they bought.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="satisfaction_checks")
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="satisfaction_checks")
    due_on = models.DateField(_("due on"))
    in_use_on = models.DateField(_("in use since"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)  # 1 (very unhappy) to 5 (delighted)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = SatisfactionCheckQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["card", "due_on"], name="satisfaction_card"),
            # The due list: pending checks by day.
            models.Index(fields=["due_on", "card"], name="satisfaction_pending", condition=Q(done_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | (Q(score__gte=1) & Q(score__lte=5)), name="satisfaction_score_1_5"),
            # Scheduling runs nightly and may overlap a manual run: the database keeps it to one.
            models.UniqueConstraint(fields=["order"], name="satisfaction_once_per_order"),
        ]

    def __str__(self) -> str:
        return f"satisfaction check of order {self.order_id}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_satisfied(self) -> bool:
        return self.score is not None and self.score >= SATISFIED


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")  # the customer is unhappy with something we did
    SERVICE = "service", _("Service request")  # the customer needs help: installation, repair, training


class ServiceCaseQuerySet(models.QuerySet["ServiceCase"]):
    def open(self) -> ServiceCaseQuerySet:
        return self.filter(resolved_at__isnull=True)

    def resolved(self) -> ServiceCaseQuerySet:
        return self.filter(resolved_at__isnull=False)


class ServiceCase(models.Model):
    """A complaint or service case: opened, assigned, due, resolved and how.

    ``version`` guards concurrent edits; a resolved case is closed for good.
    """

    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="service_cases")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="service_cases")
    kind = models.CharField(_("kind"), max_length=10, choices=CaseKind.choices, default=CaseKind.COMPLAINT)
    subject = models.CharField(_("subject"), max_length=300)
    details = models.TextField(_("details"), blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    due_on = models.DateField(_("due on"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolution = models.CharField(_("how it was resolved"), max_length=1000, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ServiceCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["card", "resolved_at"], name="service_case_card")]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ReferralOutcome(models.TextChoices):
    ASKED = "asked", _("Asked")  # waiting for the customer's answer
    GIVEN = "given", _("Gave referrals")  # the referred cards joined the referral chain
    DECLINED = "declined", _("Declined")


class ReferralRequest(models.Model):
    """A satisfied customer asked for referrals; referred cards join the referral chain.

    ``benefit`` is what the referrer gets for it (a discount, a gift…), as the company's
    promotion policy offers it.
    """

    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="referral_requests")
    satisfaction_check = models.ForeignKey(
        SatisfactionCheck, on_delete=models.SET_NULL, null=True, blank=True, related_name="referral_requests"
    )
    asked_on = models.DateField(_("asked on"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=8, choices=ReferralOutcome.choices, default=ReferralOutcome.ASKED)
    outcome_on = models.DateField(_("answered on"), null=True, blank=True)
    referred = models.ManyToManyField("cards.Card", related_name="+", blank=True)
    benefit = models.CharField(_("referrer's benefit"), max_length=300, blank=True)  # a discount, a gift…
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-asked_on", "-id"]

    def __str__(self) -> str:
        return f"referral request of card {self.card_id}"
