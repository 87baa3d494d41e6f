"""Logging an activity from a card page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.activities import services
from rapport.activities.forms import ActivityForm
from rapport.cards import selectors
from rapport.cards.forms import add_service_errors
from rapport.cards.views import card_context, timeline_context
from rapport.core.web import is_htmx, web_view
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest


@require_POST
@web_view
def log_activity(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    """Records an activity with this card; htmx gets a fresh form and the timeline re-rendered."""
    card = selectors.get_card(request.user, card_id)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.log_activity(user=request.user, data=form.service_data(card.id))
        except ValidationError as exc:
            add_service_errors(form, exc.errors, aliases={"cards": "__all__"})
    if form.errors:
        if is_htmx(request):
            return render(request, "activities/_form.html", {"card": card, "activity_form": form}, status=422)
        return render(request, "cards/detail.html", card_context(request, card, activity_form=form), status=422)
    if not is_htmx(request):
        messages.success(request, _("Activity logged."))
        return redirect(reverse("card-detail", args=[card.id]) + "#timeline")
    context = {"card": card, "activity_form": ActivityForm(), "saved": True, "oob": True}
    context.update(timeline_context(request.user, card))
    return render(request, "activities/_saved.html", context)
