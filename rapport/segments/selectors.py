"""Reading segments: which ones a user may use, their members and live counts (visibility applied here)."""

from __future__ import annotations

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


def filter_q(user: Any, kind: str, conditions: Any) -> Q:
    """The segment filter for this user; a condition they may not use refuses the whole segment."""
    return conds.to_q(user, kind, conditions)


def members_queryset(user: Any, segment: Segment) -> QuerySet[Card]:
    return visible_to(user).filter(archived_at__isnull=True).filter(filter_q(user, segment.kind, segment.conditions))


def apply_segment(user: Any, qs: QuerySet[Card], segment_id: Any) -> QuerySet[Card]:
    """Narrows a card queryset (already visible to the user) to a segment's members; for reports and lists."""
    try:
        segment = get_segment(user, segment_id)
    except NotFound:
        raise ValidationError.single("segment", "Unknown segment.") from None
    return qs.filter(filter_q(user, segment.kind, segment.conditions))


def _member_parts(user: Any, kind: str, conditions: Any) -> list[QuerySet[Card]]:
    segment_q = filter_q(user, kind, conditions)
    return [part.filter(archived_at__isnull=True).filter(segment_q) for part in visible_parts(user)]


def count(user: Any, kind: str, conditions: Any, *, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
    """Live member count of a (saved or draft) segment: (count, exact).

    One query: the visible parts of the segment, each counted from an index, stopping after
    ``limit`` members.
    """
    first, *rest = (part.order_by().values("id") for part in _member_parts(user, kind, conditions))
    qs = first.union(*rest, all=True) if rest else first
    n = qs[: limit + 1].count()
    return min(n, limit), n <= limit


def members(user: Any, segment: Segment, *, offset: int = 0, limit: int = 50) -> list[Card]:
    """One page of members in name order.

    The ids come first, read in name order from the list indexes (each visible part in order,
    merged), so the page stops after its rows instead of sorting every member; then the page's
    cards with their owner and team.
    """
    parts = _member_parts(user, segment.kind, segment.conditions)
    first, *rest = (part.order_by().values_list("sort_name", "id") for part in parts)
    qs = first.union(*rest, all=True) if rest else first
    page = list(qs.order_by("sort_name", "id")[offset : offset + limit])
    ids = [card_id for _name, card_id in page]
    if not ids:
        return []
    found = {c.pk: c for c in Card.objects.filter(pk__in=ids).select_related("owner", "team")}
    return [found[card_id] for card_id in ids if card_id in found]
