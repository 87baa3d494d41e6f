"""One search box over names (any script), e-mails and phone numbers: prefix, typo-tolerant, ranked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from django.db import connection
from django.db.models import Q, QuerySet

from django.utils import timezone

from rapport.cards.models import Card, Employment, Kind, Phone
from rapport.core.text import fold, has_han, pinyin_words, words
from rapport.core.visibility import scope_for, visible_to
from rapport.search.models import Term, Variant
from rapport.search.services import MIN_TYPO_LENGTH, NAME_WEIGHT, deletes, domains_of, reversed_e164_sql

_PHONE_LIKE = re.compile(r"^[\d\s()+.\-/]{5,}$")
_DOMAIN_QUERY = re.compile(r"^@?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]+)$")
MAX_TOKENS = 5
EXACT, PREFIX, TYPO = 3, 2, 1
MIN_PHONE_SUFFIX = 6  # fewer last digits than this match too many numbers to mean anyone
MAX_DOMAIN_ORGANIZATIONS = 50  # organisations at a domain whose people a domain search lists


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


def _scoped_rows(user: Any, kind: str | None, include_archived: bool) -> QuerySet[Term]:
    rows = Term.objects.all()
    visibility = scope_for(user).card_q(id_field="card_id")
    if visibility:
        rows = rows.filter(visibility)
    if kind:
        rows = rows.filter(kind=kind)
    if not include_archived:
        rows = rows.filter(archived=False)
    return rows


@dataclass(frozen=True)
class _Found:
    """The index rows a search may read (the user's visibility, kind, archived), as the SQL
    condition and parameters the ORM compiles once; each statement of the search then repeats
    them in SQL written out (compiling the visibility filter once per statement cost the ORM
    several times what the database spends running them)."""

    where: str
    params: tuple[Any, ...]

    @staticmethod
    def of(rows: QuerySet[Term]) -> "_Found":
        where, params = rows.query.get_compiler(using=rows.db).compile(rows.query.where)
        return _Found(where or "1 = 1", tuple(params))

    def without(self, skip: set[int]) -> tuple[str, list[Any]]:
        """The condition and its parameters, leaving out the cards in ``skip``."""
        if not skip:
            return self.where, list(self.params)
        where = f"{self.where} AND NOT ({_terms()}.card_id IN ({', '.join(['%s'] * len(skip))}))"
        return where, [*self.params, *sorted(skip)]

    @staticmethod
    def readable(user: Any, kind: str | None, include_archived: bool) -> "_Found":
        """``of(_scoped_rows(...))``, compiled once per process for each visibility scope: the
        condition is a function of ``Scope.signature`` alone (the shares in it are a subquery,
        read when each statement runs), and building it cost a search more than its statements."""
        key = (connection.vendor, scope_for(user).signature, kind, include_archived)
        found = _readable.get(key)
        if found is None:
            found = _Found.of(_scoped_rows(user, kind, include_archived))
            if len(_readable) >= _MAX_READABLE:
                _readable.clear()
            _readable[key] = found
        return found


_readable: dict[tuple[Any, ...], _Found] = {}
_MAX_READABLE = 5_000  # scopes kept per process: a few per user of a large sales force


def _terms() -> str:
    """The index table as the ORM's compiled condition names it."""
    return connection.ops.quote_name(Term._meta.db_table)


def _exact_matches(found: _Found, tokens: list[Token], limit: int) -> list[int]:
    """Newest cards having every word exactly: one index range, a seek per other word, stops at ``limit``.

    The longest word drives (it is usually the rarest); its index entries come in card order,
    so the database reads only as many of them as it takes to fill the page.
    """
    driver, *others = sorted(tokens, key=lambda t: -len(t.text))
    terms = _terms()
    sql = f"SELECT DISTINCT {terms}.card_id FROM {terms} WHERE {found.where} AND {terms}.term = %s"
    params: list[Any] = [*found.params, driver.text]
    for token in others:
        sql += f" AND EXISTS (SELECT 1 FROM {terms} other WHERE other.card_id = {terms}.card_id AND other.term = %s)"
        params.append(token.text)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY 1 DESC LIMIT %s", [*params, limit])
        return [row[0] for row in cursor.fetchall()]


def _ranked_matches(found: _Found, tokens: list[Token], limit: int, skip: set[int]) -> list[int]:
    """Cards matching every word exactly, by prefix or with one typo, best score first.

    Each way a word can match (exact, prefix range, typo words) is its own index range of the
    covering index, read without visiting the table; their rows are put together with UNION
    ALL and scored in two groupings: the best match of each word on each card, then the sum
    over the words of the cards that matched them all. (One ``OR`` of the three ranges is a
    bitmap scan on PostgreSQL, which reads every matching row from the table.)
    """
    terms = _terms()
    where, where_params = found.without(skip)
    branches: list[str] = []
    params: list[Any] = []
    for index, token in enumerate(tokens):
        ways: list[tuple[str, list[Any], int]] = [(f"{terms}.term = %s", [token.text], EXACT)]
        if token.prefix:
            ways.append((f"{terms}.term > %s AND {terms}.term < %s", [token.text, token.text + "\uffff"], PREFIX))
        typo_words = _typo_words(token)
        if typo_words:
            ways.append((f"{terms}.term IN ({', '.join(['%s'] * len(typo_words))})", typo_words, TYPO))
        for condition, values, strength in ways:
            branches.append(
                f"SELECT {terms}.card_id AS card_id, {int(index)} AS token, ({int(strength) * 10} + {terms}.weight) AS score "
                f"FROM {terms} WHERE {where} AND {condition}"
            )
            params += [*where_params, *values]
    sql = (
        "SELECT card_id, SUM(best) AS total FROM ("
        f"SELECT card_id, token, MAX(score) AS best FROM ({' UNION ALL '.join(branches)}) matches GROUP BY card_id, token"
        ") per_word GROUP BY card_id HAVING COUNT(*) = %s ORDER BY total DESC, card_id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, len(tokens), limit])
        return [row[0] for row in cursor.fetchall()]


def _one_word_matches(found: _Found, token: Token, limit: int, skip: set[int], *, exact_taken: bool = False) -> list[int]:
    """What ``_ranked_matches`` answers for a query of one word, without grouping every row the
    word matches: a short prefix matches a large part of the index at a million cards ("mar":
    about 100,000 rows), and grouping all of its rows twice cost most of a search.

    A card's score is then its best row's (``strength * 10 + weight``), so the cards come tier
    by tier, each tier newest first: the word exactly (by weight), then a name starting with it
    (``_newest_by_names``: newest first per name, a few rows of each), then whatever else starts
    with it (the range's rows sorted by score and card, keeping only the first ``limit``-odd: a
    bounded sort, no grouping; the first row of each card is its best), then typo words. Each
    tier is read only when the ones before leave the page short. ``exact_taken``: every card
    having the word exactly is in ``skip`` already (``search_card_ids`` looked for them first).
    """
    terms = _terms()
    where, where_params = found.without(skip)
    ids: list[int] = []
    seen = set(skip)

    def take(fetch: Callable[[int], list[int]], first: list[int] | None = None) -> None:
        """The next cards of a tier: ``fetch(n)`` answers its first ``n`` rows (a card may have
        several; ``first``: its answer for the first ``n``, read already); more are read while
        those leave the page short."""
        rows_wanted = 3 * (limit - len(ids))
        while True:
            rows = first if first is not None else fetch(rows_wanted)
            first = None
            fresh = [card_id for card_id in dict.fromkeys(rows) if card_id not in seen]
            if len(fresh) >= limit - len(ids) or len(rows) < rows_wanted:
                break
            rows_wanted *= 4  # cards with many rows in the tier: read further
        for card_id in fresh[: limit - len(ids)]:
            ids.append(card_id)
            seen.add(card_id)

    def sorted_rows(sql: str, params: list[Any]) -> Callable[[int], list[int]]:
        def fetch(rows_wanted: int) -> list[int]:
            with connection.cursor() as cursor:
                cursor.execute(sql + " LIMIT %s", [*params, rows_wanted])
                return [row[0] for row in cursor.fetchall()]
        return fetch

    if not exact_taken:
        take(sorted_rows(
            f"SELECT {terms}.card_id FROM {terms} WHERE {where} AND {terms}.term = %s "
            f"ORDER BY {terms}.weight DESC, {terms}.card_id DESC",
            [*where_params, token.text],
        ))
    if token.prefix and len(ids) < limit:
        by_names = _newest_by_names(where, where_params, token.text, limit, 3 * (limit - len(ids)))
        if by_names is not None:
            take(by_names[1], by_names[0])
        if len(ids) < limit:
            score = f"(CASE WHEN {terms}.term = %s THEN {EXACT * 10} ELSE {PREFIX * 10} END + {terms}.weight)"
            take(sorted_rows(
                f"SELECT {terms}.card_id FROM {terms} WHERE {where} AND {terms}.term >= %s AND {terms}.term < %s "
                f"ORDER BY {score} DESC, {terms}.card_id DESC",
                [*where_params, token.text, token.text + "\uffff", token.text],
            ))
    if len(ids) < limit:
        typo_words = _typo_words(token)
        if typo_words:
            take(sorted_rows(
                f"SELECT {terms}.card_id FROM {terms} WHERE {where} AND {terms}.term IN ({', '.join(['%s'] * len(typo_words))}) "
                f"ORDER BY {terms}.weight DESC, {terms}.card_id DESC",
                [*where_params, *typo_words],
            ))
    return ids


# A prefix starting more names than this is read as one sorted range (``_one_word_matches``).
# (SQLite also caps a compound statement at 500 parts.)
MAX_NAMES = 400


def _names_after(terms: str) -> str:
    """The names (terms of weight ``NAME_WEIGHT``) strictly between two values, in order, at most
    ``MAX_NAMES + 1``: one seek per name in the index of names (``search_term_names``)."""
    first = f"SELECT n.term FROM {terms} n WHERE n.weight = {NAME_WEIGHT} AND n.term > %s AND n.term < %s ORDER BY n.term LIMIT 1"
    after = (f"SELECT n.term FROM {terms} n WHERE n.weight = {NAME_WEIGHT} AND n.term > names.term AND n.term < %s "
             "ORDER BY n.term LIMIT 1")
    return (
        f"WITH RECURSIVE names(term, position) AS (SELECT ({first}), 1 UNION ALL "
        f"SELECT ({after}), names.position + 1 FROM names WHERE names.term IS NOT NULL AND names.position <= {MAX_NAMES}) "
    )


def _newest_by_names(
    where: str, where_params: list[Any], text: str, per_name: int, rows_wanted: int
) -> tuple[list[int], Callable[[int], list[int]]] | None:
    """The rows of the cards having a name that starts with ``text`` (and is not ``text``),
    newest card first: the first ``rows_wanted`` of them, and a function reading the first
    ``n``, as ``_one_word_matches`` takes a tier; ``None`` when more than ``MAX_NAMES`` names
    start with it.

    Each name's rows are a range of the covering index in card order, so the newest
    ``per_name`` cards of each name are read without reading the others: for "mar", a few
    hundred rows of some fifty names instead of a hundred thousand rows sorted. A card among
    the page's newest is among its names' ``per_name`` newest, so the merge loses none.
    """
    terms = _terms()
    upper = text + "\uffff"

    def newest(name: str) -> str:
        return (
            f"SELECT {terms}.card_id FROM {terms} WHERE {where} AND {terms}.weight = {NAME_WEIGHT} "
            f"AND {terms}.term = {name} ORDER BY {terms}.card_id DESC LIMIT %s"
        )

    if connection.vendor == "postgresql":
        # One statement: the names, and per name its newest cards (LATERAL); its first row (-1)
        # tells how many names there were.
        sql = (
            _names_after(terms)
            + "SELECT -1, COUNT(names.term) FROM names UNION ALL (SELECT found.card_id, 0 FROM names "
            + f"CROSS JOIN LATERAL ({newest('names.term')}) found ORDER BY 1 DESC LIMIT %s)"
        )
        counted: list[int] = []

        def fetch_pg(wanted: int) -> list[int]:
            with connection.cursor() as cursor:
                cursor.execute(sql, [text, upper, upper, *where_params, per_name, wanted])
                rows = cursor.fetchall()
            counted[:] = [count for card_id, count in rows if card_id == -1]
            return [card_id for card_id, _count in rows if card_id != -1]

        first = fetch_pg(rows_wanted)
        return None if counted[0] > MAX_NAMES else (first, fetch_pg)
    # Elsewhere (SQLite, which has no LATERAL): the names, then a compound statement with a
    # part per name.
    with connection.cursor() as cursor:
        cursor.execute(_names_after(terms) + "SELECT term FROM names WHERE term IS NOT NULL", [text, upper, upper])
        names = [row[0] for row in cursor.fetchall()]
    if len(names) > MAX_NAMES:
        return None
    if not names:
        return [], lambda wanted: []
    sql = " UNION ALL ".join([f"SELECT * FROM ({newest('%s')})"] * len(names)) + " ORDER BY 1 DESC LIMIT %s"
    params = [value for name in names for value in (*where_params, name, per_name)]

    def fetch(wanted: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, wanted])
            return [row[0] for row in cursor.fetchall()]

    return fetch(rows_wanted), fetch


def domain_of_query(query: str) -> str | None:
    """The domain a query asks for ("ariza.es", "@ariza.es", "www.ariza.es"), or None."""
    text = fold(query.strip())
    match = _DOMAIN_QUERY.match(text)
    if not match:
        return None
    found = domains_of(match.group(1))
    return found[0] if found else None


def _domain_matches(user: Any, domain: str, kind: str | None, limit: int, include_archived: bool) -> list[int]:
    """Everyone at a domain: organisations whose website or e-mails are at it first, then people
    with an e-mail at it, then the people working at those organisations (whatever their own
    e-mail). Each part is one range of the search index (or of the employment index), newest
    first, and stops at ``limit``; visibility as everywhere."""
    rows = _scoped_rows(user, None, include_archived).filter(term=domain)
    organizations = list(
        rows.filter(kind=Kind.ORGANIZATION).order_by("-card_id").values_list("card_id", flat=True)
        .distinct()[: max(limit, MAX_DOMAIN_ORGANIZATIONS)]
    )
    ids: list[int] = organizations[:limit] if kind in (None, Kind.ORGANIZATION) else []
    if kind == Kind.ORGANIZATION or len(ids) >= limit:
        return ids[:limit]
    people = rows.filter(kind=Kind.PERSON).order_by("-card_id").values_list("card_id", flat=True).distinct()[:limit]
    ids += [i for i in people if i not in ids]
    if len(ids) < limit and organizations:
        today = timezone.localdate()
        staff = (
            Employment.objects.filter(organization_id__in=organizations[:MAX_DOMAIN_ORGANIZATIONS])
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
            .values("person_id")
        )
        people_at = visible_to(user, Card.objects.filter(pk__in=staff, kind=Kind.PERSON))
        if not include_archived:
            people_at = people_at.filter(archived_at__isnull=True)
        seen = set(ids)
        for person_id in people_at.exclude(pk__in=seen).order_by("-id").values_list("id", flat=True)[: limit - len(ids)]:
            ids.append(person_id)
    return ids[:limit]


def _phone_suffix_matches(user: Any, digits: str, kind: str | None, limit: int, include_archived: bool,
                          skip: set[int]) -> list[int]:
    """Cards having a phone number that ends with ``digits``, newest first."""
    expression = reversed_e164_sql(connection.vendor)
    low = digits[::-1]
    phones = Phone.objects.filter(scope_for(user).card_q("card__")).extra(
        where=[f"{expression} >= %s", f"{expression} < %s"], params=[low, low + ":"]  # ":" sorts right after "9"
    )
    if kind:
        phones = phones.filter(card__kind=kind)
    if not include_archived:
        phones = phones.filter(card__archived_at__isnull=True)
    if skip:
        phones = phones.exclude(card_id__in=skip)
    return list(phones.order_by("-card_id").values_list("card_id", flat=True).distinct()[:limit])


def search_cards(user: Any, query: str, *, kind: str | None = None, limit: int = 20, include_archived: bool = False) -> list[Card]:
    """Cards matching every word of the query, best first; only cards the user may see.

    Answered from the index alone: each ``Term`` row carries its card's kind, archived flag,
    owner and team, and ``Scope.card_q`` filters those rows the way it filters cards. Cards
    having every word exactly rank first (newest first) and are found by seeks that stop
    once the page is full; only when they do not fill it are prefixes and typos scored, in
    one grouped query that keeps cards matching every word.

    A domain ("ariza.es", "@ariza.es") finds everyone at it (``_domain_matches``); a text that
    only looks like one ("j.smith") and finds no one is searched as words. Six or more digits
    also find the numbers ending with them.
    """
    return _in_order(user, search_card_ids(user, query, kind=kind, limit=limit, include_archived=include_archived))


def search_card_ids(user: Any, query: str, *, kind: str | None = None, limit: int = 20, include_archived: bool = False) -> list[int]:
    """The ids of the cards ``search_cards`` answers, best first (cards the user may see only).

    For answers that read the cards themselves in another shape (the API reads rows)."""
    limit = max(1, min(limit, 100))
    domain = domain_of_query(query)
    if domain is not None:
        found = _domain_matches(user, domain, kind, limit, include_archived)
        if found:
            return found
    tokens = tokens_of(query)
    if not tokens:
        return []
    readable = _Found.readable(user, kind, include_archived)
    ids = _exact_matches(readable, tokens, limit)
    digits = re.sub(r"\D", "", query) if _PHONE_LIKE.match(query.strip()) else ""
    if len(digits) >= MIN_PHONE_SUFFIX and len(ids) < limit:
        # The last digits of a number (the first ones are the prefix ranges below).
        ids += _phone_suffix_matches(user, digits, kind, limit - len(ids), include_archived, set(ids))
    if len(ids) < limit:
        if len(tokens) == 1:
            ids += _one_word_matches(readable, tokens[0], limit - len(ids), set(ids), exact_taken=True)
        else:
            ids += _ranked_matches(readable, tokens, limit - len(ids), set(ids))
    return ids


def _in_order(user: Any, ids: list[int]) -> list[Card]:
    order = {card_id: i for i, card_id in enumerate(ids)}
    cards = list(
        visible_to(user, Card.objects.filter(pk__in=ids)).select_related("owner", "team").prefetch_related("phones", "emails")
    )
    cards.sort(key=lambda c: order[c.pk])
    return cards
