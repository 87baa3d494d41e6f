"""Planning, reporting and promises of visits through the services: what is refused and why,
what a report leaves behind, and who may see and change what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.activities.models import Activity
from rapport.cards.models import Card, Fact
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.visits import selectors, services
from rapport.visits.models import Intelligence, Objective, PlanStatus, Promise, RetailCheck, Site, Status, Visit

pytestmark = pytest.mark.django_db


def fields_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.errors)


def test_a_visit_is_planned_with_objectives_targets_tools_and_its_place_in_the_day(make_visit: Any, org: Any) -> None:
    first = make_visit()
    visit = make_visit(window_start="09:30", window_end="11:00", duration_minutes=60, tools=["brochures", "price_lists"],
                       objectives=[{"kind": "collect_payment", "target_amount": "1500", "currency": "eur"}, "first_order"])
    assert (visit.window_start, visit.window_end, visit.duration_minutes) == (dt.time(9, 30), dt.time(11), 60)
    assert visit.position == first.position + 1
    assert visit.tools == {"brochures": False, "price_lists": False}
    objectives = list(visit.objectives.all())
    assert [(o.kind, o.target_amount, o.currency) for o in objectives] == [
        ("collect_payment", Decimal("1500.00"), "EUR"), ("first_order", None, "")]
    assert (visit.card_owner_id, visit.card_team_id) == (org.owner_id, org.team_id)


@pytest.mark.parametrize("data, field", [
    ({"date": "2027-02-30"}, "date"),
    ({"date": "2027-03-15", "window_start": "11:00", "window_end": "10:00"}, "window_end"),
    ({"date": "2027-03-15", "window_start": "25:00"}, "window_start"),
    ({"date": "2027-03-15", "duration_minutes": 0}, "duration_minutes"),
    ({"date": "2027-03-15", "duration_minutes": "a lot"}, "duration_minutes"),
    ({"date": "2027-03-15", "objectives": ["sell_everything"]}, "objectives[0].kind"),
    ({"date": "2027-03-15", "objectives": [{"kind": "collect_payment", "target_amount": "-5", "currency": "EUR"}]}, "objectives[0].target_amount"),
    ({"date": "2027-03-15", "objectives": [{"kind": "collect_payment", "target_amount": "5", "currency": "EURO"}]}, "objectives[0].currency"),
    ({"date": "2027-03-15", "objectives": [{"kind": "handle_complaint", "target_amount": "5", "currency": "EUR"}]}, "objectives[0].target_amount"),
    ({"date": "2027-03-15", "tools": ["a_magic_wand"]}, "tools"),
    ({"date": "2027-03-15", "objectives": ["first_order"] * 21}, "objectives"),
    ({"date": "2027-03-15", "purpose": "x" * 301}, "purpose"),
    ({"date": "2027-03-15", "colour": "blue"}, "colour"),
])
def test_a_plan_with_bad_input_is_refused_by_name_and_leaves_nothing(make_visit: Any, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        make_visit(**data)
    assert field in fields_of(exc)
    assert not Visit.objects.exists()


def test_a_visit_to_another_teams_customer_is_refused_as_unknown(users: Any, make_org: Any) -> None:
    south = make_org(owner="rep_bo_other_team", name="Southern Supplies")
    with pytest.raises(ValidationError) as exc:
        services.create_visit(user=users["rep_ana"], data={"organization": south.pk, "date": "2027-03-15"})
    assert "organization" in fields_of(exc)


def test_an_analyst_reads_visits_but_may_not_plan_one(users: Any, org: Any, make_visit: Any) -> None:
    make_visit()
    assert selectors.visible_visits(users["analyst_al"]).count() == 1
    with pytest.raises(PermissionDenied):
        services.create_visit(user=users["analyst_al"], data={"organization": org.pk, "date": "2027-03-15"})


def test_visits_are_visible_exactly_as_their_customer_card(users: Any, make_visit: Any, org: Any) -> None:
    visit = make_visit()
    assert selectors.visible_visits(users["rep_ben"]).filter(pk=visit.pk).exists()  # same team
    assert selectors.visible_visits(users["manager_mei"]).filter(pk=visit.pk).exists()
    assert not selectors.visible_visits(users["rep_bo_other_team"]).exists()
    org.owner = users["rep_bo_other_team"]
    org.team = None
    org.save()
    from rapport.cards.services import sync_card_copies

    sync_card_copies(org)
    assert not selectors.visible_visits(users["rep_ben"]).filter(pk=visit.pk).exists()
    assert selectors.visible_visits(users["rep_bo_other_team"]).filter(pk=visit.pk).exists()


def test_an_edit_based_on_an_old_version_is_refused_and_changes_nothing(users: Any, make_visit: Any) -> None:
    visit = make_visit(purpose="Talk about spring stock")
    services.update_visit(user=users["rep_ana"], visit=visit, data={"purpose": "Spring stock"}, expected_version=1)
    with pytest.raises(Conflict):
        services.update_visit(user=users["rep_ana"], visit=visit, data={"purpose": "Stale"}, expected_version=1)
    assert Visit.objects.get(pk=visit.pk).purpose == "Spring stock"


def test_check_in_records_the_time_and_gives_a_customer_without_coordinates_its_location(users: Any, make_visit: Any, org: Any) -> None:
    visit = make_visit()
    visit = services.check_in(user=users["rep_ana"], visit=visit, latitude="40.4168", longitude="-3.7038")
    assert visit.status == Status.IN_PROGRESS and visit.checked_in_at is not None
    site = Site.objects.get(card=org)
    assert (site.latitude, site.longitude, site.located_by) == (Decimal("40.416800"), Decimal("-3.703800"), "check_in")


@pytest.mark.parametrize("lat, lon", [("91", "0"), ("0", "181"), ("north", "0"), ("1e400", "0")])
def test_check_in_with_impossible_coordinates_is_refused(users: Any, make_visit: Any, lat: str, lon: str) -> None:
    visit = make_visit()
    with pytest.raises(ValidationError):
        services.check_in(user=users["rep_ana"], visit=visit, latitude=lat, longitude=lon)
    assert Visit.objects.get(pk=visit.pk).checked_in_at is None


def _report(**extra: Any) -> dict[str, Any]:
    return {"outcome": "met", "summary": "Good talk with the buyer.", **extra}


def test_a_report_closes_the_visit_records_results_promises_checklist_and_logs_the_timeline(users: Any, make_visit: Any, org: Any) -> None:
    visit = make_visit(objectives=[{"kind": "collect_payment", "target_amount": "1500", "currency": "EUR"}, "new_products"])
    collect, new = list(visit.objectives.all())
    services.report_visit(user=users["rep_ana"], visit=visit, data=_report(
        objectives=[{"id": collect.pk, "result": "partly", "result_note": "Paid half, rest on Friday", "achieved_amount": "750"},
                    {"id": new.pk, "result": "met"}],
        promises=[{"by": "us", "text": "Send the new catalogue", "due_on": "2027-03-20"},
                  {"by": "them", "text": "Pay the rest", "due_on": "2027-03-19"}],
        retail_checks=[{"item": "shop_clean", "state": "ok"}, {"item": "pos_material", "state": "not_ok", "note": "Poster missing"}],
    ))
    visit.refresh_from_db()
    assert visit.status == Status.DONE and visit.reported_at and visit.checked_in_at
    collect.refresh_from_db()
    assert (collect.result, collect.achieved_amount, collect.currency) == ("partly", Decimal("750.00"), "EUR")
    assert sorted(Promise.objects.filter(card=org).values_list("by", "text")) == [("them", "Pay the rest"), ("us", "Send the new catalogue")]
    assert RetailCheck.objects.filter(visit=visit).count() == 2
    assert Activity.objects.filter(kind="visit", participants__card=org).count() == 1
    from rapport.cards.selectors import timeline_of

    assert any(e.type == "visit" for e in timeline_of(users["rep_ana"], org))


def test_a_report_that_says_not_met_without_why_is_refused_and_keeps_the_visit_open(users: Any, make_visit: Any) -> None:
    visit = make_visit(objectives=["first_order"])
    objective = visit.objectives.get()
    with pytest.raises(ValidationError) as exc:
        services.report_visit(user=users["rep_ana"], visit=visit, data=_report(
            objectives=[{"id": objective.pk, "result": "not_met"}], promises=[{"by": "us", "text": "Call back"}]))
    assert "objectives[0].result_note" in fields_of(exc)
    assert Visit.objects.get(pk=visit.pk).status == Status.PLANNED
    assert not Promise.objects.exists()


def test_a_report_naming_an_objective_of_another_visit_is_refused(users: Any, make_visit: Any) -> None:
    other = make_visit(objectives=["first_order"])
    visit = make_visit()
    with pytest.raises(ValidationError) as exc:
        services.report_visit(user=users["rep_ana"], visit=visit, data=_report(
            objectives=[{"id": other.objectives.get().pk, "result": "met"}]))
    assert "objectives[0].id" in fields_of(exc)


def test_a_report_sent_again_with_its_token_is_recorded_once(users: Any, make_visit: Any) -> None:
    visit = make_visit()
    data = _report(report_token="phone-3f9a", promises=[{"by": "us", "text": "Send samples"}])
    services.report_visit(user=users["rep_ana"], visit=visit, data=data)
    services.report_visit(user=users["rep_ana"], visit=visit, data=data)
    assert Promise.objects.count() == 1 and Activity.objects.count() == 1
    with pytest.raises(Conflict):
        services.report_visit(user=users["rep_ana"], visit=visit, data=_report(report_token="another"))


def test_the_managers_instructions_must_be_answered_in_the_report(users: Any, make_visit: Any) -> None:
    visit = make_visit()
    with pytest.raises(PermissionDenied):
        services.set_instructions(user=users["rep_ben"], visit=visit, text="Ask for the shelf")
    services.set_instructions(user=users["manager_mei"], visit=visit, text="Ask for the end-of-aisle shelf")
    with pytest.raises(ValidationError) as exc:
        services.report_visit(user=users["rep_ana"], visit=visit, data=_report())
    assert "instructions_result" in fields_of(exc)
    services.report_visit(user=users["rep_ana"], visit=visit, data=_report(instructions_result="partly", instructions_note="Half a shelf"))
    assert Visit.objects.get(pk=visit.pk).instructions_result == "partly"


def test_market_intelligence_becomes_a_fact_from_the_visit_and_a_new_prospect_a_suspect_card(users: Any, make_visit: Any, org: Any) -> None:
    visit = make_visit()
    services.report_visit(user=users["rep_ana"], visit=visit, data=_report(intelligence=[
        {"kind": "competitor_promotion", "competitor": "Acme", "text": "Two for one on 5 L oil until May"},
        {"kind": "new_prospect", "text": "Talleres Hermanos Ruiz"},
    ]))
    fact = Fact.objects.get(card=org, item__key="competitor_promotions")
    assert fact.source.key == "visit" and "Acme" in str(fact.value)
    prospect = Intelligence.objects.get(kind="new_prospect").prospect
    assert prospect is not None and prospect.lifecycle_stage == "suspect" and prospect.owner_id == users["rep_ana"].pk
    assert Card.objects.get(pk=prospect.pk).found_by is not None


def test_promises_are_kept_and_counted_on_time_or_late(users: Any, make_visit: Any, org: Any) -> None:
    visit = make_visit()
    on_time = services.add_promise(user=users["rep_ana"], card=org, visit=visit, data={"by": "us", "text": "Samples", "due_on": "2026-01-10"})
    late = services.add_promise(user=users["rep_ana"], card=org, visit=visit, data={"by": "us", "text": "Quote", "due_on": "2026-01-10"})
    services.keep_promise(user=users["rep_ana"], promise=on_time, kept_on="2026-01-09")
    services.keep_promise(user=users["rep_ana"], promise=late, kept_on="2026-01-12")
    assert selectors.kept_on_time_rate(Promise.objects.all()) == (1, 2)
    with pytest.raises(ValidationError):
        services.keep_promise(user=users["rep_ana"], promise=late, kept_on="2999-01-01")


def test_a_promise_without_text_or_with_an_unknown_side_is_refused(users: Any, org: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.add_promise(user=users["rep_ana"], card=org, data={"by": "nobody", "text": ""})
    assert {"promises[0].by", "promises[0].text"} <= fields_of(exc)


def test_a_week_plan_goes_to_the_manager_and_a_change_sends_it_back_to_draft(users: Any, make_visit: Any) -> None:
    visit = make_visit(date="2027-03-16")
    plan = services.submit_week(user=users["rep_ana"], week="2027-03-17")
    assert plan.week == dt.date(2027, 3, 15) and plan.status == PlanStatus.SUBMITTED
    assert [p.pk for p in selectors.plans_waiting(users["manager_mei"])] == [plan.pk]
    with pytest.raises(PermissionDenied):
        services.decide_week(user=users["rep_ben"], plan=plan, approve=True)
    with pytest.raises(ValidationError):
        services.decide_week(user=users["manager_mei"], plan=plan, approve=False, note="")
    plan = services.decide_week(user=users["manager_mei"], plan=plan, approve=True)
    assert plan.status == PlanStatus.APPROVED
    services.update_visit(user=users["rep_ana"], visit=visit, data={"date": "2027-03-18"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_an_empty_week_cannot_be_sent_for_approval(users: Any) -> None:
    with pytest.raises(ValidationError):
        services.submit_week(user=users["rep_ana"], week="2027-03-15")


def test_a_site_with_half_the_coordinates_or_closing_before_opening_is_refused(users: Any, org: Any) -> None:
    with pytest.raises(ValidationError):
        services.set_site(user=users["rep_ana"], card=org, data={"latitude": "40.1", "longitude": ""})
    with pytest.raises(ValidationError):
        services.set_site(user=users["rep_ana"], card=org, data={"opens_at": "18:00", "closes_at": "09:00"})
    with pytest.raises(ValidationError):
        services.set_site(user=users["rep_ana"], card=org, data={"closed_weekdays": [7]})
    site = services.set_site(user=users["rep_ana"], card=org, data={"opens_at": "09:00", "closes_at": "14:00", "closed_weekdays": [6, "5"]})
    assert site.closed_weekdays == [5, 6]


def test_the_reflection_gathers_open_promises_last_instructions_receivables_and_the_people(users: Any, make_visit: Any, org: Any, make_person: Any) -> None:
    from rapport.relationships.models import ContactProfile

    buyer = make_person(given_name="Lucía", family_name="Gómez")
    ContactProfile.objects.create(person=buyer, stage="trusted", style="analytical")
    last = make_visit(date="2027-03-01")
    services.set_instructions(user=users["manager_mei"], visit=last, text="Check the shelf")
    services.report_visit(user=users["rep_ana"], visit=last, data=_report(
        instructions_result="not_met", instructions_note="Buyer away",
        promises=[{"by": "them", "text": "Send the stock list", "due_on": "2027-03-05"}]))
    visit = make_visit(date="2027-03-15", people=[buyer.pk])
    r = selectors.reflection(users["rep_ana"], visit)
    assert r.previous is not None and r.previous.pk == last.pk and r.previous.instructions_result == "not_met"
    assert [p.text for p in r.their_promises] == ["Send the stock list"]
    assert [p.card.pk for p in r.people] == [buyer.pk]
    assert r.people[0].stage and r.people[0].style and r.people[0].coaching is not None


def test_erasing_a_person_customer_keeps_visit_dates_and_results_but_no_text(users: Any, make_person: Any) -> None:
    person = make_person(given_name="Ion", family_name="Popescu")
    visit = services.create_visit(user=users["rep_ana"], data={"person": person.pk, "date": "2027-03-15", "purpose": "Private talk"})
    services.report_visit(user=users["rep_ana"], visit=visit, data=_report(summary="He told me about his family"))
    from rapport.visits.models import Visit as V

    services.erase_visits_of(person, V, V._meta.get_field("card"))
    visit.refresh_from_db()
    assert (visit.summary, visit.purpose, visit.outcome) == ("", "", "met")


def test_the_visit_report_counts_per_rep_objectives_met_collected_and_promises(users: Any, make_visit: Any, org: Any) -> None:
    visit = make_visit(date="2026-11-10", objectives=[{"kind": "collect_payment", "target_amount": "100", "currency": "EUR"}])
    objective = visit.objectives.get()
    services.report_visit(user=users["rep_ana"], visit=visit, data=_report(
        objectives=[{"id": objective.pk, "result": "met", "achieved_amount": "100"}]))
    rows = selectors.visit_report(users["manager_mei"], dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert [(r.name, r.visits, r.met_percent, r.collected) for r in rows] == [("rep_ana", 1, 100, {"EUR": Decimal("100.00")})]
    assert selectors.visit_report(users["rep_ben"], dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == []
    assert Objective.objects.count() == 1
