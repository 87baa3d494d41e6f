"""The search index: normalised terms per card, and a deletion-neighbourhood of the vocabulary for typos."""

from __future__ import annotations

from django.db import models


class Term(models.Model):
    """One normalised token (name part, e-mail, phone digits) pointing at a card.

    Each row also carries the card's kind, archived flag, owner and team, so that a search is
    answered from one covering index — visibility included, through the same
    ``Scope.card_q`` as every other query — without visiting the cards table per match. The
    card services re-index a card whenever any of these change.
    """

    term = models.CharField(max_length=64)
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+", db_index=False)
    # Relevance of this field: names weigh more than e-mail domains.
    weight = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=12, default="")
    archived = models.BooleanField(default=False)
    owner_id = models.IntegerField(default=0)
    team_id = models.IntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["term", "card", "weight", "kind", "archived", "owner_id", "team_id"], name="search_term_covering"
            ),
            models.Index(fields=["card", "term"], name="search_term_by_card"),
            # The distinct names a prefix starts, one seek each (``selectors._newest_by_names``);
            # kept small by PostgreSQL's B-tree deduplication of the repeated names.
            models.Index(fields=["term"], condition=models.Q(weight=3), name="search_term_names"),
        ]


class Variant(models.Model):
    """A vocabulary word with one character deleted (or the word itself): finds words one typo away."""

    variant = models.CharField(max_length=64)
    word = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "word"], name="search_variant_unique")]
