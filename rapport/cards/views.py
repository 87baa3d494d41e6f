"""Card pages: my customers, the organisation and person lists, the card page and its forms.

Views parse input, call ``rapport.cards.services`` / ``selectors`` and render. They never
filter customer data themselves: every card comes from a selector that applies ``visible_to``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.models import User
from rapport.accounts import selectors as people_selectors
from rapport.cards import selectors, services
from rapport.cards.forms import (
    PAGE_SIZE,
    PRIVATE_FILTERS,
    CardFilterForm,
    EmploymentForm,
    FactForm,
    OrganizationForm,
    PersonForm,
    ShareForm,
    add_service_errors,
    address_formset,
    formset_entries,
)
from rapport.cards.models import Card, Kind
from rapport.catalog import selectors as catalog
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.core.extensions import card_panel, card_panel_slots, card_panels, render_card_panel
from rapport.core.http import AuthedHttpRequest
from rapport.privacy.forms import LEGAL_BASIS_ERROR_FIELDS, legal_basis_from
from rapport.core.web import fragment_or_page, is_htmx, web_view
from rapport.core.visibility import scope_for

# Lists count exactly up to this many cards, then show "10000+" (an exact count of a huge
# list costs more than the page itself).
COUNT_LIMIT = 10_000

def segment_choices(user: User) -> list[tuple[int, str]]:
    from rapport.segments.selectors import segments_for

    return [(s.id, s.name) for s in segments_for(user)[:200]]


# --- home and lists --------------------------------------------------------------------------


@require_GET
@web_view
def home(request: AuthedHttpRequest) -> HttpResponse:
    """My customers: the cards I own, the ones I touched last first."""
    cards = selectors.recent_cards(request.user, limit=PAGE_SIZE)
    context = {"cards": cards, "more": len(cards) == PAGE_SIZE, "can_create": scope_for(request.user).may_write_card(Card())}
    return render(request, "cards/home.html", context)


def filter_data(request: HttpRequest) -> QueryDict:
    """The list filters of a request: the form's POST, or a link's query string without the
    filters that could name someone (a link or bookmark still selects owner, tier, stage…)."""
    if request.method == "POST":
        return request.POST
    data = request.GET.copy()
    for name in PRIVATE_FILTERS:
        data.pop(name, None)
    return data


def _card_list(request: AuthedHttpRequest, kind: str) -> HttpResponse:
    user = request.user
    industries = selectors.industries(user, kind)
    data = filter_data(request)
    form = CardFilterForm(
        data,
        owners=people_selectors.filter_owners(user),
        teams=people_selectors.reachable_teams(user),
        items=selectors.filterable_items(user, kind),
        industries=industries,
        segments=segment_choices(user),
    )
    form.is_valid()
    page = form.page_number
    cards: list[Card] = []
    total = 0
    try:
        cards, total = selectors.list_cards(
            user, form.card_filter(kind), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, count_limit=COUNT_LIMIT
        )
    except ValidationError as exc:
        add_service_errors(form, exc.errors)
    if kind == Kind.PERSON:
        companies = selectors.current_companies(user, cards)
        for card in cards:
            setattr(card, "companies", companies.get(card.pk, []))  # read by the table's company column
    count_capped = total > COUNT_LIMIT
    total = min(total, COUNT_LIMIT)
    last_page = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    selected_item = catalog.items().get(form.cleaned_data.get("item") or "")
    context = {
        "kind": kind,
        "form": form,
        "count_capped": count_capped,
        "cards": cards,
        "total": total,
        "page": page,
        "first_row": (page - 1) * PAGE_SIZE + 1 if cards else 0,
        "last_row": (page - 1) * PAGE_SIZE + len(cards),
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < last_page else None,
        "last_page": last_page,
        "list_url": reverse("organization-list" if kind == Kind.ORGANIZATION else "person-list"),
        "value_item": selected_item,
        "value_values": [form.data.get("value", "")],
        "can_create": scope_for(user).may_write_card(Card()),
        # The filters again, for the export form under the table (POSTed like the list's).
        "filter_fields": [(name, value) for name, values in data.lists() if name not in ("page", "csrfmiddlewaretoken")
                          for value in values],
    }
    return fragment_or_page(request, "cards/_table.html", "cards/list.html", context)


@require_http_methods(["GET", "POST"])
@web_view
def organization_list(request: AuthedHttpRequest) -> HttpResponse:
    return _card_list(request, Kind.ORGANIZATION)


@require_http_methods(["GET", "POST"])
@web_view
def person_list(request: AuthedHttpRequest) -> HttpResponse:
    return _card_list(request, Kind.PERSON)


# --- the card page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileRow:
    """A profile value and the name of who recorded it (the profile keeps only the user id)."""

    value: selectors.ProfileValue
    recorded_by: str


def profile_context(user: User, card: Card) -> dict[str, Any]:
    blocks = selectors.profile_blocks(user, card)
    ids = {v.recorded_by for b in blocks for v in b.values if v.recorded_by}
    names: dict[int | None, str] = dict(User.objects.filter(pk__in=ids).values_list("id", "username")) if ids else {}
    return {
        "profile": [
            {"block": b, "rows": [ProfileRow(v, names.get(v.recorded_by, "")) for v in b.values]} for b in blocks
        ],
        "missing": [item for b in blocks for item in b.missing],
    }


def facts_context(user: User, card: Card) -> dict[str, Any]:
    return {"facts": selectors.facts_of(user, card, limit=50)}


# The card page opens on the newest timeline entries; "Show older entries" brings the rest.
TIMELINE_FIRST = 25
TIMELINE_ALL = 200


def timeline_context(user: User, card: Card, limit: int = TIMELINE_FIRST) -> dict[str, Any]:
    entries = selectors.timeline_of(user, card, limit=limit)
    return {"timeline": entries, "timeline_more": limit < TIMELINE_ALL and len(entries) == limit}


def fact_form_for(request: AuthedHttpRequest, card: Card, data: QueryDict | None = None) -> FactForm:
    initial = {}
    wanted = request.GET.get("item", "")
    readable = selectors.readable_items(request.user, card)
    if wanted in readable:
        initial["item"] = wanted
    return FactForm(data, items=readable, sources=catalog.sources().values(), initial=initial)


def _contact_rows(card: Card, contacts: selectors.Contacts | None = None) -> dict[str, list[Any]]:
    """The card's phones, e-mails and addresses for the page, as unsaved instances for their
    labels: read with the card (``read_card_with_contacts``) or else in one statement
    (``card_contacts``) rather than one query each."""
    from rapport.cards.models import Address, Email, Phone

    if contacts is None:
        contacts = selectors.card_contacts(card)
    return {
        "phones": [Phone(card=card, **row) for row in contacts.phones],
        "emails": [Email(card=card, **row) for row in contacts.emails],
        "addresses": [Address(card=card, **row) for row in contacts.addresses],
    }


def card_context(
    request: AuthedHttpRequest, card: Card, *, timeline_limit: int = TIMELINE_FIRST, deferred: bool = False,
    contacts: selectors.Contacts | None = None, **forms: Any
) -> dict[str, Any]:
    """The card page's context. ``deferred``: only the first screen (header, contact details,
    people, the activity and fact forms) and a slot for every other section (``page_slots``);
    ``contacts``: the card's phones, e-mails and addresses when they were read with it."""
    from rapport.activities.forms import ActivityForm

    user = request.user
    page_path = reverse("card-detail", args=[card.id])
    context: dict[str, Any] = {
        "card": card,
        "page_path": page_path,
        "can_write": scope_for(user).may_write_card(card),
        **_contact_rows(card, contacts),
        "employments": selectors.employment_lines(user, card),
        "fact_form": forms.get("fact_form") or fact_form_for(request, card),
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "deferred": deferred,
        # "/cards/": the people's links are written from it, one reverse() for the whole list.
        "card_root": page_path[: -len(f"{card.id}/")],
    }
    if card.kind == Kind.PERSON and context["can_write"]:
        context["employment_form"] = forms.get("employment_form") or EmploymentForm(prefix="job")
    if deferred:
        context["slots"] = page_slots(user, card)
        return context
    context.update(profile_context(user, card))
    context.update(facts_context(user, card))
    context.update(timeline_context(user, card, timeline_limit))
    context["panels"] = card_panels(user, card)
    shares = selectors.shares_of(user, card)
    if shares is not None:
        context["shares"] = shares
        context["share_form"] = forms.get("share_form") or share_form_for(user)
    return context


