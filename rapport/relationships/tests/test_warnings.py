"""Warnings on a decision unit and the influence total."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.cards.models import Employment
from rapport.relationships import selectors, services
from rapport.relationships.tests.factories import org_with_people


def codes(user: Any, org: Any) -> list[str]:
    return [w.code for w in selectors.decision_unit(user, org.pk).warnings]


def healthy_unit(users: dict[str, Any]) -> tuple[Any, list[Any], list[Any]]:
    org, people = org_with_people(users)
    ana = users["rep_ana"]
    members = [
        services.add_member(user=ana, organization_id=org.pk, data={"person": people[0].pk, "level": "decision", "roles": ["decision_maker"], "influence": 50, "attitude": "supporter"}),
        services.add_member(user=ana, organization_id=org.pk, data={"person": people[1].pk, "level": "management", "influence": 30, "attitude": "supporter", "coach": True}),
        services.add_member(user=ana, organization_id=org.pk, data={"person": people[2].pk, "level": "operational", "influence": 20, "attitude": "opponent"}),
    ]
    return org, people, members


def test_a_healthy_unit_has_no_warnings(users: dict[str, Any]) -> None:
    org, _people, _members = healthy_unit(users)
    assert codes(users["rep_ana"], org) == []


def test_an_empty_unit_warns_of_no_decision_level_and_no_coach(users: dict[str, Any]) -> None:
    org, _people = org_with_people(users)
    assert codes(users["rep_ana"], org) == ["no_decision_level", "no_coach"]


def test_shares_that_do_not_add_up_to_100_are_reported_with_the_total(users: dict[str, Any]) -> None:
    org, _people, members = healthy_unit(users)
    services.update_member(user=users["rep_ana"], member_id=members[2].pk, data={"influence": 35})
    graph = selectors.decision_unit(users["rep_ana"], org.pk)
    assert graph.influence_total == 115
    warning = next(w for w in graph.warnings if w.code == "influence_total")
    assert "115%" in warning.message


def test_a_decision_maker_who_is_not_a_supporter_is_named(users: dict[str, Any]) -> None:
    org, people, members = healthy_unit(users)
    services.update_member(user=users["rep_ana"], member_id=members[0].pk, data={"attitude": "neutral"})
    warning = next(w for w in selectors.decision_unit(users["rep_ana"], org.pk).warnings if w.code == "decision_maker_not_supporter")
    assert warning.person == people[0].pk
    assert people[0].display_name in warning.message


def test_opponents_holding_more_influence_than_supporters_are_flagged(users: dict[str, Any]) -> None:
    org, _people, members = healthy_unit(users)
    services.update_member(user=users["rep_ana"], member_id=members[1].pk, data={"attitude": "opponent"})
    # supporters 50, opponents 30 + 20 = 50: not more
    assert "opponents_outweigh_supporters" not in codes(users["rep_ana"], org)
    services.update_member(user=users["rep_ana"], member_id=members[2].pk, data={"influence": 21})
    assert "opponents_outweigh_supporters" in codes(users["rep_ana"], org)


def test_no_coach_and_no_decision_level_are_flagged(users: dict[str, Any]) -> None:
    org, _people, members = healthy_unit(users)
    services.update_member(user=users["rep_ana"], member_id=members[1].pk, data={"coach": False})
    services.update_member(user=users["rep_ana"], member_id=members[0].pk, data={"level": "management"})
    assert {"no_coach", "no_decision_level"} <= set(codes(users["rep_ana"], org))


def test_a_relied_on_contact_whose_employment_ended_is_flagged_and_no_longer_counts(users: dict[str, Any]) -> None:
    org, people, _members = healthy_unit(users)
    Employment.objects.filter(person=people[1], organization=org).update(ended_on=dt.date(2020, 1, 31))
    graph = selectors.decision_unit(users["rep_ana"], org.pk)
    left = [w for w in graph.warnings if w.code == "contact_left"]
    assert [w.person for w in left] == [people[1].pk]
    # The coach has gone, and so has their share of the decision.
    assert {"no_coach", "influence_total"} <= {w.code for w in graph.warnings}
    assert next(n for n in graph.nodes if n.person == people[1].pk).has_left


def test_an_opponent_who_left_is_not_a_contact_we_relied_on(users: dict[str, Any]) -> None:
    org, people, _members = healthy_unit(users)
    Employment.objects.filter(person=people[2], organization=org).update(ended_on=dt.date(2020, 1, 31))
    assert "contact_left" not in codes(users["rep_ana"], org)


def test_warning_messages_follow_the_active_language(users: dict[str, Any]) -> None:
    from django.utils import translation

    org, _people = org_with_people(users)
    with translation.override("es"):
        messages = [w.message for w in selectors.decision_unit(users["rep_ana"], org.pk).warnings]
    with translation.override("en"):
        english = [w.message for w in selectors.decision_unit(users["rep_ana"], org.pk).warnings]
    assert messages != english
