"""The parts of a deal through the API: questions, people, needs, criteria, competitors,
proposals and the negotiation; a part of another deal answers 404."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.commerce.tests.factories import api, post
from rapport.deals.models import Competitor, CompetitivePoint, Criterion, DealContact, NegotiationEntry, Need, Proposal

pytestmark = pytest.mark.django_db


def send(client: Any, method: str, url: str, body: dict[str, Any] | None = None, **headers: Any) -> Any:
    return client.generic(method, url, json.dumps(body) if body is not None else "", content_type="application/json", **headers)


@pytest.fixture
def member(users: Any, org: Any, make_person: Any) -> Any:
    """Wei Zhang, decision maker in the unit of the deal's organisation."""
    from rapport.relationships.services import add_member

    person = make_person(given_name="Wei", family_name="Zhang")
    return add_member(user=users["rep_ana"], organization_id=org.pk, data={"person": person.pk, "roles": ["decision_maker"]})


def test_the_four_questions_are_listed_and_answered_one_at_a_time(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    listed = client.get(f"/api/v1/deals/{deal.pk}/questions").json()
    assert [q["key"] for q in listed["items"]] == ["opportunity", "solution", "win", "worth"]
    assert all(q["answer"] == "" and q["answered_by"] is None for q in listed["items"]) and listed["all_yes"] is False
    answered = send(client, "PUT", f"/api/v1/deals/{deal.pk}/questions", {"key": "win", "answer": "yes", "justification": "Only bidder with service"})
    assert answered.status_code == 200, answered.json()
    win = next(q for q in answered.json()["items"] if q["key"] == "win")
    assert (win["answer"], win["justification"], win["answered_by"]["name"]) == ("yes", "Only bidder with service", "rep_ana")
    without_why = send(client, "PUT", f"/api/v1/deals/{deal.pk}/questions", {"key": "worth", "answer": "no"})
    assert without_why.status_code == 422 and "justification" in without_why.json()["errors"]
    assert send(client, "PUT", f"/api/v1/deals/{deal.pk}/questions", {"key": "luck", "answer": "yes", "justification": "x"}).status_code == 422
    assert send(client, "PUT", f"/api/v1/deals/{deal.pk}/questions", {"key": "win", "answer": "maybe", "justification": "x"}).status_code == 422


def test_a_member_of_the_unit_joins_the_deal_and_shows_who_matters_now(users: Any, make_deal: Any, member: Any) -> None:
    deal = make_deal(buying_stage="internal_decision")
    client = api(users["rep_ana"])
    before = client.get(f"/api/v1/deals/{deal.pk}").json()
    assert before["who_matters_now"]["role"] == "decision_maker" and before["who_matters_now"]["people"] == []
    assert any("decision maker" in w for w in before["warnings"])
    added = post(client, f"/api/v1/deals/{deal.pk}/contacts", {"member": member.pk, "roles": ["decision_maker"], "note": "Signs"})
    assert added.status_code == 201, added.json()
    contact = added.json()
    assert (contact["person"]["name"], contact["roles"], contact["is_key"], contact["note"]) == ("Wei Zhang", ["decision_maker"], True, "Signs")
    after = client.get(f"/api/v1/deals/{deal.pk}").json()
    assert [p["id"] for p in after["who_matters_now"]["people"]] == [contact["id"]]
    assert not any("decision maker" in w for w in after["warnings"])
    assert client.get(f"/api/v1/deals/{deal.pk}/contacts").json()["count"] == 1
    changed = send(client, "PATCH", f"/api/v1/deals/{deal.pk}/contacts/{contact['id']}", {"roles": ["evaluator", "user"], "is_key": False})
    assert changed.status_code == 200 and (changed.json()["roles"], changed.json()["is_key"]) == (["evaluator", "user"], False)
    assert send(client, "PATCH", f"/api/v1/deals/{deal.pk}/contacts/{contact['id']}", {"roles": ["boss"]}).status_code == 422
    assert send(client, "PATCH", f"/api/v1/deals/{deal.pk}/contacts/{contact['id']}", {"member": 1}).status_code == 422
    assert post(client, f"/api/v1/deals/{deal.pk}/contacts", {"member": member.pk}).status_code == 422  # already in
    assert send(client, "DELETE", f"/api/v1/deals/{deal.pk}/contacts/{contact['id']}").status_code == 204
    assert not DealContact.objects.exists()


def test_a_member_of_another_organisations_unit_is_refused_by_name(users: Any, make_deal: Any, make_org: Any, make_person: Any) -> None:
    from rapport.relationships.services import add_member

    deal = make_deal()
    other = make_org(name="Otra Empresa SL")
    outsider = add_member(user=users["rep_ana"], organization_id=other.pk, data={"person": make_person(given_name="Ion", family_name="Popescu").pk})
    client = api(users["rep_ana"])
    response = post(client, f"/api/v1/deals/{deal.pk}/contacts", {"member": outsider.pk})
    assert response.status_code == 422 and "decision unit" in response.json()["errors"]["member"][0]
    by_person = post(client, f"/api/v1/deals/{deal.pk}/contacts", {"person": outsider.person_id})
    assert by_person.status_code == 422 and "person" in by_person.json()["errors"]
    assert not DealContact.objects.exists()


def test_needs_are_recorded_changed_and_removed(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    created = post(client, f"/api/v1/deals/{deal.pk}/needs", {"kind": "problem", "text": "Old fleet breaks down"})
    assert created.status_code == 201, created.json()
    need = created.json()
    assert (need["kind"], need["text"]) == ("problem", "Old fleet breaks down")
    assert post(client, f"/api/v1/deals/{deal.pk}/needs", {"kind": "wish", "text": "x"}).status_code == 422
    assert post(client, f"/api/v1/deals/{deal.pk}/needs", {"kind": "goal", "text": "x", "urgent": True}).json()["errors"] == {"urgent": ["Unknown field."]}
    changed = send(client, "PATCH", f"/api/v1/deals/{deal.pk}/needs/{need['id']}", {"text": "Fleet breaks down weekly"})
    assert changed.status_code == 200 and changed.json()["text"] == "Fleet breaks down weekly"
    assert client.get(f"/api/v1/deals/{deal.pk}/needs").json()["count"] == 1
    assert send(client, "DELETE", f"/api/v1/deals/{deal.pk}/needs/{need['id']}").status_code == 204
    assert not Need.objects.exists()


def test_criteria_carry_weights_that_may_not_pass_a_hundred(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    first = post(client, f"/api/v1/deals/{deal.pk}/criteria", {"name": "Lifting capacity", "target": "≥ 2.5 t", "weight": 60})
    assert first.status_code == 201, first.json()
    too_much = post(client, f"/api/v1/deals/{deal.pk}/criteria", {"name": "Price", "weight": 50})
    assert too_much.status_code == 422 and "weight" in too_much.json()["errors"]
    assert post(client, f"/api/v1/deals/{deal.pk}/criteria", {"name": "Price", "weight": "lots"}).status_code == 422
    post(client, f"/api/v1/deals/{deal.pk}/criteria", {"name": "Price", "weight": 30})
    listed = client.get(f"/api/v1/deals/{deal.pk}/criteria").json()
    assert (listed["count"], listed["total_weight"]) == (2, 90)
    changed = send(client, "PATCH", f"/api/v1/deals/{deal.pk}/criteria/{first.json()['id']}", {"weight": 70})
    assert changed.status_code == 200 and changed.json()["weight"] == 70
    assert send(client, "DELETE", f"/api/v1/deals/{deal.pk}/criteria/{first.json()['id']}").status_code == 204
    assert Criterion.objects.count() == 1


def test_competitors_carry_our_strengths_and_weaknesses(users: Any, make_deal: Any, member: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    need = post(client, f"/api/v1/deals/{deal.pk}/needs", {"kind": "goal", "text": "Less downtime"}).json()
    contact = post(client, f"/api/v1/deals/{deal.pk}/contacts", {"member": member.pk}).json()
    rival = post(client, f"/api/v1/deals/{deal.pk}/competitors", {"name": "Montacargas Rivera", "note": "Cheaper"})
    assert rival.status_code == 201, rival.json()
    cid = rival.json()["id"]
    assert post(client, f"/api/v1/deals/{deal.pk}/competitors", {"name": "montacargas rivera"}).status_code == 422
    point = post(client, f"/api/v1/deals/{deal.pk}/competitors/{cid}/points", {
        "kind": "strength", "text": "48 h service", "need": need["id"], "contact": contact["id"], "action": "Show the service log",
    })
    assert point.status_code == 201, point.json()
    assert (point.json()["need"], point.json()["contact"]) == (need["id"], contact["id"])
    listed = client.get(f"/api/v1/deals/{deal.pk}/competitors").json()
    assert listed["count"] == 1 and [p["text"] for p in listed["items"][0]["points"]] == ["48 h service"]
    renamed = send(client, "PATCH", f"/api/v1/deals/{deal.pk}/competitors/{cid}", {"note": "Cheaper, slower"})
    assert renamed.status_code == 200 and renamed.json()["note"] == "Cheaper, slower" and len(renamed.json()["points"]) == 1
    assert send(client, "DELETE", f"/api/v1/deals/{deal.pk}/competitors/{cid}/points/{point.json()['id']}").status_code == 204
    assert not CompetitivePoint.objects.exists()
    assert send(client, "DELETE", f"/api/v1/deals/{deal.pk}/competitors/{cid}").status_code == 204
    assert not Competitor.objects.exists()


def test_a_point_naming_a_need_of_another_deal_is_refused(users: Any, make_deal: Any) -> None:
    deal, other = make_deal(), make_deal(name="Other deal")
    client = api(users["rep_ana"])
    foreign_need = post(client, f"/api/v1/deals/{other.pk}/needs", {"kind": "goal", "text": "x"}).json()
    cid = post(client, f"/api/v1/deals/{deal.pk}/competitors", {"name": "Rival"}).json()["id"]
    response = post(client, f"/api/v1/deals/{deal.pk}/competitors/{cid}/points", {"kind": "weakness", "text": "Price", "need": foreign_need["id"]})
    assert response.status_code == 422 and "need" in response.json()["errors"]


def test_proposals_are_versions_and_one_version_answers_its_lines(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    first = post(client, f"/api/v1/deals/{deal.pk}/proposals", {
        "background": "Growing fast.", "language": "es",
        "lines": [{"group": "Equipment", "description": "Forklift 2.5 t", "quantity": 4, "unit_price": "25000", "discount": 5},
                  {"group": "Service", "description": "Maintenance, 3 years", "quantity": 1, "unit_price": "15000"}],
    })
    assert first.status_code == 201, first.json()
    assert (first.json()["version"], first.json()["total"], first.json()["language"]) == (1, "110000.00", "es")
    assert [ln["amount"] for ln in first.json()["lines"]] == ["95000.00", "15000.00"]
    second = post(client, f"/api/v1/deals/{deal.pk}/proposals", {"problems": "Old fleet breaks down."})
    assert second.json()["version"] == 2 and second.json()["background"] == "Growing fast."
    listed = client.get(f"/api/v1/deals/{deal.pk}/proposals").json()
    assert [p["version"] for p in listed["items"]] == [2, 1] and listed["items"][0]["lines"] is None
    one = client.get(f"/api/v1/deals/{deal.pk}/proposals/1").json()
    assert one["problems"] == "" and len(one["lines"]) == 2
    assert client.get(f"/api/v1/deals/{deal.pk}/proposals/3").status_code == 404
    bad = post(client, f"/api/v1/deals/{deal.pk}/proposals", {"lines": [{"description": "x", "quantity": 1, "unit_price": "12,5"}]})
    assert bad.status_code == 422 and "lines[0].unit_price" in bad.json()["errors"]
    assert post(client, f"/api/v1/deals/{deal.pk}/proposals", {"language": "klingon"}).status_code == 422
    assert Proposal.objects.count() == 2


def test_the_negotiation_plan_and_log_warn_about_concessions(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    empty = client.get(f"/api/v1/deals/{deal.pk}/negotiation").json()
    assert empty["bottom_line"] is None and empty["interests"] == []
    plan = send(client, "PUT", f"/api/v1/deals/{deal.pk}/negotiation", {"bottom_line": "100000", "target": 118000, "interests": ["price", "payment"]})
    assert plan.status_code == 200, plan.json()
    assert (plan.json()["bottom_line"], plan.json()["target"], plan.json()["interests"]) == ("100000.00", "118000.00", ["price", "payment"])
    below = send(client, "PUT", f"/api/v1/deals/{deal.pk}/negotiation", {"target": "90000"})
    assert below.status_code == 422 and "target" in below.json()["errors"]
    assert send(client, "PUT", f"/api/v1/deals/{deal.pk}/negotiation", {"interests": ["price", "price"]}).status_code == 422
    url = f"/api/v1/deals/{deal.pk}/negotiation/entries"
    first = post(client, url, {"kind": "concession", "text": "5% off", "value": "6000"})
    assert first.status_code == 201 and first.json()["warnings"] == []
    second = post(client, url, {"kind": "concession", "text": "free delivery", "value": 6000})
    assert len(second.json()["warnings"]) == 1 and "not smaller" in second.json()["warnings"][0]
    assert post(client, url, {"kind": "concession", "text": "no value"}).status_code == 422
    agreed = post(client, url, {"kind": "agreed", "interest": "payment", "text": "60 days"}).json()
    confirmed = post(client, f"{url}/{agreed['id']}/confirm", {})
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"] is not None
    assert post(client, f"{url}/{first.json()['id']}/confirm", {}).status_code == 422  # not an agreed term
    listed = client.get(url).json()
    assert listed["count"] == 3 and [e["value"] for e in listed["items"]] == ["6000.00", "6000.00", None]
    assert any("shrink" in w for w in client.get(f"/api/v1/deals/{deal.pk}").json()["warnings"])


def test_a_part_of_another_deal_answers_404(users: Any, make_deal: Any, member: Any) -> None:
    deal, other = make_deal(), make_deal(name="Other deal")
    client = api(users["rep_ana"])
    need = post(client, f"/api/v1/deals/{other.pk}/needs", {"kind": "goal", "text": "x"}).json()
    criterion = post(client, f"/api/v1/deals/{other.pk}/criteria", {"name": "Price", "weight": 10}).json()
    competitor = post(client, f"/api/v1/deals/{other.pk}/competitors", {"name": "Rival"}).json()
    point = post(client, f"/api/v1/deals/{other.pk}/competitors/{competitor['id']}/points", {"kind": "strength", "text": "x"}).json()
    contact = post(client, f"/api/v1/deals/{other.pk}/contacts", {"member": member.pk}).json()
    entry = post(client, f"/api/v1/deals/{other.pk}/negotiation/entries", {"kind": "agreed", "text": "x"}).json()
    post(client, f"/api/v1/deals/{other.pk}/proposals", {})
    base = f"/api/v1/deals/{deal.pk}"
    assert send(client, "PATCH", f"{base}/needs/{need['id']}", {"text": "y"}).status_code == 404
    assert send(client, "DELETE", f"{base}/needs/{need['id']}").status_code == 404
    assert send(client, "PATCH", f"{base}/criteria/{criterion['id']}", {"weight": 5}).status_code == 404
    assert send(client, "DELETE", f"{base}/competitors/{competitor['id']}").status_code == 404
    assert post(client, f"{base}/competitors/{competitor['id']}/points", {"kind": "strength", "text": "x"}).status_code == 404
    assert send(client, "DELETE", f"{base}/competitors/{competitor['id']}/points/{point['id']}").status_code == 404
    assert send(client, "PATCH", f"{base}/contacts/{contact['id']}", {"note": "y"}).status_code == 404
    assert send(client, "DELETE", f"{base}/contacts/{contact['id']}").status_code == 404
    assert post(client, f"{base}/negotiation/entries/{entry['id']}/confirm", {}).status_code == 404
    assert client.get(f"{base}/proposals/1").status_code == 404
    assert send(client, "DELETE", f"{base}/needs/{2**63}").status_code == 404
    assert NegotiationEntry.objects.get(pk=entry["id"]).confirmed_at is None
    assert Need.objects.count() == 1 and DealContact.objects.count() == 1
