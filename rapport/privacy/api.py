"""Data-subject rights and consent over the API."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpResponse
from ninja import Router, Status

from rapport.cards import selectors as cards
from rapport.cards.models import Kind
from rapport.core.api import require_admin_scope
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.privacy import selectors, services
from rapport.privacy.schemas import ConsentIn, ConsentList, ConsentOut, EraseIn, EraseOut, TombstoneOut, TombstoneQuery

router = Router(tags=["privacy"])


@router.get("/people/{card_id}/export", summary="Everything held about a person (GDPR art. 15/20), as JSON or vCard",
            response={200: dict[str, Any]})
def export_person(request: AuthedHttpRequest, card_id: int, format: Literal["json", "vcard"] = "json") -> Any:
    require_admin_scope(request)
    document = services.export_person(user=request.user, card_id=card_id)
    if format == "vcard":
        response = HttpResponse(services.vcard_of(document), content_type="text/vcard; charset=utf-8")
    else:
        response = HttpResponse(services.export_json(document), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{card_id}.{"vcf" if format == "vcard" else "json"}"'
    return response


@router.post("/people/{card_id}/erase", response=EraseOut, summary="Erase a person (GDPR art. 17); cannot be undone")
def erase_person(request: AuthedHttpRequest, card_id: int, payload: EraseIn) -> dict[str, Any]:
    require_admin_scope(request)
    if not payload.confirm:
        raise ValidationError.single("confirm", "Set confirm to true to erase this person.")
    result = services.erase_person(user=request.user, card_id=card_id)
    return {"pseudonym": result.pseudonym, "summary": result.summary}


@router.get("/people/{card_id}/consents", response=ConsentList, summary="Consents and legal bases of a person")
def consents(request: AuthedHttpRequest, card_id: int) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, Kind.PERSON)
    rows = selectors.legal_bases_of(request.user, card)
    return {"items": [ConsentOut.from_row(r) for r in rows], "count": len(rows)}


@router.post("/people/{card_id}/consents", response={201: ConsentOut}, summary="Record consent or another legal basis for a purpose")
def add_consent(request: AuthedHttpRequest, card_id: int, payload: ConsentIn) -> Status[dict[str, Any]]:
    card = cards.get_card(request.user, card_id, Kind.PERSON)
    if payload.purpose == "special" and not scope_for(request.user).may_see_special:
        raise ValidationError.single("purpose", f"{payload.purpose!r} is not one of: sales, marketing, profiling.")
    row = services.record_consent(user=request.user, card=card, purpose=payload.purpose, legal_basis=payload.legal_basis.dict())
    return Status(201, ConsentOut.from_row(row))


@router.post("/people/{card_id}/consents/{consent_id}/withdraw", response=ConsentOut, summary="Withdraw a consent")
def withdraw_consent(request: AuthedHttpRequest, card_id: int, consent_id: int) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, Kind.PERSON)
    return ConsentOut.from_row(services.withdraw_consent(user=request.user, card=card, basis_id=consent_id))


@router.post("/tombstones/check", response=TombstoneOut, summary="Whether identifiers belong to an erased person (for importers)")
def tombstone_check(request: AuthedHttpRequest, payload: TombstoneQuery) -> dict[str, Any]:
    if not scope_for(request.user).may_write_card(None):  # type: ignore[arg-type]
        raise PermissionDenied("Your role may not import cards.")
    return {"tombstoned": services.is_tombstoned(emails=payload.emails, phones=payload.phones, external_ids=payload.external_ids)}