# --- sections loaded when they come into view --------------------------------------------------
# In a browser that runs scripts (app.js sets this cookie on every page) the card page answers
# with its first screen and a slot for every other section; htmx loads a slot from
# ``card_section`` when it is scrolled into view. Without scripts, the whole page at once.
SCRIPTS_COOKIE = "rapport_js"


@dataclass(frozen=True)
class Slot:
    """A section of the card page not read yet: its id, the URL that renders it, its place on
    a phone (``cards.css``)."""

    anchor: str
    url: str
    order: str = ""


# The card's own sections that wait for their slot (the panels of other apps wait too).
OWN_SECTIONS = {
    "profile": "cards/_profile.html",
    "facts": "cards/_facts.html",
    "timeline": "cards/_timeline.html",
    "sharing": "cards/_sharing.html",
}


def page_slots(user: User, card: Card) -> dict[str, list[Slot]]:
    """The slots of the card page by column, where the sections would stand on the whole page."""
    base = reverse("card-section", args=[card.id, "_"])[:-2]  # one reverse() for every slot

    def slot(name: str, anchor: str, order: str = "") -> Slot:
        return Slot(anchor, f"{base}{name}/", order)

    panels = card_panel_slots(card)
    main = [slot("profile", "profile", "order-profile"), slot("facts", "facts", "order-facts")]
    side = [slot("timeline", "timeline", "order-timeline")]
    if scope_for(user).may_see_confidential_on(card):  # whoever may manage the card's sharing
        side.append(slot("sharing", "sharing"))
    main += [slot(p.key, p.anchor) for p in panels["main"]]
    side += [slot(p.key, p.anchor) for p in panels["side"]]
    return {"main": main, "side": side}


