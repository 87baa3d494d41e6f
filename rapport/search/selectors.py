"""One search box over names (any script), e-mails and phone numbers: prefix, typo-tolerant, ranked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from rapport.cards.models import Card
from rapport.core.text import fold, has_han, pinyin_words, words
from rapport.core.visibility import scope_for, visible_to
from rapport.search.models import Term, Variant
from rapport.search.services import MIN_TYPO_LENGTH, deletes

_PHONE_LIKE = re.compile(r"^[\d\s()+.\-/]{5,}$")
MAX_TOKENS = 5
EXACT, PREFIX, TYPO = 3, 2, 1
PROBE_LIMIT = 2_000  # up to this many candidates, the next word is checked on those cards only
MAX_MATCHES = 100_000  # index rows read per word: a bound on work for one- or two-letter prefixes


@dataclass(frozen=True)
class Token:
    """One part of the query: the text and how it may match index terms."""

    text: str
    prefix: bool = True
    typo: bool = True


def tokens_of(query: str) -> list[Token]:
    query = query.strip()[:200]
    if not query:
        return []
    if _PHONE_LIKE.match(query) and sum(ch.isdigit() for ch in query) >= 5:
        digits = re.sub(r"\D", "", query)
        if digits.startswith("00"):
            digits = digits[2:]
        return [Token(digits.lstrip("0") or digits, typo=False)]
    if "@" in query and " " not in query:
        return [Token(fold(query), typo=False)]
    found: list[Token] = []
    for word in words(query):
        if has_han(word):
            found.append(Token(word, typo=False))
        else:
            found.append(Token(word, prefix=len(word) >= 2 or word.isdigit(), typo=len(word) >= MIN_TYPO_LENGTH))
    if not found:
        found = [Token(s) for s in pinyin_words(query)]
    return found[:MAX_TOKENS]


def _typo_words(token: Token) -> list[str]:
    if not token.typo:
        return []
    keys = deletes(token.text) | {token.text}
    return list(
        Variant.objects.filter(variant__in=keys).exclude(word=token.text).values_list("word", flat=True).distinct()[:50]
    )


def _token_filter(token: Token, typo_words: list[str]) -> Q:
    q = Q(term=token.text)
    if token.prefix:
        q |= Q(term__gte=token.text, term__lt=token.text + "\uffff")
    if typo_words:
        q |= Q(term__in=typo_words)
    return q


def _score(token: Token, term: str, weight: int) -> int:
    """How well one index term answers one query token: exact beats prefix beats one typo."""
    if term == token.text:
        level = EXACT
    elif token.prefix and term.startswith(token.text):
        level = PREFIX
    else:
        level = TYPO
    return level * 10 + weight


def _selectivity(token: Token) -> tuple[int, int]:
    """Which token to look up first: exact-only tokens (phones, e-mails, hanzi), then longer words."""
    return (1 if token.prefix else 0, -len(token.text))


def search_cards(user: Any, query: str, *, kind: str | None = None, limit: int = 20, include_archived: bool = False) -> list[Card]:
    """Cards matching every word of the query, best first; only cards the user may see.

    Answered from the index alone: each ``Term`` row carries its card's kind, archived flag,
    owner and team, and ``Scope.card_q`` filters those rows the way it filters cards. The most
    selective word is looked up first; the others are checked only on the cards it matched
    (through the per-card index) while those are few, else looked up too and intersected.
    """
    tokens = sorted(tokens_of(query), key=_selectivity)
    if not tokens:
        return []
    limit = max(1, min(limit, 100))
    rows = Term.objects.all()
    visibility = scope_for(user).card_q(id_field="card_id")
    if visibility:
        rows = rows.filter(visibility)
    if kind:
        rows = rows.filter(kind=kind)
    if not include_archived:
        rows = rows.filter(archived=False)

    scores: dict[int, int] | None = None
    for token in tokens:
        matches = rows.filter(_token_filter(token, _typo_words(token)))
        if scores is not None and len(scores) <= PROBE_LIMIT:
            matches = matches.filter(card_id__in=list(scores))
        best: dict[int, int] = {}
        for card_id, term, weight in matches.values_list("card_id", "term", "weight")[:MAX_MATCHES]:
            score = _score(token, term, weight)
            if score > best.get(card_id, 0):
                best[card_id] = score
        if scores is None:
            scores = best
        else:
            scores = {card_id: total + best[card_id] for card_id, total in scores.items() if card_id in best}
        if not scores:
            return []
    assert scores is not None
    # Best score first; among equals the newest card. Then the page is shown by score and name.
    top = sorted(scores.items(), key=lambda pair: (-pair[1], -pair[0]))[: limit * 3]
    chosen = dict(top)
    cards = list(
        visible_to(user, Card.objects.filter(pk__in=list(chosen))).select_related("owner", "team").prefetch_related("phones", "emails")
    )
    cards.sort(key=lambda c: (-chosen[c.pk], c.sort_name))
    return cards[:limit]
