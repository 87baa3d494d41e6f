"""The search index: normalised terms per card, and a deletion-neighbourhood of the vocabulary for typos."""

from __future__ import annotations

from django.db import models


class Term(models.Model):
    """One normalised token (name part, e-mail, phone digits) pointing at a card."""

    term = models.CharField(max_length=64)
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    # Relevance of this field: names weigh more than e-mail domains.
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["term", "card"], name="search_term_card"),
            models.Index(fields=["card"], name="search_term_by_card"),
        ]


class Variant(models.Model):
    """A vocabulary word with one character deleted (or the word itself): finds words one typo away."""

    variant = models.CharField(max_length=64)
    word = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "word"], name="search_variant_unique")]
