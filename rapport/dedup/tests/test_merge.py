"""Merging two cards moves everything that points at the loser, and undo puts it all back."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.activities.models import Participant
from rapport.activities.services import log_activity
from rapport.cards.models import Card, Employment, Fact, Share, StageChange
from rapport.cards.services import add_employment, add_fact, share_card
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.dedup import services
from rapport.dedup.models import Candidate, CandidateStatus, Merge


@pytest.fixture
def pair(users: dict[str, Any], make_person: Any, make_org: Any) -> tuple[Card, Card, Card]:
    org = make_org(name="Ferretería Central")
    keep = make_person(given_name="María", family_name="García", phones=["+34612345678"], emails=["maria@central.es"])
    drop = make_person(
        owner="rep_ben", given_name="Maria", family_name="Garcia", phones=["+34612345678", "+34699111222"],
        emails=["m.garcia@gmail.com"], website="https://mgarcia.es",
    )
    add_fact(user=users["rep_ben"], card=drop, item_key="birth_date", value="1980-04-02", source_key="customer_roster")
    add_fact(user=users["rep_ana"], card=keep, item_key="hobbies", value="golf", source_key="customer_roster")
    add_employment(user=users["rep_ben"], person=drop, data={"organization": org.id, "title": "Compras"})
    log_activity(user=users["rep_ben"], data={"kind": "call", "summary": "Pedido", "cards": [drop.id, keep.id]})
    log_activity(user=users["rep_ben"], data={"kind": "visit", "summary": "Visita", "cards": [drop.id]})
    share_card(user=users["rep_ben"], card=drop, with_user=users["rep_bo_other_team"])
    return keep, drop, org


def test_merge_moves_facts_employments_activities_shares_and_contact_points(users: dict[str, Any], pair: Any) -> None:
    keep, drop, org = pair
    merge = services.merge_cards(user=users["rep_ana"], survivor=keep, loser=drop)
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert drop.archived_at is not None and drop.profile == {}
    assert sorted(keep.phones.values_list("e164", flat=True)) == ["+34612345678", "+34699111222"]
    assert set(keep.emails.values_list("address", flat=True)) == {"maria@central.es", "m.garcia@gmail.com"}
    fact = Fact.objects.get(card=keep, item__key="birth_date")
    assert fact.recorded_by == users["rep_ben"] and fact.source.key == "customer_roster"  # provenance kept
    assert keep.profile["birth_date"]["v"] == "1980-04-02" and "hobbies" in keep.profile
    assert Employment.objects.filter(person=keep, organization=org).exists()
    assert Participant.objects.filter(card=keep).count() == 2  # the shared call is not doubled
    assert Participant.objects.filter(card=drop).count() == 1
    assert Share.objects.filter(card=keep, user=users["rep_bo_other_team"]).exists()
    assert StageChange.objects.filter(card=keep).count() == 2
    assert keep.website == "https://mgarcia.es"  # a blank column takes the loser's value
    assert Merge.objects.get(pk=merge.pk).record["moved"]
    assert Candidate.objects.get(left=keep, right=drop).status == CandidateStatus.MERGED


def test_undo_restores_both_cards_as_they_were(users: dict[str, Any], pair: Any) -> None:
    keep, drop, org = pair

    def state(card: Card) -> dict[str, Any]:
        card.refresh_from_db()
        return {
            "phones": sorted(card.phones.values_list("e164", flat=True)),
            "emails": sorted(card.emails.values_list("address", flat=True)),
            "facts": sorted(card.facts.values_list("id", flat=True)),
            "profile": {k: v["v"] for k, v in card.profile.items()},
            "jobs": sorted(Employment.objects.filter(person=card).values_list("id", flat=True)),
            "activities": sorted(Participant.objects.filter(card=card).values_list("activity_id", flat=True)),
            "shares": sorted(Share.objects.filter(card=card).values_list("id", flat=True)),
            "stages": sorted(StageChange.objects.filter(card=card).values_list("id", flat=True)),
            "archived": card.archived_at,
            "website": card.website,
        }

    before = (state(keep), state(drop))
    merge = services.merge_cards(user=users["rep_ana"], survivor=keep, loser=drop)
    services.undo_merge(user=users["rep_ana"], merge=merge)
    assert (state(keep), state(drop)) == before
    assert Candidate.objects.get(left=keep, right=drop).status == CandidateStatus.PENDING
    with pytest.raises(Conflict):
        services.undo_merge(user=users["rep_ana"], merge=merge)


def test_every_foreign_key_to_a_card_is_found_by_introspection() -> None:
    found = {(r.label, r.field) for r in services.card_relations()}
    assert {
        ("cards.phone", "card"), ("cards.email", "card"), ("cards.address", "card"), ("cards.fact", "card"),
        ("cards.employment", "person"), ("cards.employment", "organization"), ("cards.share", "card"),
        ("cards.stagechange", "card"), ("activities.participant", "card"),
    } <= found
    assert not {label for label, _ in found} & services.NOT_MOVED


def test_a_rep_cannot_merge_a_card_of_another_team(users: dict[str, Any], make_person: Any) -> None:
    mine = make_person()
    theirs = make_person(owner="rep_bo_other_team")
    with pytest.raises(NotFound):
        services.merge_cards(user=users["rep_ana"], survivor=mine, loser=theirs)
    assert Merge.objects.count() == 0 and Card.objects.get(pk=theirs.pk).archived_at is None


def test_an_analyst_reads_but_may_not_merge(users: dict[str, Any], make_person: Any) -> None:
    a, b = make_person(), make_person()
    with pytest.raises(PermissionDenied):
        services.merge_cards(user=users["analyst_al"], survivor=a, loser=b)


def test_a_card_is_merged_only_once_and_never_into_itself(users: dict[str, Any], make_person: Any) -> None:
    a, b, c = make_person(), make_person(), make_person()
    with pytest.raises(ValidationError):
        services.merge_cards(user=users["rep_ana"], survivor=a, loser=a)
    services.merge_cards(user=users["rep_ana"], survivor=a, loser=b)
    with pytest.raises((ValidationError, NotFound)):
        services.merge_cards(user=users["rep_ana"], survivor=c, loser=b)


def test_an_organisation_cannot_be_merged_into_a_person(users: dict[str, Any], make_person: Any, make_org: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.merge_cards(user=users["rep_ana"], survivor=make_person(), loser=make_org())
    assert "loser" in exc.value.errors


def test_undo_waits_for_a_later_merge_of_the_same_card(users: dict[str, Any], make_person: Any) -> None:
    a, b, c = make_person(), make_person(), make_person()
    first = services.merge_cards(user=users["rep_ana"], survivor=a, loser=b)
    second = services.merge_cards(user=users["rep_ana"], survivor=c, loser=a)
    with pytest.raises(Conflict):
        services.undo_merge(user=users["rep_ana"], merge=first)
    services.undo_merge(user=users["rep_ana"], merge=second)
    services.undo_merge(user=users["rep_ana"], merge=first)
    assert Card.objects.filter(pk__in=[a.pk, b.pk, c.pk], archived_at__isnull=True).count() == 3


def test_merging_a_card_of_a_colleague_keeps_it_visible_to_them(users: dict[str, Any], make_person: Any) -> None:
    mine = make_person(owner="rep_ana")
    theirs = make_person(owner="rep_bo_other_team")
    services.merge_cards(user=users["admin"], survivor=mine, loser=theirs)
    from rapport.core.visibility import visible_to

    assert visible_to(users["rep_bo_other_team"]).filter(pk=mine.pk).exists()


def test_a_merge_and_its_undo_are_in_the_audit_log_and_the_lists_follow(users: dict[str, Any], pair: Any) -> None:
    from rapport.audit.models import AuditEntry
    from rapport.cards.models import CurrentValue
    from rapport.search.models import Term

    keep, drop, _org = pair
    merge = services.merge_cards(user=users["rep_ana"], survivor=keep, loser=drop)
    assert not CurrentValue.objects.filter(card=drop, archived=False).exists()
    assert not Term.objects.filter(card_id=drop.pk, archived=False).exists()
    services.undo_merge(user=users["rep_ana"], merge=merge)
    details = [e.detail for e in AuditEntry.objects.filter(action="merge").order_by("id")]
    assert [(d["survivor"], d["loser"], d["undone"]) for d in details] == [(keep.pk, drop.pk, False), (keep.pk, drop.pk, True)]
