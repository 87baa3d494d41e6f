"""After-sales: satisfaction checks after delivery, complaints and service cases, and referral
requests to satisfied customers (which feed the funnel's referral chains)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.commerce.models import Order


class SatisfactionCheck(models.Model):
    """A satisfaction check due some days after a delivery; a satisfied customer is asked for referrals."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="satisfaction_checks")
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="satisfaction_checks")
    due_on = models.DateField(_("due on"))
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)  # 1 (very unhappy) to 5 (delighted)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["card", "due_on"], name="satisfaction_card")]
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | (Q(score__gte=1) & Q(score__lte=5)), name="satisfaction_score_1_5"),
        ]


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SERVICE = "service", _("Service request")


class ServiceCase(models.Model):
    """A complaint or service case: opened, assigned, due, resolved and how."""

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
    resolution = models.CharField(_("how it was resolved"), max_length=1000, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["card", "resolved_at"], name="service_case_card")]


class ReferralOutcome(models.TextChoices):
    ASKED = "asked", _("Asked")
    GIVEN = "given", _("Gave referrals")
    DECLINED = "declined", _("Declined")


class ReferralRequest(models.Model):
    """A satisfied customer asked for referrals; referred cards join the referral chain."""

    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="referral_requests")
    asked_on = models.DateField(_("asked on"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=8, choices=ReferralOutcome.choices, default=ReferralOutcome.ASKED)
    referred = models.ManyToManyField("cards.Card", related_name="+", blank=True)
    benefit = models.CharField(_("referrer's benefit"), max_length=300, blank=True)  # a discount, a gift…
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-asked_on", "-id"]
