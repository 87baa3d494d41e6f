"""Keeping the search index in step with cards. Called by the card services after each write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import phonenumbers

from rapport.core.text import fold, has_han, pinyin_words, words
from rapport.search.models import Term, Variant

if TYPE_CHECKING:
    from rapport.cards.models import Card

NAME_WEIGHT = 3
CONTACT_WEIGHT = 2
OTHER_WEIGHT = 1
MIN_TYPO_LENGTH = 4  # shorter words have too many one-typo neighbours to be useful


def deletes(word: str) -> set[str]:
    """The word with each single character removed: two words one edit apart share one of these."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def phone_terms(e164: str) -> list[str]:
    """Digits of the international form and of the national number, so both ways of typing match."""
    digits = e164.lstrip("+")
    try:
        national = str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        national = digits
    return [digits, national] if national != digits else [digits]


def card_terms(
    *, display_name: str, given_name: str = "", family_name: str = "", local_name: str = "",
    emails: Iterable[str] = (), phones: Iterable[str] = (),
) -> dict[str, int]:
    """Every search term of a card with its weight."""
    terms: dict[str, int] = {}

    def put(term: str, weight: int) -> None:
        term = term[:64]
        if term and terms.get(term, 0) < weight:
            terms[term] = weight

    for text in (display_name, given_name, family_name, local_name):
        for word in words(text):
            put(word, NAME_WEIGHT)
        if has_han(text):
            syllables = pinyin_words(text)
            for syllable in syllables:
                put(syllable, NAME_WEIGHT)
            put("".join(syllables), NAME_WEIGHT)
            for ch in text:
                if has_han(ch):
                    put(ch, NAME_WEIGHT)
    for email in emails:
        address = fold(email)
        put(address, CONTACT_WEIGHT)
        local, _, domain = address.partition("@")
        for word in words(local):
            put(word, OTHER_WEIGHT)
        put(domain, OTHER_WEIGHT)
    for e164 in phones:
        for digits in phone_terms(e164):
            put(digits, CONTACT_WEIGHT)
    return terms


def typo_variants(terms: Iterable[str]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for term in terms:
        if len(term) >= MIN_TYPO_LENGTH and term.isalpha():
            pairs.add((term, term))
            pairs.update((variant, term) for variant in deletes(term))
    return pairs


def index_card(card: "Card") -> None:
    """Replaces the search terms of one card."""
    terms = card_terms(
        display_name=card.display_name,
        given_name=card.given_name,
        family_name=card.family_name,
        local_name=card.local_name,
        emails=[e.address for e in card.emails.all()],
        phones=[p.e164 for p in card.phones.all()],
    )
    scope = {"kind": card.kind, "archived": card.archived_at is not None, "owner_id": card.owner_id, "team_id": card.team_id}
    Term.objects.filter(card_id=card.pk).delete()
    Term.objects.bulk_create(Term(term=t, card_id=card.pk, weight=w, **scope) for t, w in terms.items())
    Variant.objects.bulk_create(
        (Variant(variant=v, word=w) for v, w in typo_variants(terms)), ignore_conflicts=True
    )


def reindex_scope(card: "Card") -> None:
    """Copies a card's archived flag, owner and team onto its index rows (after archiving, reassigning)."""
    Term.objects.filter(card_id=card.pk).update(
        archived=card.archived_at is not None, owner_id=card.owner_id, team_id=card.team_id
    )


def unindex_card(card_id: int) -> None:
    Term.objects.filter(card_id=card_id).delete()
