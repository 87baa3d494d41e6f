"""Reading segments: which ones a user may use, their members and live counts (visibility applied here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from rapport.cards.models import Card
from rapport.core.errors import NotFound, ValidationError
from rapport.core.visibility import scope_for, visible_parts, visible_to
from rapport.segments import conditions as conds
from rapport.segments.models import Segment

# Counts stop here: "more than 100,000" answers fast, an exact count of a huge segment does not.
COUNT_LIMIT = 100_000


def segments_for(user: Any) -> QuerySet[Segment]:
    """Segments the user may use: their own and those shared with a team they belong to or manage."""
    scope = scope_for(user)
    teams = set(scope.team_ids) | set(scope.managed_team_ids)
    q = Q(owner_id=user.id)
    if teams:
        q |= Q(team_id__in=teams)
    return Segment.objects.filter(q).select_related("owner", "team").order_by("name", "id")


def get_segment(user: Any, segment_id: Any) -> Segment:
    """A segment the user may use, or NotFound (also for other people's private segments)."""
    if isinstance(segment_id, bool) or not str(segment_id).isdigit() or int(segment_id) > 2**62:
        raise NotFound("segment")
    segment = segments_for(user).filter(pk=int(segment_id)).first()
    if segment is None:
        raise NotFound("segment")
    return segment


def filter_q(user: Any, kind: str, conditions: Any, *, ordered: bool = True) -> Q:
    """The segment filter for this user; a condition they may not use refuses the whole segment."""
    return conds.to_q(user, kind, conditions, ordered=ordered)


def members_queryset(user: Any, segment: Segment) -> QuerySet[Card]:
    return visible_to(user).filter(archived_at__isnull=True).filter(filter_q(user, segment.kind, segment.conditions))


def apply_segment(user: Any, qs: QuerySet[Card], segment_id: Any) -> QuerySet[Card]:
    """Narrows a card queryset (already visible to the user) to a segment's members; for reports and lists."""
    try:
        segment = get_segment(user, segment_id)
    except NotFound:
        raise ValidationError.single("segment", "Unknown segment.") from None
    return qs.filter(filter_q(user, segment.kind, segment.conditions))


def _member_parts(user: Any, kind: str, conditions: Any, *, ordered: bool = True) -> list[QuerySet[Card]]:
    segment_q = filter_q(user, kind, conditions, ordered=ordered)
    return [part.filter(archived_at__isnull=True).filter(segment_q) for part in visible_parts(user)]


def count(user: Any, kind: str, conditions: Any, *, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
    """Live member count of a (saved or draft) segment: (count, exact).

    One query: the visible parts of the segment, each counted from an index, stopping after
    ``limit`` members.
    """
    parts = _member_parts(user, kind, conditions, ordered=False)
    first, *rest = (part.order_by().values("id") for part in parts)
    qs = first.union(*rest, all=True) if rest else first
    n = qs[: limit + 1].count()
    return min(n, limit), n <= limit


def members(
    user: Any, segment: Segment, *, offset: int = 0, limit: int = 50, known_count: tuple[int, bool] | None = None
) -> list[Card]:
    """One page of members in name order, by offset (``member_page`` pages by cursor).

    The ids come first, read in name order from the list indexes (each visible part in order,
    merged), so the page stops after its rows instead of sorting every member; then the page's
    cards with their owner and team. A deep offset walks every member before it.
    """
    rows = _page_rows(user, segment, key=None, backwards=False, offset=offset, limit=limit, known_count=known_count)
    return _cards([card_id for _name, card_id in rows])


# A segment with at most this many members is paged from all of them: walking the name index
# for a few members spread over a million cards reads most of the index.
SMALL_SEGMENT = 2_000


def _page_rows(
    user: Any, segment: Segment, *, key: Q | None, backwards: bool, offset: int, limit: int,
    known_count: tuple[int, bool] | None,
) -> list[tuple[str, int]]:
    """(sort_name, id) of a page of members, in name order (reversed when ``backwards``)."""
    order = ("-sort_name", "-id") if backwards else ("sort_name", "id")
    members_known = known_count[0] if known_count is not None and known_count[1] else None
    if members_known == 0:
        return []
    small = members_known is not None and members_known <= SMALL_SEGMENT
    # A small segment's members are found through the segment index, as a count finds them;
    # a page of a large one is read in name order from the list indexes.
    parts = _member_parts(user, segment.kind, segment.conditions, ordered=not small)
    if key is not None:
        parts = [part.filter(key) for part in parts]
    if small:
        first, *rest = (part.order_by().values("id") for part in parts)
        union = first.union(*rest, all=True) if rest else first
        ids = [row["id"] for row in union]
        if not ids:
            return []
        # Sorted by the database, in its collation, from those ids alone.
        by_id = Card.objects.filter(pk__in=ids).order_by(*order).values_list("sort_name", "id")
        return list(by_id[offset : offset + limit])
    first_named, *rest_named = (part.order_by().values_list("sort_name", "id") for part in parts)
    qs = first_named.union(*rest_named, all=True) if rest_named else first_named
    return list(qs.order_by(*order)[offset : offset + limit])


def _cards(ids: list[int]) -> list[Card]:
    """The cards of a page, in the page's order, with their owner and team."""
    if not ids:
        return []
    found = {c.pk: c for c in Card.objects.filter(pk__in=ids).select_related("owner", "team")}
    return [found[card_id] for card_id in ids if card_id in found]


@dataclass(frozen=True)
class MemberPage:
    """A page of members read from a cursor, with the cursors of the pages around it."""

    cards: list[Card]
    next_after: int | None  # the last card's id when more members follow
    prev_before: int | None  # the first card's id when members come before it


CURSOR_MAX = 2**62


def _cursor(user: Any, field: str, card_id: Any) -> tuple[str, int]:
    """The (sort_name, id) position of a card the user may see; any other id is refused alike."""
    if isinstance(card_id, bool) or not isinstance(card_id, int) or not 0 < card_id <= CURSOR_MAX:
        raise ValidationError.single(field, "Expected a card id.")
    row = visible_to(user).filter(pk=card_id).values_list("sort_name", "id").first()
    if row is None:
        raise ValidationError.single(field, "Unknown card.")
    return row


def member_page(
    user: Any, segment: Segment, *, after: int | None = None, before: int | None = None, limit: int = 50,
    known_count: tuple[int, bool] | None = None,
) -> MemberPage:
    """The members that follow card ``after`` (or precede card ``before``) in name order.

    Keyset paging: the cursor is a card id, never a name, so no personal data travels in a
    link; the server looks up where that card sorts. Each page is read from the list indexes
    starting at that position, so page 1,000 costs what page 1 costs, where an offset would
    walk every member before it. The cursor card need not still be a member (it may have
    left the segment between two pages); it must be a card the user sees.

    ``known_count``, the segment's ``count()`` if the caller has it, lets a small segment skip
    the name index: its members are found through the segment index, then sorted.
    """
    if after is not None and before is not None:
        raise ValidationError.single("before", "Give either after or before, not both.")
    if not 1 <= limit <= 1000:
        raise ValidationError.single("limit", "Expected 1 to 1000.")
    backwards = before is not None
    key = None
    if after is not None or before is not None:
        field, card_id = ("before", before) if backwards else ("after", after)
        name, pk = _cursor(user, field, card_id)
        # (sort_name, id) > (name, pk), written so that each part reads an index range from
        # ``name`` on; the second test is checked on the index entries.
        if backwards:
            key = Q(sort_name__lte=name) & ~Q(sort_name=name, id__gte=pk)
        else:
            key = Q(sort_name__gte=name) & ~Q(sort_name=name, id__lte=pk)
    rows = _page_rows(user, segment, key=key, backwards=backwards, offset=0, limit=limit + 1, known_count=known_count)
    more = len(rows) > limit
    ids = [card_id for _name, card_id in rows[:limit]]
    if backwards:
        ids.reverse()
    cards = _cards(ids)
    if not cards:
        return MemberPage(cards=[], next_after=None, prev_before=None)
    has_next = True if backwards else more
    has_prev = more if backwards else after is not None
    return MemberPage(
        cards=cards,
        next_after=cards[-1].pk if has_next else None,
        prev_before=cards[0].pk if has_prev else None,
    )
