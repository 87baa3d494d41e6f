"""REST endpoints: an organisation's decision unit as a graph, its members and relationships,
and each contact's relationship stage, style, coaching and gifts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpResponse
from ninja import Router, Status

from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest, if_match_version, sent_fields
from rapport.relationships import selectors, services
from rapport.relationships.models import Gift, GiftPolicy, StyleCoaching
from rapport.relationships.schemas import (
    ContactRelationshipOut,
    ContactRelationshipPatch,
    DecisionUnitOut,
    EdgeList,
    EdgeOut,
    GiftIn,
    GiftList,
    GiftOut,
    GiftPolicyIn,
    GiftPolicyOut,
    MemberIn,
    MemberPatch,
    NodeOut,
    QuestionnaireIn,
    QuestionnaireOut,
    RelationshipIn,
    RelationshipPatch,
)

router = Router(tags=["relationships"])


def graph_out(graph: selectors.DecisionUnitGraph) -> dict[str, Any]:
    return {
        "organization": graph.organization.pk,
        # Shallow dicts: dataclasses.asdict deep-copies every field, a third of the answer's time.
        "nodes": [dict(vars(n)) for n in graph.nodes],
        "edges": [dict(vars(e)) for e in graph.edges],
        "warnings": [dict(vars(w)) for w in graph.warnings],
        "influence_total": graph.influence_total,
    }


@router.get("/organizations/{org_id}/decision-unit", response=DecisionUnitOut, summary="The decision unit as a graph with warnings")
def get_decision_unit(request: AuthedHttpRequest, org_id: int) -> dict[str, Any]:
    return graph_out(selectors.decision_unit(request.user, org_id))


@router.post("/organizations/{org_id}/decision-unit/members", response={201: NodeOut}, summary="Add a person to the decision unit")
def add_member(request: AuthedHttpRequest, org_id: int, payload: MemberIn) -> Status[dict[str, Any]]:
    member = services.add_member(user=request.user, organization_id=org_id, data=sent_fields(request, payload))
    return Status(201, _node(request, member.unit.organization_id, member.person_id))


def _node(request: AuthedHttpRequest, org_id: int, person_id: int) -> dict[str, Any]:
    graph = selectors.decision_unit(request.user, org_id)
    return asdict(next(n for n in graph.nodes if n.person == person_id))


@router.patch("/decision-unit/members/{member_id}", response=NodeOut, summary="Change a member (If-Match: the version)")
def update_member(request: AuthedHttpRequest, response: HttpResponse, member_id: int, payload: MemberPatch) -> dict[str, Any]:
    member = services.update_member(
        user=request.user, member_id=member_id, data=sent_fields(request, payload), expected_version=if_match_version(request)
    )
    response["ETag"] = f'"{member.version}"'
    return _node(request, member.unit.organization_id, member.person_id)


@router.delete("/decision-unit/members/{member_id}", response={204: None}, summary="Remove a member from the unit")
def remove_member(request: AuthedHttpRequest, member_id: int) -> Status[None]:
    services.remove_member(user=request.user, member_id=member_id)
    return Status(204, None)


@router.get("/people/{person_id}/relationships", response=EdgeList, summary="A person's relationships with people you can see")
def list_relationships(request: AuthedHttpRequest, person_id: int) -> dict[str, Any]:
    edges = [_edge(r) for r in selectors.relationships_of(request.user, person_id)]
    return {"items": edges, "count": len(edges)}


@router.post("/people/{person_id}/relationships", response={201: EdgeOut}, summary="Record a relationship from this person to another")
def add_relationship(request: AuthedHttpRequest, person_id: int, payload: RelationshipIn) -> Status[dict[str, Any]]:
    data = sent_fields(request, payload)
    rel = services.add_relationship(user=request.user, data={**data, "from_person": person_id})
    return Status(201, _edge(rel))


def _edge(rel: Any) -> dict[str, Any]:
    return {
        "id": rel.pk,
        "source": rel.from_person_id,
        "target": rel.to_person_id,
        "kind": rel.kind,
        "directed": rel.directed,
        "strength": rel.strength,
        "note": rel.note,
    }


@router.patch("/decision-unit/relationships/{rel_id}", response=EdgeOut, summary="Change a relationship")
def update_relationship(request: AuthedHttpRequest, rel_id: int, payload: RelationshipPatch) -> dict[str, Any]:
    return _edge(services.update_relationship(user=request.user, relationship_id=rel_id, data=sent_fields(request, payload)))


@router.delete("/decision-unit/relationships/{rel_id}", response={204: None}, summary="Delete a relationship")
def delete_relationship(request: AuthedHttpRequest, rel_id: int) -> Status[None]:
    services.delete_relationship(user=request.user, relationship_id=rel_id)
    return Status(204, None)


def _coaching(row: StyleCoaching | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {f: getattr(row, f) for f in ("style", "language", "how_to_open", "emphasise", "avoid", "evidence", "question_words")}


def contact_out(state: selectors.ContactState) -> dict[str, Any]:
    return {
        "person": state.person.pk,
        "stage": state.stage,
        "style": state.style,
        "evidence_by_stage": state.evidence_by_stage,
        "evidence": [asdict(e) for e in state.evidence],
        "moves": [
            {
                "from_stage": m.from_stage,
                "to_stage": m.to_stage,
                "evidence": m.evidence,
                "note": m.note,
                "changed_at": m.changed_at,
                "changed_by": m.changed_by_id,
            }
            for m in state.moves
        ],
        "coaching": _coaching(state.coaching),
        "next_step": state.next_step,
    }


@router.get("/people/{person_id}/relationship", response=ContactRelationshipOut, summary="Stage, evidence, style, coaching and next step")
def get_contact(request: AuthedHttpRequest, person_id: int) -> dict[str, Any]:
    return contact_out(selectors.contact_state(request.user, person_id))


@router.patch("/people/{person_id}/relationship", response=ContactRelationshipOut, summary="Move the stage and/or set the style")
def update_contact(request: AuthedHttpRequest, person_id: int, payload: ContactRelationshipPatch) -> dict[str, Any]:
    data = sent_fields(request, payload)
    unknown = set(data) - {"stage", "note", "style"}
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
    # Both changes in one transaction: a bad style must not leave a moved stage behind.
    from django.db import transaction

    with transaction.atomic():
        if "stage" in data:
            services.set_stage(user=request.user, person_id=person_id, stage=data["stage"], note=data.get("note") or "")
        if "style" in data:
            services.set_style(user=request.user, person_id=person_id, style=data["style"])
    return contact_out(selectors.contact_state(request.user, person_id))


@router.post("/people/{person_id}/relationship/questionnaire", response=QuestionnaireOut, summary="Suggest (and optionally save) the style from answers")
def questionnaire(request: AuthedHttpRequest, person_id: int, payload: QuestionnaireIn) -> dict[str, Any]:
    selectors.get_person(request.user, person_id)
    style = services.suggest_style(payload.answers)
    if payload.save:
        services.set_style(user=request.user, person_id=person_id, style=style, answers=payload.answers)
    return {"style": style, "saved": payload.save}


def gift_out(gift: Gift, warnings: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": gift.pk,
        "kind": gift.kind,
        "description": gift.description,
        "value": str(gift.value),
        "currency": gift.currency,
        "given_on": gift.given_on,
        "over_limit": gift.over_limit,
        "justification": gift.justification,
        "warnings": warnings or [],
    }


@router.get("/people/{person_id}/gifts", response=GiftList, summary="Gifts and hospitality given to a contact")
def list_gifts(request: AuthedHttpRequest, person_id: int) -> dict[str, Any]:
    gifts = selectors.gifts_of(request.user, person_id)
    return {"items": [gift_out(g) for g in gifts], "count": len(gifts)}


@router.post("/people/{person_id}/gifts", response={201: GiftOut}, summary="Record a gift or hospitality (limits enforced)")
def record_gift(request: AuthedHttpRequest, person_id: int, payload: GiftIn) -> Status[dict[str, Any]]:
    gift, warnings = services.record_gift(user=request.user, person_id=person_id, data=sent_fields(request, payload))
    return Status(201, gift_out(gift, warnings))


def policy_out(policy: GiftPolicy) -> dict[str, Any]:
    return {
        "currency": policy.currency,
        "per_gift_limit": None if policy.per_gift_limit is None else str(policy.per_gift_limit),
        "per_contact_year_limit": None if policy.per_contact_year_limit is None else str(policy.per_contact_year_limit),
    }


@router.get("/decision-unit/gifts/policy", response=GiftPolicyOut, summary="The value limits on gifts and hospitality")
def get_policy(request: AuthedHttpRequest) -> dict[str, Any]:
    return policy_out(selectors.gift_policy())


@router.put("/decision-unit/gifts/policy", response=GiftPolicyOut, summary="Set the value limits (admins)")
def put_policy(request: AuthedHttpRequest, payload: GiftPolicyIn) -> dict[str, Any]:
    return policy_out(services.set_gift_policy(user=request.user, data=sent_fields(request, payload)))
