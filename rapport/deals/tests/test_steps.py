"""The six steps: exit signals, overrides, history and time in step, closing."""

from decimal import Decimal
from typing import Any

import pytest

from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.deals import services
from rapport.deals.models import Deal, StepMove
from rapport.deals.selectors import get_deal, step_history, visible_deals


def test_a_new_deal_starts_at_analyse_with_its_creation_in_the_history(make_deal: Any) -> None:
    deal = make_deal()
    assert deal.step == "analyse" and deal.status == "open"
    assert deal.weighted == Decimal("12000.00")  # 10% by default at step 1
    assert [(m.from_step, m.to_step) for m in step_history(deal)] == [("", "analyse")]


def test_leaving_analyse_is_refused_while_a_question_is_not_yes(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.answer_question(user=users["rep_ana"], deal=deal, key="opportunity", answer="yes", justification="Tender out.")
    with pytest.raises(services.ExitSignalsMissing) as refused:
        services.move_step(user=users["rep_ana"], deal=deal, to="build_trust")
    assert [i.key for i in refused.value.missing] == ["four_questions"]
    assert "four opportunity questions" in str(refused.value)
    assert Deal.objects.get(pk=deal.pk).step == "analyse"
    assert StepMove.objects.filter(deal=deal).count() == 1


def test_all_four_yes_opens_the_way_to_build_trust(users: Any, make_deal: Any, all_yes: Any) -> None:
    deal = make_deal()
    all_yes(deal)
    move = services.move_step(user=users["rep_ana"], deal=deal, to="build_trust", reason="Clear opportunity")
    deal.refresh_from_db()
    assert deal.step == "build_trust" and deal.weighted == Decimal("24000.00")
    assert move.from_step == "analyse" and move.seconds_in_previous is not None and move.missing == []


def test_an_override_reason_moves_anyway_and_records_what_was_missing(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    move = services.move_step(user=users["rep_ana"], deal=deal, to="discover_needs", override_reason="Repeat buyer")
    assert move.override_reason == "Repeat buyer"
    assert move.missing == ["four_questions", "key_relationships"]


def test_moving_back_needs_no_signal(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="present_value", override_reason="Known customer")
    services.move_step(user=users["rep_ana"], deal=deal, to="discover_needs", reason="They changed the scope")
    deal.refresh_from_db()
    assert deal.step == "discover_needs"


def test_a_manual_signal_ticked_lets_the_deal_leave_its_step(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="discover_needs", override_reason="Known customer")
    deal.refresh_from_db()
    with pytest.raises(services.ExitSignalsMissing):
        services.move_step(user=users["rep_ana"], deal=deal, to="present_value")
    services.set_signal(user=users["rep_ana"], deal=deal, signal_key="written_request", checked=True, note="E-mail of 2 Dec")
    deal.refresh_from_db()
    services.move_step(user=users["rep_ana"], deal=deal, to="present_value")
    assert Deal.objects.get(pk=deal.pk).step == "present_value"


def test_an_automatic_signal_cannot_be_ticked(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    with pytest.raises(ValidationError):
        services.set_signal(user=users["rep_ana"], deal=deal, signal_key="four_questions", checked=True)


def test_key_relationships_hold_when_every_key_person_trusts_us(users: Any, make_deal: Any, org: Any, make_person: Any) -> None:
    from rapport.relationships.services import add_member, set_stage

    deal = make_deal()
    person = make_person(given_name="Wei", family_name="Zhang")
    member = add_member(user=users["rep_ana"], organization_id=org.pk, data={"person": person.pk, "roles": ["decision_maker"]})
    services.add_contact(user=users["rep_ana"], deal=deal, data={"member": member.pk, "roles": ["decision_maker"]})
    items = services.exit_checklist(deal, "build_trust")
    assert [(i.key, i.met) for i in items] == [("key_relationships", False)]
    set_stage(user=users["rep_ana"], person_id=person.pk, stage="trusted")
    assert services.exit_checklist(deal, "build_trust")[0].met


def test_a_person_outside_the_organisations_unit_is_refused(users: Any, make_deal: Any, make_org: Any, make_person: Any) -> None:
    from rapport.relationships.services import add_member

    deal = make_deal()
    other = make_org(name="Otra Empresa SL")
    person = make_person(given_name="Ion", family_name="Popescu")
    member = add_member(user=users["rep_ana"], organization_id=other.pk, data={"person": person.pk})
    with pytest.raises(ValidationError) as refused:
        services.add_contact(user=users["rep_ana"], deal=deal, data={"member": member.pk})
    assert "decision unit" in str(refused.value)


def test_closing_as_won_enters_follow_up_and_lost_needs_a_listed_reason(users: Any, make_deal: Any) -> None:
    won = make_deal()
    with pytest.raises(services.ExitSignalsMissing):
        services.close_deal(user=users["rep_ana"], deal=won, outcome="won", reason="value")
    services.close_deal(user=users["rep_ana"], deal=won, outcome="won", reason="value", override_reason="Signed at the fair")
    won.refresh_from_db()
    assert (won.status, won.step, won.weighted) == ("won", "follow_up", Decimal("0"))
    lost = make_deal(name="Spare parts")
    with pytest.raises(ValidationError):
        services.close_deal(user=users["rep_ana"], deal=lost, outcome="lost", reason="bad luck")
    services.close_deal(user=users["rep_ana"], deal=lost, outcome="lost", reason="price", note="10% cheaper elsewhere")
    lost.refresh_from_db()
    assert (lost.status, lost.close_reason, lost.step) == ("lost", "price", "analyse")
    with pytest.raises(ValidationError):
        services.move_step(user=users["rep_ana"], deal=lost, to="build_trust", override_reason="x")


def test_a_stale_version_is_a_conflict_and_changes_nothing(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.update_deal(user=users["rep_ana"], deal=deal, data={"amount": "130000"}, expected_version=1)
    with pytest.raises(Conflict):
        services.update_deal(user=users["rep_ana"], deal=deal, data={"amount": "1"}, expected_version=1)
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("130000")


def test_a_deal_is_visible_exactly_as_its_customer(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    assert visible_deals(users["rep_ben"]).filter(pk=deal.pk).exists()  # same team
    assert visible_deals(users["manager_mei"]).filter(pk=deal.pk).exists()
    assert not visible_deals(users["rep_bo_other_team"]).filter(pk=deal.pk).exists()
    with pytest.raises(Exception):
        get_deal(users["rep_bo_other_team"], deal.pk)


def test_an_analyst_reads_deals_but_may_not_move_them(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    with pytest.raises(PermissionDenied):
        services.move_step(user=users["analyst_al"], deal=deal, to="build_trust", override_reason="x")


def test_concessions_that_do_not_shrink_are_warned(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.set_negotiation_plan(user=users["rep_ana"], deal=deal, data={"bottom_line": "100000", "target": "118000", "interests": ["price", "payment"]})
    _e, first = services.add_negotiation_entry(user=users["rep_ana"], deal=deal, data={"kind": "concession", "text": "5% off", "value": "6000"})
    _e, second = services.add_negotiation_entry(user=users["rep_ana"], deal=deal, data={"kind": "concession", "text": "free delivery", "value": "6000"})
    _e, third = services.add_negotiation_entry(user=users["rep_ana"], deal=deal, data={"kind": "concession", "text": "2 more years of service", "value": "9000"})
    assert first == []
    assert len(second) == 1 and "not smaller" in second[0]
    assert any("bottom line" in w for w in third)


def test_criteria_weights_may_not_pass_a_hundred(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.add_criterion(user=users["rep_ana"], deal=deal, data={"name": "Lifting capacity", "target": "≥ 2.5 t", "weight": 60})
    with pytest.raises(ValidationError):
        services.add_criterion(user=users["rep_ana"], deal=deal, data={"name": "Price", "weight": 50})


def test_proposals_are_versioned_and_carry_over_what_is_not_given(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    first = services.create_proposal(user=users["rep_ana"], deal=deal, data={
        "background": "Growing fast.", "language": "es",
        "lines": [{"group": "Equipment", "description": "Forklift 2.5 t", "quantity": 4, "unit_price": "25000", "discount": 5},
                  {"group": "Service", "description": "Maintenance, 3 years", "quantity": 1, "unit_price": "15000"}],
    })
    assert (first.version, first.total, first.language) == (1, Decimal("110000.00"), "es")
    second = services.create_proposal(user=users["rep_ana"], deal=deal, data={"problems": "Old fleet breaks down."})
    assert second.version == 2 and second.background == "Growing fast." and second.total == first.total
    assert second.lines.count() == 2


def test_each_step_entered_is_remembered_for_the_conversion_report(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="discover_needs", override_reason="Known customer")
    services.move_step(user=users["rep_ana"], deal=deal, to="build_trust", reason="Scope changed")
    assert Deal.objects.get(pk=deal.pk).steps_reached == 0b000111  # analyse, build trust (back to it), dig out needs
    services.close_deal(user=users["rep_ana"], deal=deal, outcome="won", reason="value", override_reason="Signed")
    assert Deal.objects.get(pk=deal.pk).steps_reached == 0b100111
