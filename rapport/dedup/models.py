"""Duplicate candidates waiting for review, and merges recorded so they can be undone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CandidateStatus(models.TextChoices):
    PENDING = "pending", _("To review")  # found, nobody has decided yet
    MERGED = "merged", _("Merged")  # the two cards were merged (an undo puts it back to pending)
    NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")  # a person said they differ; never proposed again


class CandidateQuerySet(models.QuerySet["Candidate"]):
    def pending(self) -> "CandidateQuerySet":
        return self.filter(status=CandidateStatus.PENDING)


class Candidate(models.Model):
    """Two cards of the same kind that look like the same customer, with a score and the reasons.

    ``left`` is always the card with the lower id, so a pair is stored once whichever way
    it was found.
    """

    kind = models.CharField(max_length=16)
    left = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.PENDING)
    found_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="dedup_candidate_pair"),
            models.CheckConstraint(condition=Q(left__lt=models.F("right")), name="dedup_candidate_ordered"),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "score"], name="dedup_candidate_queue"),
            models.Index(fields=["right"], name="dedup_candidate_right"),
        ]


class Merge(models.Model):
    """One card (the loser) folded into another (the survivor), with what moved, for undo.

    The loser is archived, never deleted: its id keeps answering, and an undo moves every
    row back and restores both cards' columns as they were before the merge.
    """

    survivor = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    loser = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Candidate, on_delete=models.SET_NULL, null=True, blank=True, related_name="merges")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    # {"moved": [{"model": "cards.Phone", "field": "card", "ids": [...]}, ...],
    #  "survivor_before": {column: value}, "loser_before": {column: value}, "created_shares": [ids]}
    record = models.JSONField(default=dict)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [
            models.Index(fields=["survivor", "merged_at"], name="dedup_merge_survivor"),
            models.Index(fields=["loser", "merged_at"], name="dedup_merge_loser"),
        ]

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class MatchModel(models.Model):
    """The weights the duplicate finder scores one kind of card with, learned from the cards themselves.

    Written by ``rapport dedup --train`` (``services.train``): Fellegi–Sunter m and u
    probabilities estimated by expectation-maximisation, turned into one weight per level of
    each compared field, a prior, and the weights of common names, streets and places (kept
    as hashes, not as the values). The newest row of a kind is the one in use; without one
    the hand-set weights of ``scoring.DEFAULT_WEIGHTS`` apply.
    """

    kind = models.CharField(max_length=16)
    parameters = models.JSONField(default=dict)  # scoring.Model.as_json()
    records = models.PositiveIntegerField(default=0)  # cards it was learned from
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    trained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "-id"], name="dedup_matchmodel_newest")]