def own_section_context(user: User, card: Card, name: str) -> dict[str, Any] | None:
    """The context of one of the card's own sections; ``None`` when this user has none."""
    if name == "profile":
        return profile_context(user, card)
    if name == "facts":
        return facts_context(user, card)
    if name == "timeline":
        return timeline_context(user, card)
    shares = selectors.shares_of(user, card)
    return None if shares is None else {"shares": shares, "share_form": share_form_for(user)}


@require_GET
@web_view
def card_section(request: AuthedHttpRequest, card_id: int, name: str) -> HttpResponse:
    """One section of a card page (its own, or another app's panel), for the slot that htmx
    fills; opened as a link, the section on a page of its own. The card is read, and so its
    visibility checked, exactly as for the page: a card the user may not see is a 404."""
    user = request.user
    card = selectors.get_card(user, card_id)
    page_path = reverse("card-detail", args=[card.id])
    context: dict[str, Any] = {"card": card, "can_write": scope_for(user).may_write_card(card), "page_path": page_path}
    data: dict[str, Any] | None
    if name in OWN_SECTIONS:
        template = OWN_SECTIONS[name]
        data = own_section_context(user, card, name)
    else:
        panel = card_panel(name, card)
        if panel is None:
            raise NotFound(_("This section is not known."))
        template = panel.template
        rendered = render_card_panel(user, panel, card)
        data = None if rendered is None else {"panel": rendered}
    response: HttpResponse
    if data is None:  # nothing for this card: the slot goes away (a link goes back to the page)
        response = HttpResponse("") if is_htmx(request) else redirect(page_path)
    elif is_htmx(request):
        response = render(request, template, {**context, **data})
    else:
        response = render(request, "cards/section.html", {**context, **data, "section_template": template})
    patch_vary_headers(response, ("HX-Request",))
    return response


