"""Reading segments: which ones a user may use, their members and live counts (visibility applied here)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.sql.where import OR

from rapport.cards.models import Card
from rapport.core.errors import NotFound, ValidationError
from rapport.core.visibility import scope_for, visible_to
from rapport.segments import conditions as conds
from rapport.segments.models import Segment

# Counts stop here: "more than 100,000" answers fast, an exact count of a huge segment does not.
COUNT_LIMIT = 100_000
# Visibility branches "column IN (a list)" of up to this many values are read value by value.
MAX_SPLIT = 20


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


def _branch_order(branch: Any) -> int:
    """Teams first: they hold most of what a user sees, and one's own cards are mostly in them,
    so the owner branch is left with cards it tells apart in ``card_owner_sort`` alone."""
    lookup = branch[0] if isinstance(branch, tuple) else ""
    return 0 if lookup.startswith("team") else 1 if lookup.startswith("owner") else 2


def _split_in(branch: Any) -> list[Any]:
    """``("team_id__in", [1, 2])`` as ``("team_id", 1)`` and ``("team_id", 2)``; anything else as it is."""
    if isinstance(branch, tuple) and branch[0].endswith("__in") and isinstance(branch[1], (list, tuple)):
        if len(branch[1]) <= MAX_SPLIT:
            return [(branch[0].removesuffix("__in"), value) for value in branch[1]]
    return [branch]


def _branch_key(branch: Any) -> Any:
    if isinstance(branch, tuple) and isinstance(branch[1], (int, str)):
        return branch
    return id(branch)


def _visible_parts(user: Any) -> list[QuerySet[Card]]:
    """``visible_to(user)`` as disjoint querysets whose union is exactly the visible cards.

    Visibility is an OR of a few branches (own cards, the teams' cards, the managed people's
    cards, shared cards). One query over the OR leaves SQLite two bad plans for a large
    segment: fetch every visible card from the table to check the segment's columns, or walk
    every card of the kind. Split into branches, each is an index range that carries the
    segment's columns: the team branch reads ``card_team_sort``, the owner branch
    ``card_owner_sort``, and each branch leaves out the cards of the branches before it, so
    counts add up and no card appears twice.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return [visible_to(user)]
    q = scope_for(user).card_q()
    branches = list(q.children) if q.connector == OR and not q.negated and len(q.children) > 1 else []
    if not branches:
        return [visible_to(user)]
    # "team IN (1, 2)" becomes "team = 1" and "team = 2": an equality reads the list index in
    # name order, an IN would need its rows sorted.
    # (A manager's own team may also be one they manage: each branch once.)
    branches = list({_branch_key(split): split for branch in branches for split in _split_in(branch)}.values())
    parts: list[QuerySet[Card]] = []
    before = Q()
    for branch in sorted(branches, key=_branch_order):
        branch_q = branch if isinstance(branch, Q) else Q(branch)
        parts.append(Card.objects.filter(branch_q & ~before) if before else Card.objects.filter(branch_q))
        before = before | branch_q if before else branch_q
    return parts


def _member_parts(user: Any, kind: str, conditions: Any) -> list[QuerySet[Card]]:
    segment_q = filter_q(user, kind, conditions)
    return [part.filter(archived_at__isnull=True).filter(segment_q) for part in _visible_parts(user)]


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
