"""Duplicate review pages: the queue, a pair side by side, merge / not a duplicate, undo."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.models import User
from rapport.cards.models import Card, Kind
from rapport.core.errors import Conflict, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import fragment_or_page, web_view
from rapport.dedup import selectors, services
from rapport.dedup.forms import MergeForm, QueueFilterForm
from rapport.dedup.models import CandidateStatus
from rapport.dedup.reasons import reason_labels
from rapport.jobs import services as jobs
from rapport.jobs.models import Kind as JobKind

PAGE_SIZE = 50


def card_panel_context(user: User, card: Card) -> dict[str, Any] | None:
    """The card page's duplicates panel: pairs to review and merges this card took part in."""
    if not selectors.has_duplicate_history(card):
        return None
    pending = selectors.candidates_of(user, card)
    merges = selectors.merges_of(user, card, limit=10)
    if not pending and not merges:
        return None
    return {
        "pending": [{"candidate": c, "other": c.right if c.left_id == card.pk else c.left, "reasons": reason_labels(c.reasons)} for c in pending],
        "merges": merges,
        "can_write": scope_for(user).may_write_card(card),
    }


def warn_possible_duplicates(request: AuthedHttpRequest, card: Card) -> None:
    """After a card is created from a form: "this looks like X", with a link to compare them."""
    from django.utils.html import format_html

    for match in services.check_new_card(user=request.user, card=card)[:3]:
        url = reverse("dedup-review", args=[match.candidate_id]) if match.candidate_id else reverse("card-detail", args=[match.card_id])
        messages.warning(
            request,
            format_html(
                _("This looks like {name} ({score} % alike). <a href=\"{url}\">Compare them</a>."),
                name=match.display_name, score=round(match.score * 100), url=url,
            ),
        )


@require_GET
@web_view
def queue(request: AuthedHttpRequest) -> HttpResponse:
    """Pairs of cards that look like the same customer, best score first."""
    form = QueueFilterForm(request.GET)
    form.is_valid()
    kind = form.cleaned_data.get("kind") or ""
    status = form.cleaned_data.get("status") or CandidateStatus.PENDING
    page = form.cleaned_data.get("page") or 1
    qs = selectors.candidates(request.user, kind=kind, status=status)
    rows = list(qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    context = {
        "form": form,
        "rows": [{"candidate": c, "reasons": reason_labels(c.reasons)} for c in rows[:PAGE_SIZE]],
        "page": page,
        "next_page": page + 1 if len(rows) > PAGE_SIZE else None,
        "previous_page": page - 1 if page > 1 else None,
        "kind": kind,
        "status": status,
        "can_write": scope_for(request.user).may_write_card(Card()),
    }
    return fragment_or_page(request, "dedup/_queue_table.html", "dedup/queue.html", context)


@require_GET
@web_view
def review(request: AuthedHttpRequest, candidate_id: int) -> HttpResponse:
    """One pair side by side, with the merge and "not a duplicate" actions."""
    candidate = selectors.get_candidate(request.user, candidate_id)
    return _review_page(request, candidate, MergeForm(candidate=candidate))


def _review_page(request: AuthedHttpRequest, candidate: Any, form: MergeForm, status: int = 200) -> HttpResponse:
    context = {
        "candidate": candidate,
        "rows": selectors.compare(request.user, candidate),
        "reasons": reason_labels(candidate.reasons),
        "form": form,
        "can_write": scope_for(request.user).may_write_card(candidate.left),
        "merges": selectors.merges_of(request.user, candidate.left, limit=5),
    }
    return render(request, "dedup/review.html", context, status=status)


@require_POST
@web_view
def merge(request: AuthedHttpRequest, candidate_id: int) -> HttpResponse:
    candidate = selectors.get_candidate(request.user, candidate_id)
    form = MergeForm(request.POST, candidate=candidate)
    if not form.is_valid():
        return _review_page(request, candidate, form, status=422)
    try:
        done = services.merge_candidate(user=request.user, candidate=candidate, survivor_id=int(form.cleaned_data["survivor"]))
    except (ValidationError, Conflict) as exc:
        form.add_error(None, str(exc))
        return _review_page(request, candidate, form, status=422)
    messages.success(request, _("Cards merged. You can undo the merge from the card page."))
    return redirect("card-detail", card_id=done.survivor_id)


@require_POST
@web_view
def not_duplicate(request: AuthedHttpRequest, candidate_id: int) -> HttpResponse:
    candidate = selectors.get_candidate(request.user, candidate_id)
    try:
        services.mark_not_duplicate(user=request.user, candidate=candidate)
    except Conflict:
        messages.warning(request, _("This pair was already decided."))
    else:
        messages.success(request, _("Marked as not a duplicate."))
    return redirect(reverse("dedup-queue") + (f"?kind={candidate.kind}"))


@require_POST
@web_view
def reopen(request: AuthedHttpRequest, candidate_id: int) -> HttpResponse:
    candidate = selectors.get_candidate(request.user, candidate_id)
    try:
        services.reopen(user=request.user, candidate=candidate)
    except Conflict:
        messages.warning(request, _("This pair was already decided."))
    return redirect("dedup-review", candidate_id=candidate.pk)


@require_POST
@web_view
def undo(request: AuthedHttpRequest, merge_id: int) -> HttpResponse:
    found = selectors.get_merge(request.user, merge_id)
    try:
        services.undo_merge(user=request.user, merge=found)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Merge undone: both cards are back as they were."))
    return redirect("card-detail", card_id=found.survivor_id)


@require_POST
@web_view
def scan(request: AuthedHttpRequest) -> HttpResponse:
    """Looks for duplicates among the cards the user sees and fills the queue."""
    kind = request.POST.get("kind", "")
    if kind not in (Kind.ORGANIZATION, Kind.PERSON):
        kind = Kind.PERSON
    if not scope_for(request.user).may_write_card(Card()):
        messages.error(request, _("Your role may not change cards."))
        return redirect("dedup-queue")
    # A scan of a large book takes minutes: it runs in the background worker, and the job's
    # page shows it running, then what it found.
    job = jobs.enqueue(kind=JobKind.DEDUP_SCAN, user=request.user, params={"kind": kind})
    return redirect("job-detail", job_id=job.pk)


