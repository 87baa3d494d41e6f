"""REST endpoints for organisations, people, their facts, timelines and employments."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpResponse
from ninja import Query, Router, Status, Schema
from pydantic import Field

from rapport.cards import selectors, services
from rapport.cards.models import Card, Fact, Kind
from rapport.cards.schemas import (
    CardCreatedOut,
    CardDetailOut,
    CardList,
    CardOut,
    CardPatch,
    EmploymentIn,
    EmploymentList,
    EmploymentOut,
    FactIn,
    FactList,
    FactOut,
    OrganizationIn,
    PersonIn,
    TimelineOut,
)
from rapport.core.errors import NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest, if_match_version
from rapport.core.pagination import PageParams

router = Router(tags=["cards"])

KindPath = Literal["organizations", "people"]
# Lists count up to this many; beyond it "count" is this number and "count_exact" is false.
COUNT_LIMIT = 10_000
KIND_OF = {"organizations": Kind.ORGANIZATION, "people": Kind.PERSON}
MAX_ID = 2**62  # beyond every database's integer: refused with 422 instead of overflowing in the driver


class CardFilterParams(Schema):
    q: str = Field("", max_length=300, description=(
        "Name prefix. Deprecated: it puts a name in the URL, where access logs and proxies keep it; "
        "POST /api/v1/search with {\"q\", \"kind\"} finds cards by name with the text in the body."
    ), json_schema_extra={"deprecated": True})
    owner: int | None = Field(None, ge=1, le=MAX_ID)
    team: int | None = Field(None, ge=1, le=MAX_ID)
    tier: str = Field("", max_length=1)
    stage: str = Field("", max_length=16)
    industry: str = Field("", max_length=120)
    item: str = Field("", max_length=64, description="Catalog item key to filter on")
    value: str = Field("", max_length=500, description="Value of `item`; empty: any value")
    archived: bool = False
    organization: int | None = Field(None, ge=1, le=MAX_ID, description="People currently employed there")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Members of a saved segment")

    def visible_filter(self, user: Any, kind: str | None = None) -> selectors.CardFilter:
        """The filter, after checking that a card it names is one the user may see: a list of
        the people of an organisation out of reach would tell what its own page hides."""
        if self.organization is not None:
            try:
                selectors.get_card(user, self.organization, Kind.ORGANIZATION)
            except NotFound:
                raise ValidationError.single("organization", "Unknown organisation.") from None
        data = self.dict()
        return selectors.CardFilter(**data) if kind is None else selectors.CardFilter(kind=kind, **data)


def _detail(request: AuthedHttpRequest, card: Card, contacts: selectors.Contacts | None = None) -> dict[str, Any]:
    if contacts is None:
        contacts = selectors.card_contacts(card)  # phones, e-mails and addresses: one query
    data = CardOut.from_card(card, contacts)
    data["addresses"] = contacts.addresses
    # In SocialSchema's order: PostgreSQL's jsonb gives an object's keys back in an order of its own.
    data["social"] = [{"network": page.get("network", ""), "url": page.get("url", "")} for page in card.social or []]
    data["profile"] = {
        v.item.key: {
            "value": v.value,
            "source": v.source_key,
            "confidence": v.confidence,
            "verified": v.verified,
            "observed_at": v.observed_at,
            "fact_id": v.fact_id,
        }
        for v in selectors.profile_of(request.user, card, display=False)
    }
    return data


def _list(request: AuthedHttpRequest, kind: str, filters: CardFilterParams, page: PageParams) -> dict[str, Any]:
    flt = filters.visible_filter(request.user, kind)
    offset, limit = page.clamp()
    rows, total = selectors.list_card_rows(request.user, flt, offset=offset, limit=limit, count_limit=COUNT_LIMIT)
    exact = total <= COUNT_LIMIT
    return {"items": [CardOut.from_row(row) for row in rows], "count": min(total, COUNT_LIMIT), "count_exact": exact}


@router.get("/organizations", response=CardList, summary="List organisations")
def list_organizations(request: AuthedHttpRequest, filters: Query[CardFilterParams], page: Query[PageParams]) -> dict[str, Any]:
    return _list(request, Kind.ORGANIZATION, filters, page)


@router.get("/people", response=CardList, summary="List people")
def list_people(request: AuthedHttpRequest, filters: Query[CardFilterParams], page: Query[PageParams]) -> dict[str, Any]:
    return _list(request, Kind.PERSON, filters, page)


def _created(request: AuthedHttpRequest, card: Card) -> dict[str, Any]:
    data = _detail(request, selectors.get_card(request.user, card.pk))
    # The creation-time duplicate check: a warning in the answer, never a refusal.
    from rapport.dedup.services import check_new_card

    data["possible_duplicates"] = [m.as_dict() for m in check_new_card(user=request.user, card=card)]
    return data


@router.post("/organizations", response={201: CardCreatedOut}, summary="Create an organisation")
def create_organization(request: AuthedHttpRequest, payload: OrganizationIn) -> Status[dict[str, Any]]:
    card = services.create_organization(user=request.user, data=payload.dict(exclude_none=True))
    return Status(201, _created(request, card))


@router.post("/people", response={201: CardCreatedOut}, summary="Create a person")
def create_person(request: AuthedHttpRequest, payload: PersonIn) -> Status[dict[str, Any]]:
    card = services.create_person(user=request.user, data=payload.dict(exclude_none=True))
    return Status(201, _created(request, card))


@router.get("/{kind}/{card_id}", response=CardDetailOut, summary="A card with its current profile")
def get_card(request: AuthedHttpRequest, response: HttpResponse, kind: KindPath, card_id: int) -> HttpResponse:
    # The card with its phones, e-mails and addresses: one statement.
    card, contacts = selectors.read_card_with_contacts(request.user, card_id, KIND_OF[kind])
    response["ETag"] = f'"{card.version}"'
    from rapport.core.api import answer  # here: rapport.core.api imports this module's router

    # _detail builds CardDetailOut field by field (held to it by test_api_card_read.py).
    return answer(request, _detail(request, card, contacts), response=response)


@router.patch("/{kind}/{card_id}", response=CardDetailOut, summary="Change core fields of a card")
def update_card(request: AuthedHttpRequest, response: HttpResponse, kind: KindPath, card_id: int, payload: CardPatch) -> dict[str, Any]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    # Optimistic concurrency: a change must name the version it was based on (428 without it,
    # 412 when someone else changed the card since).
    expected = if_match_version(request, required=True, what="card")
    card = services.update_card(user=request.user, card=card, data=payload.dict(exclude_unset=True), expected_version=expected)
    card = selectors.get_card(request.user, card.pk)
    response["ETag"] = f'"{card.version}"'
    return _detail(request, card)


@router.post("/{kind}/{card_id}/archive", response=CardOut, summary="Archive a card")
def archive_card(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    return CardOut.from_card(services.archive_card(user=request.user, card=card, archived=True))


@router.post("/{kind}/{card_id}/restore", response=CardOut, summary="Restore an archived card")
def restore_card(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    return CardOut.from_card(services.archive_card(user=request.user, card=card, archived=False))


@router.get("/{kind}/{card_id}/facts", response=FactList, summary="Facts recorded about a card, newest first")
def list_facts(request: AuthedHttpRequest, kind: KindPath, card_id: int, item: str = "") -> dict[str, Any]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    facts = selectors.facts_of(request.user, card, item_key=item or None)
    return {"items": [FactOut.from_fact(f) for f in facts], "count": len(facts)}


@router.post("/{kind}/{card_id}/facts", response={201: FactOut}, summary="Record a fact with its provenance")
def add_fact(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: FactIn) -> Status[dict[str, Any]]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    fact = services.add_fact(
        user=request.user,
        card=card,
        item_key=payload.item,
        value=payload.value,
        source_key=payload.source,
        observed_at=payload.observed_at,
        confidence=payload.confidence,
        note=payload.note or "",
        legal_basis=payload.legal_basis.dict() if payload.legal_basis else None,
    )
    fact = Fact.objects.select_related("item", "source", "recorded_by").get(pk=fact.pk)
    return Status(201, FactOut.from_fact(fact))


@router.post("/facts/{fact_id}/verify", response=FactOut, summary="Mark a fact verified")
def verify_fact(request: AuthedHttpRequest, fact_id: int) -> dict[str, Any]:
    card_id = Fact.objects.filter(pk=fact_id).values_list("card_id", flat=True).first()
    if card_id is None:
        raise NotFound("fact")
    card = selectors.get_card(request.user, card_id)  # 404 when the card is out of reach
    fact = services.verify_fact(user=request.user, fact=selectors.get_fact(request.user, card, fact_id))
    return FactOut.from_fact(Fact.objects.select_related("item", "source", "recorded_by").get(pk=fact.pk))


@router.get("/{kind}/{card_id}/timeline", response=TimelineOut, summary="Activities, facts and stage changes, newest first")
def timeline(request: AuthedHttpRequest, kind: KindPath, card_id: int, limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    entries = selectors.timeline_of(request.user, card, limit=limit)
    return {"items": [e.__dict__ for e in entries], "count": len(entries)}


def _employment_out(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "person": {"id": e.person_id, "name": e.person.display_name},
        "organization": {"id": e.organization_id, "name": e.organization.display_name},
        "title": e.title,
        "level": e.level,
        "function": e.function,
        "started_on": e.started_on,
        "ended_on": e.ended_on,
        "current": e.is_current,
    }


@router.get("/{kind}/{card_id}/employments", response=EmploymentList, summary="Where a person works / who works at an organisation")
def employments(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    card = selectors.get_card(request.user, card_id, KIND_OF[kind])
    rows = selectors.employments_of(request.user, card)
    for row in rows:
        # employments_of loads the other side; the card itself is this one.
        if card.kind == Kind.PERSON:
            row.person = card
        else:
            row.organization = card
    return {"items": [_employment_out(e) for e in rows], "count": len(rows)}


# Same path as the GET above: Django matches the first pattern, so a separate
# "/people/{card_id}/employments" path would answer 405 to every POST.
@router.post("/{kind}/{card_id}/employments", response={201: EmploymentOut}, summary="Record an employment (people only)")
def add_employment(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: EmploymentIn) -> Status[dict[str, Any]]:
    if kind != "people":
        raise NotFound("person")
    person = selectors.get_card(request.user, card_id, Kind.PERSON)
    employment = services.add_employment(user=request.user, person=person, data=payload.dict(exclude_none=True))
    return Status(201, _employment_out(employment))
