"""The decision-unit panel of an organisation card and the relationship panel of a person card:
the same answers as the map and the preparation page, in few queries, and one query for a card
with nothing recorded (most cards)."""

from __future__ import annotations

from typing import Any

from rapport.core.extensions import card_panel, render_card_panel
from rapport.relationships import selectors, services
from rapport.relationships.tests.factories import org_with_people


def panel_data(user: Any, key: str, card: Any) -> dict[str, Any]:
    panel = card_panel(key, card)
    assert panel is not None
    rendered = render_card_panel(user, panel, card)
    assert rendered is not None
    return rendered.data


def test_an_organization_without_a_decision_unit_reads_its_panel_in_one_query(
    ana: Any, users: dict[str, Any], make_org: Any, django_assert_num_queries: Any
) -> None:
    org = make_org()
    with django_assert_num_queries(1):
        data = panel_data(users["rep_ana"], "decision_unit", org)
    assert data["members"] == 0 and data["influence_total"] == 0
    assert [w.code for w in data["warnings"]] == ["no_decision_level", "no_coach"]
    html = ana.get(f"/cards/{org.pk}/sections/decision_unit/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-code="no_decision_level"' in html and 'data-code="no_coach"' in html and "influence total" not in html


def test_the_decision_unit_panel_counts_and_warns_as_the_map_does(
    ana: Any, users: dict[str, Any], django_assert_num_queries: Any
) -> None:
    import datetime as dt

    from rapport.cards.models import Employment

    ana_user = users["rep_ana"]
    org, (vera, luis, marta) = org_with_people(users)
    services.add_member(user=ana_user, organization_id=org.pk, data={
        "person": vera.pk, "influence": 50, "attitude": "neutral", "roles": ["decision_maker"]})
    services.add_member(user=ana_user, organization_id=org.pk, data={"person": luis.pk, "influence": 30, "coach": True, "attitude": "supporter"})
    services.add_member(user=ana_user, organization_id=org.pk, data={"person": marta.pk, "influence": 15, "attitude": "supporter"})
    services.add_relationship(user=ana_user, data={"from_person": vera.pk, "to_person": luis.pk, "kind": "reports_to"})
    Employment.objects.filter(person=marta).update(ended_on=dt.date(2020, 1, 31))  # Marta has left
    with django_assert_num_queries(3):  # the probe, the members, their employment
        summary = selectors.decision_unit_summary(ana_user, org)
    graph = selectors.decision_unit_of(ana_user, org)
    assert summary.members == len([n for n in graph.nodes if n.member is not None]) == 3
    assert summary.influence_total == graph.influence_total == 80
    assert summary.warnings == graph.warnings
    assert {w.code for w in summary.warnings} >= {"influence_total", "decision_maker_not_supporter", "contact_left"}
    html = ana.get(f"/cards/{org.pk}/sections/decision_unit/", HTTP_HX_REQUEST="true").content.decode()
    assert "3 people, influence total 80%" in html and "Ana Ruiz decides, but is not a supporter." in html


def test_a_person_with_nothing_recorded_reads_the_relationship_panel_in_one_query(
    ana: Any, users: dict[str, Any], make_person: Any, django_assert_num_queries: Any
) -> None:
    person = make_person()
    with django_assert_num_queries(1):
        data = panel_data(users["rep_ana"], "relationship", person)
    assert data["memberships"] == [] and data["stage"] is None and data["style_label"] == ""
    html = ana.get(f"/cards/{person.pk}/sections/relationship/", HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing is logged with this contact yet" in html and html.count("not set") == 2


def test_the_relationship_panel_gives_the_next_step_of_the_preparation_page(ana: Any, users: dict[str, Any]) -> None:
    ana_user = users["rep_ana"]
    org, (vera, luis, _marta) = org_with_people(users)
    services.add_member(user=ana_user, organization_id=org.pk, data={"person": vera.pk, "influence": 60, "coach": True})
    services.log_relationship_activity(user=ana_user, person_id=vera.pk, data={"typical": "meal", "summary": "Lunch at El Faro"})
    services.set_stage(user=ana_user, person_id=vera.pk, stage="acquainted")
    services.set_style(user=ana_user, person_id=luis.pk, style="driver")
    for person in (vera, luis):
        summary = selectors.contact_summary_of(person)
        state = selectors.contact_state_of(person)
        assert (summary.stage, summary.style, summary.coaching, summary.next_step) == (state.stage, state.style, state.coaching, state.next_step)
    assert "already logged" in selectors.contact_summary_of(vera).next_step
    html = ana.get(f"/cards/{vera.pk}/sections/relationship/", HTTP_HX_REQUEST="true").content.decode()
    assert f'href="/organizations/{org.pk}/decision-unit/">Hospital Central</a>: Neutral, 60%, coach' in html


def test_the_relationship_panel_leaves_out_units_of_organizations_out_of_reach(users: dict[str, Any], make_person: Any) -> None:
    from rapport.cards.services import create_organization
    from rapport.relationships.models import DecisionUnit, Member

    person = make_person()
    other = create_organization(user=users["rep_bo_other_team"], data={"name": "Southern Supplies"})
    Member.objects.create(unit=DecisionUnit.objects.create(organization=other), person=person, influence=10)
    assert selectors.contact_summary_of(person).in_units
    assert panel_data(users["rep_ana"], "relationship", person)["memberships"] == []
    assert len(panel_data(users["admin"], "relationship", person)["memberships"]) == 1
