"""Keeping the search index in step with cards. Called by the card services after each write."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable
from urllib.parse import urlsplit

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


# Second-level labels under which registrations sit (example.co.uk, example.com.es): a domain
# ending in one of these is not a company's own domain.
_SHARED_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "gob", "edu", "ac", "or", "ne", "go", "nom"})
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")


def domains_of(host: str) -> list[str]:
    """A host as search terms: itself and each parent that is still someone's domain
    ("ventas.ariza.es" -> "ventas.ariza.es", "ariza.es"; never "es" or "co.uk")."""
    host = fold(host).strip().strip(".")
    if host.startswith("www."):
        host = host[4:]
    if not _DOMAIN.match(host):
        return []
    labels = host.split(".")
    found = []
    for start in range(len(labels) - 1):
        rest = labels[start:]
        if len(rest) == 2 and rest[0] in _SHARED_SECOND_LEVEL:
            break
        found.append(".".join(rest))
    return found


def website_domain(url: str) -> str:
    """The host of a website address, as its search term ("https://www.ariza.es/x" -> "ariza.es")."""
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    found = domains_of(host)
    return found[0] if found else ""


def card_terms(
    *, display_name: str, given_name: str = "", family_name: str = "", local_name: str = "",
    emails: Iterable[str] = (), phones: Iterable[str] = (), website: str = "",
) -> dict[str, int]:
    """Every search term of a card with its weight. E-mail domains and the website's domain are
    terms of their own (with their parent domains), so a domain finds everyone at it."""
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
        for parent in domains_of(domain)[1:]:
            put(parent, OTHER_WEIGHT)
    if website:
        for domain in domains_of(website_domain(website)):
            put(domain, OTHER_WEIGHT)
    for e164 in phones:
        for digits in phone_terms(e164):
            put(digits, CONTACT_WEIGHT)
    return terms


# Each phone number reversed, in SQL: the digits of an E.164 number (16 characters at most)
# from the last to the first. Indexed (migration 0003, on ``cards_phone``: the database keeps
# it on every write) so that the last digits of a number, as people remember them, are one
# range of that index.
REVERSED_E164 = " || ".join(f"substr(e164, {k}, 1)" for k in range(16, 1, -1))


def reversed_e164_sql(vendor: str) -> str:
    # PostgreSQL compares text by the database's collation, which may ignore punctuation; the
    # index and the range both use byte order.
    return f'(({REVERSED_E164}) COLLATE "C")' if vendor == "postgresql" else f"({REVERSED_E164})"


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
        website=card.website,
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


def index_websites(cards: Iterable[tuple[int, str]]) -> int:
    """Adds the website domain terms of cards indexed without them (``cards.bulk`` loads index
    names, e-mails and phones): (card id, website) pairs; returns how many terms were added."""
    from rapport.cards.models import Card

    wanted = {card_id: domains_of(website_domain(url)) for card_id, url in cards if url}
    wanted = {card_id: found for card_id, found in wanted.items() if found}
    if not wanted:
        return 0
    added = 0
    ids = list(wanted)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        have = set(Term.objects.filter(card_id__in=chunk).values_list("card_id", "term"))
        rows = []
        for card_id, kind, archived_at, owner_id, team_id in Card.objects.filter(pk__in=chunk).values_list(
            "id", "kind", "archived_at", "owner_id", "team_id"
        ):
            for domain in wanted[card_id]:
                if (card_id, domain) not in have:
                    rows.append(Term(term=domain[:64], card_id=card_id, weight=OTHER_WEIGHT, kind=kind,
                                     archived=archived_at is not None, owner_id=owner_id, team_id=team_id))
        Term.objects.bulk_create(rows)
        added += len(rows)
    return added
