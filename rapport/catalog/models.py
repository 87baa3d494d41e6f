"""The information catalog: which facts Rapport can hold about a customer, and where facts come from."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.i18n import pick_label


class ItemType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")  # {"amount": "12.50", "currency": "EUR"}
    DATE = "date", _("Date")  # ISO 8601 date
    CHOICE = "choice", _("Choice")  # one key of the item's choices
    MULTI_CHOICE = "multi_choice", _("Multiple choice")  # a list of choice keys
    URL = "url", _("Web address")
    PHONE = "phone", _("Phone")  # stored in E.164
    EMAIL = "email", _("E-mail")
    PERSON = "person", _("Person reference")  # id of a person card


class Block(models.TextChoices):
    COMPANY = "company", _("Company")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INDIVIDUAL = "individual", _("Individual customer")


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")  # may be shown to anyone who sees the card
    INTERNAL = "internal", _("Internal")  # anyone who sees the card, never outside the company
    CONFIDENTIAL = "confidential", _("Confidential")  # owner, their managers and admins
    SPECIAL = "special", _("Special category")  # GDPR art. 9: only users with sensitive-data clearance


SENSITIVITY_RANK = {
    Sensitivity.PUBLIC: 0,
    Sensitivity.INTERNAL: 1,
    Sensitivity.CONFIDENTIAL: 2,
    Sensitivity.SPECIAL: 3,
}


class InformationItem(models.Model):
    """One kind of fact the team collects (e.g. 'preferred payment', 'spouse name'), shipped as data."""

    key = models.SlugField(max_length=64, unique=True)
    labels = models.JSONField(default=dict)  # {"en": ..., "es": ..., "zh-hans": ..., "ro": ...}
    help = models.JSONField(default=dict, blank=True)
    type = models.CharField(max_length=16, choices=ItemType.choices)
    block = models.CharField(max_length=16, choices=Block.choices)
    sensitivity = models.CharField(max_length=16, choices=Sensitivity.choices, default=Sensitivity.INTERNAL)
    required_for_tiers = models.JSONField(default=list, blank=True)  # e.g. ["A", "B"]
    cost = models.PositiveSmallIntegerField(default=2)  # 1 (cheap to learn) .. 5 (costly)
    choices = models.JSONField(default=list, blank=True)  # [{"key": ..., "labels": {...}}]
    applies_to = models.CharField(max_length=16, default="any")  # organization | person | any
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["block", "position", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def label(self) -> str:
        return pick_label(self.labels)

    def choice_label(self, key: str) -> str:
        for choice in self.choices:
            if choice.get("key") == key:
                return pick_label(choice.get("labels"))
        return key


class SourceGroup(models.TextChoices):
    INTERNAL = "internal", _("Internal source")
    EXTERNAL = "external", _("External source")
    METHOD = "method", _("Prospecting method")
    SYSTEM = "system", _("Recorded in Rapport")


class InformationSource(models.Model):
    """Where a fact came from: an internal record, an external source, or a prospecting method."""

    key = models.SlugField(max_length=64, unique=True)
    labels = models.JSONField(default=dict)
    group = models.CharField(max_length=16, choices=SourceGroup.choices)
    default_confidence = models.PositiveSmallIntegerField(default=60)  # 0..100
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "position", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def label(self) -> str:
        return pick_label(self.labels)
