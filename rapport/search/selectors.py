"""One search box over names (any script), e-mails and phone numbers: prefix, typo-tolerant, ranked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, Max, Q, Value, When

from rapport.cards.models import Card
from rapport.core.text import fold, has_han, pinyin_words, words
from rapport.core.visibility import scope_for, visible_to
from rapport.search.models import Term, Variant
from rapport.search.services import MIN_TYPO_LENGTH, deletes

_PHONE_LIKE = re.compile(r"^[\d\s()+.\-/]{5,}$")
MAX_TOKENS = 5
EXACT, PREFIX, TYPO = 3, 2, 1


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


def _match_case(token: Token, typo_words: list[str]) -> Case:
    """How well one index row answers one query token: exact beats prefix beats one typo (0: no match)."""
    whens = [When(term=token.text, then=Value(EXACT * 10) + F("weight"))]
    if token.prefix:
        whens.append(When(term__gte=token.text, term__lt=token.text + "\uffff", then=Value(PREFIX * 10) + F("weight")))
    if typo_words:
        whens.append(When(term__in=typo_words, then=Value(TYPO * 10) + F("weight")))
    return Case(*whens, default=Value(0), output_field=IntegerField())


def search_cards(user: Any, query: str, *, kind: str | None = None, limit: int = 20, include_archived: bool = False) -> list[Card]:
    """Cards matching every word of the query, best first; only cards the user may see.

    Answered from the index alone, in one grouped query: each ``Term`` row carries its card's
    kind, archived flag, owner and team, and ``Scope.card_q`` filters those rows the way it
    filters cards, so the database reads only the index entries of the query's words, scores
    each card per word, keeps cards matching every word and returns the best page.
    """
    tokens = tokens_of(query)
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
    typo = [_typo_words(t) for t in tokens]
    match_any = Q()
    for token, typo_words in zip(tokens, typo):
        match_any |= _token_filter(token, typo_words)
    per_token = {f"m{i}": Max(_match_case(t, w)) for i, (t, w) in enumerate(zip(tokens, typo))}
    grouped = rows.filter(match_any).values("card_id").annotate(**per_token)
    for name in per_token:
        grouped = grouped.filter(**{f"{name}__gt": 0})
    score: Any = F("m0")
    for name in list(per_token)[1:]:
        score = score + F(name)
    # Best score first; among equals the newest card. The page is then shown by score and name.
    top = [(row["card_id"], row["score"]) for row in grouped.annotate(score=score).order_by("-score", "-card_id")[:limit]]
    chosen = dict(top)
    cards = list(
        visible_to(user, Card.objects.filter(pk__in=list(chosen))).select_related("owner", "team").prefetch_related("phones", "emails")
    )
    cards.sort(key=lambda c: (-chosen[c.pk], c.sort_name))
    return cards[:limit]
