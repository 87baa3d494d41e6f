"""Legal bases and consents per person and purpose, tombstones of erased people, erasures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Basis(models.TextChoices):
    """GDPR art. 6 and 9(2) grounds. Which of them may justify special-category items is a setting."""

    EXPLICIT_CONSENT = "explicit_consent", _("Explicit consent")  # art. 9(2)(a): needs date and wording
    CONSENT = "consent", _("Consent")  # art. 6(1)(a)
    CONTRACT = "contract", _("Contract")  # art. 6(1)(b)
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")  # art. 6(1)(c)
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")  # art. 6(1)(f)
    MADE_PUBLIC = "made_public", _("Made public by the person")  # art. 9(2)(e)
    EMPLOYMENT_LAW = "employment_law", _("Employment and social-security law")  # art. 9(2)(b)
    LEGAL_CLAIMS = "legal_claims", _("Legal claims")  # art. 9(2)(f)
    VITAL_INTERESTS = "vital_interests", _("Vital interests")  # art. 9(2)(c)


class Purpose(models.TextChoices):
    """Why the company processes a person's data."""

    SALES = "sales", _("Managing the customer relationship")
    MARKETING = "marketing", _("Marketing messages")
    PROFILING = "profiling", _("Profiling and segmentation")
    SPECIAL = "special", _("Special-category data")  # art. 9 items recorded on the card


class ConsentStatus(models.TextChoices):
    GIVEN = "given", _("Given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LegalBasis(models.Model):
    """The ground on which the company processes a person's data for one purpose (and, for special
    items, for one item). A withdrawal is a new row's ``withdrawn_at``: history is kept."""

    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="legal_bases")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    item_key = models.CharField(max_length=64, blank=True)  # the special item it covers, if any
    basis = models.CharField(_("legal basis"), max_length=24, choices=Basis.choices)
    obtained_at = models.DateField(_("obtained on"), null=True, blank=True)
    wording = models.TextField(_("wording shown to the person"), blank=True)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.GIVEN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    fact = models.ForeignKey("cards.Fact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["purpose", "-recorded_at", "-id"]
        indexes = [models.Index(fields=["card", "purpose", "status"], name="legal_basis_card")]


class Tombstone(models.Model):
    """A keyed hash of one identifier of an erased person: an importer asks ``is_tombstoned``
    before creating a card, so an erased person is not brought back by the next file."""

    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16)  # email | phone | external_id | name
    created_at = models.DateTimeField(default=timezone.now)


class Erasure(models.Model):
    """That a card was erased, when, by whom and under which pseudonym (never the identity)."""

    card_id_hash = models.CharField(max_length=40, unique=True)  # pseudonym of the card
    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    summary = models.JSONField(default=dict)  # counts of what was removed or anonymised
