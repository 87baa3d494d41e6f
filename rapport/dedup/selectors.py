"""Read use-cases of duplicate handling. A pair is visible only if the user sees both cards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from rapport.cards.models import Card
from rapport.core.errors import NotFound, ValidationError
from rapport.core.visibility import visible_through
from rapport.dedup.models import Candidate, CandidateStatus, Merge
from rapport.dedup.services import KINDS


def _id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or int(value) > 2**62:
        raise NotFound(what)
    return int(value)


def candidates(user: Any, *, kind: str = "", status: str = CandidateStatus.PENDING) -> QuerySet[Candidate]:
    """Queue entries whose two cards the user can both see, best score first."""
    if kind and kind not in KINDS:
        raise ValidationError.single("kind", f"Expected one of: {', '.join(KINDS)}.")
    if status and status not in CandidateStatus.values:
        raise ValidationError.single("status", f"Expected one of: {', '.join(CandidateStatus.values)}.")
    # Each pair's two cards are checked by primary key: a subquery would read every visible card.
    qs = visible_through(user, visible_through(user, Candidate.objects.all(), "left"), "right")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if status == CandidateStatus.PENDING:
        # A card merged into another (archived) has nothing left to review; undo brings its pairs back.
        qs = qs.filter(left__archived_at__isnull=True, right__archived_at__isnull=True)
    return qs.select_related("left", "right").order_by("-score", "id")


def get_candidate(user: Any, candidate_id: Any) -> Candidate:
    found = candidates(user, status="").filter(pk=_id(candidate_id, "candidate")).first()
    if found is None:
        raise NotFound("candidate")
    return found


def has_duplicate_history(card: Card) -> bool:
    """Whether a card has any pending pair or any merge at all, in one light query: most cards
    have neither, and the card page can then skip the visibility-checked lists below."""
    pairs = Candidate.objects.filter(Q(left=card) | Q(right=card), status=CandidateStatus.PENDING).order_by().values("id")
    merges = Merge.objects.filter(Q(survivor=card) | Q(loser=card)).order_by().values("id")
    return pairs.union(merges, all=True).exists()


def candidates_of(user: Any, card: Card, *, limit: int = 5) -> list[Candidate]:
    """Pending pairs involving one card (the card page's "possible duplicates")."""
    return list(candidates(user).filter(Q(left=card) | Q(right=card))[:limit])


def merges_of(user: Any, card: Card, *, limit: int = 20) -> list[Merge]:
    """Merges this card took part in, newest first, where the user sees both cards."""
    merges = Merge.objects.filter(Q(survivor=card) | Q(loser=card))
    return list(
        visible_through(user, visible_through(user, merges, "survivor"), "loser")
        .select_related("survivor", "loser", "merged_by")[:limit]
    )


def get_merge(user: Any, merge_id: Any) -> Merge:
    merge = Merge.objects.filter(pk=_id(merge_id, "merge"))
    found = visible_through(user, visible_through(user, merge, "survivor"), "loser").select_related("survivor", "loser").first()
    if found is None:
        raise NotFound("merge")
    return found


@dataclass(frozen=True)
class SideBySide:
    """One row of the side-by-side comparison of a pair."""

    label: str
    left: str
    right: str
    same: bool


def compare(user: Any, candidate: Candidate) -> list[SideBySide]:
    """The two cards of a pair, field by field, as the review page shows them."""
    from django.utils.translation import gettext as _

    from rapport.cards import selectors as card_selectors

    rows: list[SideBySide] = []

    def add(label: str, left: str, right: str) -> None:
        if left or right:
            rows.append(SideBySide(label, left, right, left.casefold() == right.casefold()))

    left, right = candidate.left, candidate.right
    add(_("Name"), left.display_name, right.display_name)
    add(_("Name in local script"), left.local_name, right.local_name)
    add(_("Phones"), ", ".join(left.phones.values_list("e164", flat=True)), ", ".join(right.phones.values_list("e164", flat=True)))
    add(_("E-mails"), ", ".join(left.emails.values_list("address", flat=True)), ", ".join(right.emails.values_list("address", flat=True)))

    def address(card: Card) -> str:
        return "; ".join(
            ", ".join(p for p in (a.street, a.postal_code, a.city, a.country) if p) for a in card.addresses.all()
        )

    add(_("Addresses"), address(left), address(right))
    add(_("Website"), left.website, right.website)
    add(_("Owner"), left.owner.get_username(), right.owner.get_username())
    add(_("Team"), str(left.team or ""), str(right.team or ""))
    add(_("Stage"), left.get_lifecycle_stage_display(), right.get_lifecycle_stage_display())
    add(_("External id"), left.external_id, right.external_id)
    lp = {v.item.key: v for v in card_selectors.profile_of(user, left)}
    rp = {v.item.key: v for v in card_selectors.profile_of(user, right)}
    for key in list(dict.fromkeys(list(lp) + list(rp))):
        item = (lp.get(key) or rp[key]).item
        add(item.label, lp[key].display if key in lp else "", rp[key].display if key in rp else "")
    return rows