def share_form_for(user: User, data: QueryDict | None = None) -> ShareForm:
    from rapport.accounts.models import Team

    colleagues = User.objects.filter(is_active=True).exclude(pk=user.pk).order_by("username")[:500]
    return ShareForm(data, users=colleagues, teams=Team.objects.order_by("name")[:500], prefix="share")


@require_GET
@web_view
def card_detail(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    # "Show older entries": the whole timeline, as its own fragment over htmx.
    limit = TIMELINE_ALL if request.GET.get("timeline") == "all" else TIMELINE_FIRST
    if limit == TIMELINE_ALL and is_htmx(request):
        card = selectors.get_card(request.user, card_id)
        return render(request, "cards/_timeline.html", {"card": card, **timeline_context(request.user, card, limit)})
    # The card with its phones, e-mails and addresses: one statement.
    card, contacts = selectors.read_card_with_contacts(request.user, card_id)
    # Every section at once without scripts, for "?panels=all" and for the whole timeline.
    deferred = request.COOKIES.get(SCRIPTS_COOKIE) == "1" and request.GET.get("panels") != "all" and limit == TIMELINE_FIRST
    return render(request, "cards/detail.html", card_context(request, card, timeline_limit=limit, deferred=deferred, contacts=contacts))


@require_POST
@web_view
def card_add_fact(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    """Records a fact; htmx gets a fresh form plus the profile, facts and timeline re-rendered."""
    user = request.user
    card = selectors.get_card(user, card_id)
    form = fact_form_for(request, card, request.POST)
    if form.is_valid():
        try:
            services.add_fact(
                user=user,
                card=card,
                item_key=form.cleaned_data["item"],
                value=form.raw_value(),
                source_key=form.cleaned_data["source"],
                observed_at=form.cleaned_data["observed_at"] or None,
                confidence=form.confidence_value(),
                note=form.cleaned_data["note"],
                verified=form.cleaned_data["verified"],
                legal_basis=legal_basis_from(form) if form.takes_legal_basis else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc.errors, aliases=LEGAL_BASIS_ERROR_FIELDS)
    if form.errors:
        if is_htmx(request):
            return render(request, "cards/_fact_form.html", {"card": card, "fact_form": form, "can_write": True}, status=422)
        return render(request, "cards/detail.html", card_context(request, card, fact_form=form), status=422)
    if not is_htmx(request):
        messages.success(request, _("Fact recorded."))
        return redirect(reverse("card-detail", args=[card.id]) + "#profile")
    card = selectors.get_card(user, card.id)
    fresh = FactForm(items=form.items, sources=catalog.sources().values(), initial={"source": form.cleaned_data["source"]})
    context = {"card": card, "fact_form": fresh, "can_write": True, "saved": True, "oob": True}
    context.update(profile_context(user, card))
    context.update(facts_context(user, card))
    context.update(timeline_context(user, card))
    return render(request, "cards/_fact_saved.html", context)


@require_POST
@web_view
def card_add_employment(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    """Records where a person works; the organisation comes from the live search beside the field."""
    user = request.user
    card = selectors.get_card(user, card_id, Kind.PERSON)
    form = EmploymentForm(request.POST, prefix="job")
    query = request.POST.get("job-organization_q", "")
    form.set_organizations(organization_options(user, query, request.POST.get("job-organization")))
    if form.is_valid():
        if form.cleaned_data.get("organization") is None:
            form.add_error("organization", _("Search for the organisation, then choose it."))
        else:
            try:
                services.add_employment(user=user, person=card, data=form.service_data())
            except ValidationError as exc:
                add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "cards/detail.html", card_context(request, card, employment_form=form), status=422)
    messages.success(request, _("Employment recorded."))
    return redirect(reverse("card-detail", args=[card.id]) + "#employments")


def organization_options(user: User, query: str, chosen: str | None = None) -> list[Card]:
    """Organisations matching what the user typed (and the one already chosen), only visible ones."""
    from rapport.search.selectors import search_cards

    found = search_cards(user, query, kind=Kind.ORGANIZATION, limit=10) if query.strip() else []
    if chosen and chosen.isdigit() and all(c.id != int(chosen) for c in found):
        try:
            found.insert(0, selectors.get_card(user, int(chosen), Kind.ORGANIZATION))
        except NotFound:
            pass
    return found


@require_POST
@web_view
def organization_choices(request: AuthedHttpRequest) -> HttpResponse:
    """The organisation select of the employment form, refreshed as the user types (htmx).

    POST: the typed name is personal data and stays out of the URL (and so out of logs)."""
    query = request.POST.get("job-organization_q", "")[:200]
    chosen = request.POST.get("job-organization")
    form = EmploymentForm(prefix="job", organizations=organization_options(request.user, query, chosen))
    return render(request, "cards/_organization_choices.html", {"employment_form": form})


_PICKER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@require_POST
@web_view
def card_choices(request: AuthedHttpRequest) -> HttpResponse:
    """The options of a card picker (a form field naming other customers), refreshed as the user
    types a name (htmx): the cards already chosen stay on top and selected, then the matches.

    POST: the typed name is personal data and stays out of the URL (and so out of logs)."""
    picker = request.POST.get("picker", "")
    field = request.POST.get("field", "")
    kind = request.POST.get("kind", "")
    if not _PICKER_NAME.match(picker) or not _PICKER_NAME.match(field) or kind not in ("", Kind.ORGANIZATION, Kind.PERSON):
        return HttpResponse(_("This picker is not known."), status=400, content_type="text/plain; charset=utf-8")
    from rapport.search.selectors import search_cards

    multiple = request.POST.get("multiple") == "1"
    chosen = selectors.picked_cards(request.user, request.POST.getlist(field), kind=kind or None)
    if not multiple:
        chosen = chosen[:1]
    query = request.POST.get(f"{picker}-q", "")[:200]
    found = search_cards(request.user, query, kind=kind or None, limit=10) if query.strip() else []
    chosen_ids = {c.pk for c in chosen}
    return render(request, "cards/_card_choices.html", {
        "picker": {"id": picker, "name": field, "multiple": multiple, "kind": kind},
        "choices": chosen + [c for c in found if c.pk not in chosen_ids], "chosen_ids": chosen_ids,
        "searched": bool(query.strip()),
    })


@require_POST
@web_view
def card_share(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = selectors.get_card(user, card_id)
    form = share_form_for(user, request.POST)
    if form.is_valid():
        from rapport.accounts.models import Team

        target_user = User.objects.filter(pk=form.cleaned_data["user"]).first() if form.cleaned_data.get("user") else None
        target_team = Team.objects.filter(pk=form.cleaned_data["team"]).first() if form.cleaned_data.get("team") else None
        try:
            services.share_card(user=user, card=card, with_user=target_user, with_team=target_team)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "cards/detail.html", card_context(request, card, share_form=form), status=422)
    messages.success(request, _("Card shared."))
    return redirect(reverse("card-detail", args=[card.id]) + "#sharing")


@require_POST
@web_view
def card_unshare(request: AuthedHttpRequest, card_id: int, share_id: int) -> HttpResponse:
    card = selectors.get_card(request.user, card_id)
    services.unshare_card(user=request.user, card=card, share_id=share_id)
    messages.success(request, _("Sharing removed."))
    return redirect(reverse("card-detail", args=[card.id]) + "#sharing")


@require_POST
@web_view
def card_verify_fact(request: AuthedHttpRequest, card_id: int, fact_id: int) -> HttpResponse:
    """Marks one fact verified; htmx gets the profile, facts and timeline re-rendered in place."""
    user = request.user
    card = selectors.get_card(user, card_id)
    fact = selectors.get_fact(user, card, fact_id)
    services.verify_fact(user=user, fact=fact)
    if not is_htmx(request):
        messages.success(request, _("Fact verified."))
        return redirect(reverse("card-detail", args=[card.id]) + "#facts")
    card = selectors.get_card(user, card.id)
    context: dict[str, Any] = {"card": card, "can_write": True, "oob": True}
    context.update(profile_context(user, card))
    context.update(facts_context(user, card))
    context.update(timeline_context(user, card))
    return render(request, "cards/_fact_verified.html", context)


@require_GET
@web_view
def item_value_input(request: AuthedHttpRequest) -> HttpResponse:
    """The value widget that fits a catalog item: a select for choices, a date picker for dates…"""
    mode = "filter" if request.GET.get("mode") == "filter" else "fact"
    items = {i.key: i for i in selectors.filterable_items(request.user, None)}
    item = items.get(request.GET.get("item", ""))
    return render(request, "cards/_value_input.html", {"item": item, "mode": mode, "values": []})


@require_POST
@web_view
def card_archive(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = selectors.get_card(request.user, card_id)
    archive = request.POST.get("archived", "1") == "1"
    services.archive_card(user=request.user, card=card, archived=archive)
    messages.success(request, _("Card archived.") if archive else _("Card restored."))
    return redirect("card-detail", card_id=card.id)


# --- create and edit -------------------------------------------------------------------------


def _apply_card_errors(form: Any, formset: Any, errors: dict[str, list[str]], address_index: list[int]) -> None:
    """Service errors onto the form; ``addresses[1].city`` goes to the address row it came from."""
    rest: dict[str, list[str]] = {}
    for key, messages_ in errors.items():
        match = re.match(r"addresses\[(\d+)\](?:\.(\w+))?$", key)
        if match and int(match.group(1)) < len(address_index):
            row = formset.forms[address_index[int(match.group(1))]]
            name = match.group(2) if match.group(2) in row.fields else None
            for message in messages_:
                row.add_error(name, message)
        else:
            rest[key] = messages_
    add_service_errors(form, rest)


def _organization_choice(user: User, raw: Any) -> Card | None:
    """The organisation a new person works at, if the user may see it."""
    if not raw:
        return None
    try:
        return selectors.get_card(user, raw, Kind.ORGANIZATION)
    except NotFound:
        return None


def _card_create(request: AuthedHttpRequest, kind: str) -> HttpResponse:
    user = request.user
    if not scope_for(user).may_write_card(Card(owner=user)):
        raise PermissionDenied(_("Your role may not create cards."))
    form_class = OrganizationForm if kind == Kind.ORGANIZATION else PersonForm
    owners = people_selectors.assignable_owners(user)
    teams = people_selectors.assignable_teams(user)
    status = 200
    if request.method == "POST" and request.POST.get("prefill") == "1":
        # A new card started elsewhere (the screen pop's unknown caller): the number arrives in
        # the body, never in a URL, and the form opens filled with it, nothing checked yet.
        team_ids = scope_for(user).team_ids
        initial = {"team": team_ids[0] if team_ids else "", **_prefilled_phone(request.POST)}
        form = form_class(initial=initial, owners=owners, teams=teams)
        formset = address_formset()
        organization = None
    elif request.method == "POST":
        form = form_class(request.POST, owners=owners, teams=teams)
        formset = address_formset(request.POST)
        valid = form.is_valid() & formset.is_valid()  # both, so every error shows at once
        entries, index = formset_entries(formset)
        if valid:
            create = services.create_organization if kind == Kind.ORGANIZATION else services.create_person
            try:
                card = create(user=user, data=form.create_data(entries))
            except ValidationError as exc:
                _apply_card_errors(form, formset, exc.errors, index)
            else:
                messages.success(request, _("Card created."))
                _warn_possible_duplicates(request, card)
                return redirect("card-detail", card_id=card.id)
        status = 422
        organization = _organization_choice(user, request.POST.get("organization"))
    else:
        organization = _organization_choice(user, request.GET.get("organization"))
        team_ids = scope_for(user).team_ids
        initial = {"organization": organization.id if organization else "", "team": team_ids[0] if team_ids else ""}
        form = form_class(initial=initial, owners=owners, teams=teams)
        formset = address_formset()
    context = {"form": form, "formset": formset, "kind": kind, "card": None, "organization": organization}
    return render(request, "cards/form.html", context, status=status)


def _prefilled_phone(data: Any) -> dict[str, str]:
    """The first phone row of a new card's form from posted data, when it is a plain value."""
    from rapport.cards.models import PhoneKind

    number = str(data.get("phone_number_0") or "").strip()[:60]
    kind = str(data.get("phone_kind_0") or "")
    region = str(data.get("phone_region") or "").strip().upper()
    initial: dict[str, str] = {}
    if number:
        initial["phone_number_0"] = number
    if kind in PhoneKind.values:
        initial["phone_kind_0"] = kind
    if len(region) == 2 and region.isalpha():
        initial["phone_region"] = region
    return initial


def _warn_possible_duplicates(request: AuthedHttpRequest, card: Card) -> None:
    """The creation-time duplicate check ("this looks like X"): a warning, never a block."""
    from rapport.dedup.views import warn_possible_duplicates

    warn_possible_duplicates(request, card)


@require_http_methods(["GET", "POST"])
@web_view
def organization_create(request: AuthedHttpRequest) -> HttpResponse:
    return _card_create(request, Kind.ORGANIZATION)


@require_http_methods(["GET", "POST"])
@web_view
def person_create(request: AuthedHttpRequest) -> HttpResponse:
    return _card_create(request, Kind.PERSON)


_ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country", "kind")


def _address_rows(card: Card) -> list[dict[str, str]]:
    return [dict(zip(_ADDRESS_FIELDS, row)) for row in card.addresses.values_list(*_ADDRESS_FIELDS)]


@require_http_methods(["GET", "POST"])
@web_view
def card_edit(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    """Edits core fields; a change made meanwhile by someone else is reported, never overwritten."""
    user = request.user
    card = selectors.get_card(user, card_id)
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied(_("Your role may not change cards."))
    form_class = PersonForm if card.is_person else OrganizationForm
    owners = people_selectors.assignable_owners(user)
    teams = people_selectors.assignable_teams(user)
    conflict = False
    status = 200
    version = card.version
    if request.method == "POST":
        form = form_class(request.POST, owners=owners, teams=teams, card=card)
        formset = address_formset(request.POST, card=card)
        valid = form.is_valid() & formset.is_valid()
        entries, index = formset_entries(formset)
        raw_version = request.POST.get("version", "")
        version = int(raw_version) if raw_version.isdigit() else 0
        if valid:
            current = [{k: r[k] or "" for k in _ADDRESS_FIELDS} for r in _address_rows(card)]
            changed = [dict(sorted(e.items())) for e in entries] != [dict(sorted(r.items())) for r in current]
            try:
                services.update_card(
                    user=user, card=card, data=form.update_data(entries, changed), expected_version=version
                )
            except Conflict:
                conflict = True
            except ValidationError as exc:
                _apply_card_errors(form, formset, exc.errors, index)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("card-detail", card_id=card.id)
        status = 409 if conflict else 422
    else:
        form = form_class(owners=owners, teams=teams, card=card)
        formset = address_formset(card=card)
    context = {
        "form": form, "formset": formset, "kind": card.kind, "card": card, "version": version,
        "conflict": conflict, "organization": None,
    }
    return render(request, "cards/form.html", context, status=status)
