"""/api/v1/deals/{id}/step, checklist, signals, history, close, finish and order."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.commerce.tests.factories import api, post, priced_catalog
from rapport.deals.models import Deal, StepMove

pytestmark = pytest.mark.django_db


def test_leaving_a_step_without_its_exit_signals_answers_what_is_missing(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = post(api(users["rep_ana"]), f"/api/v1/deals/{deal.pk}/step", {"to": "discover_needs"})
    assert response.status_code == 422
    body = response.json()
    assert [(m["step"], m["key"]) for m in body["missing"]] == [("analyse", "four_questions"), ("build_trust", "key_relationships")]
    assert all(m["label"] for m in body["missing"])
    assert "Missing exit signal" in body["errors"]["to"][0] and body["detail"][0]["loc"] == ["body", "to"]
    assert Deal.objects.get(pk=deal.pk).step == "analyse" and StepMove.objects.filter(deal=deal).count() == 1


def test_a_move_with_its_signals_met_answers_the_move_and_the_deal(users: Any, make_deal: Any, all_yes: Any) -> None:
    deal = make_deal()
    all_yes(deal)
    response = post(api(users["rep_ana"]), f"/api/v1/deals/{deal.pk}/step", {"to": "build_trust", "reason": "Clear opportunity"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["from"], body["to"], body["reason"], body["missing"]) == ("analyse", "build_trust", "Clear opportunity", [])
    assert body["who"]["name"] == "rep_ana" and body["seconds_in_previous"] is not None
    assert body["deal"]["step"] == "build_trust" and body["deal"]["weighted"] == "24000.00"
    assert response["ETag"] == f'"{body["deal"]["version"]}"'


def test_an_override_reason_moves_anyway_and_the_history_keeps_what_was_missing(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    moved = post(client, f"/api/v1/deals/{deal.pk}/step", {"to": "discover_needs", "override_reason": "Repeat buyer"})
    assert moved.status_code == 200 and moved.json()["missing"] == ["four_questions", "key_relationships"]
    post(client, f"/api/v1/deals/{deal.pk}/step", {"to": "build_trust", "reason": "Scope changed"})
    history = client.get(f"/api/v1/deals/{deal.pk}/step-history")
    assert history.status_code == 200
    body = history.json()
    assert [(m["from"], m["to"]) for m in body["items"]] == [("", "analyse"), ("analyse", "discover_needs"), ("discover_needs", "build_trust")]
    assert body["count"] == 3 and body["items"][1]["override_reason"] == "Repeat buyer"
    assert body["items"][2]["reason"] == "Scope changed" and body["items"][0]["who"]["name"] == "rep_ana"
    assert set(body["seconds_in_steps"]) == {"analyse", "discover_needs", "build_trust"}


def test_an_unknown_step_a_stale_version_and_a_closed_deal_are_refused(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    url = f"/api/v1/deals/{deal.pk}/step"
    unknown = post(client, url, {"to": "celebrate", "override_reason": "x"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"][-1] == "to"
    assert post(client, url, {"to": "analyse"}).status_code == 422  # already there
    assert post(client, url, {"to": "build_trust", "override_reason": "x"}, HTTP_IF_MATCH='"9"').status_code == 412
    assert post(client, url, {"to": "build_trust", "override_reason": "x" * 1001}).status_code == 422
    post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "lost", "reason": "price"})
    assert post(client, url, {"to": "build_trust", "override_reason": "x"}).status_code == 422
    assert Deal.objects.get(pk=deal.pk).step == "analyse"


def test_the_checklist_shows_the_current_steps_items_texts_and_actions(users: Any, make_deal: Any, all_yes: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/deals/{deal.pk}/checklist").json()
    assert body["step"] == "analyse" and body["entry"] and body["exit"] and len(body["actions"]) == 4
    assert [(i["key"], i["met"], i["automatic"]) for i in body["items"]] == [("four_questions", False, True)]
    assert body["ready"] is False
    all_yes(deal)
    assert client.get(f"/api/v1/deals/{deal.pk}/checklist").json()["ready"] is True


def test_a_manual_signal_is_ticked_and_an_automatic_one_is_refused(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    assert post(client, f"/api/v1/deals/{deal.pk}/signals/four_questions", {"checked": True}).status_code == 422
    post(client, f"/api/v1/deals/{deal.pk}/step", {"to": "discover_needs", "override_reason": "Known customer"})
    ticked = post(client, f"/api/v1/deals/{deal.pk}/signals/written_request", {"checked": True, "note": "E-mail of 2 Dec"})
    assert ticked.status_code == 200, ticked.json()
    assert ticked.json() == {"key": "written_request", "label": ticked.json()["label"], "met": True, "automatic": False}
    assert client.get(f"/api/v1/deals/{deal.pk}/checklist").json()["ready"] is True
    assert post(client, f"/api/v1/deals/{deal.pk}/signals/nonsense", {"checked": True}).status_code == 422
    assert post(client, f"/api/v1/deals/{deal.pk}/signals/written_request", {"checked": "perhaps"}).status_code == 422
    unticked = post(client, f"/api/v1/deals/{deal.pk}/signals/written_request", {"checked": False})
    assert unticked.json()["met"] is False


def test_closing_as_lost_needs_a_listed_reason(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    refused = post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "lost", "reason": "bad luck"})
    assert refused.status_code == 422 and "reason" in refused.json()["errors"]
    assert post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "draw", "reason": "price"}).status_code == 422
    closed = post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "lost", "reason": "price", "note": "10% cheaper elsewhere"})
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert (body["status"], body["close_reason"], body["close_note"], body["weighted"], body["effective_probability"]) == (
        "lost", "price", "10% cheaper elsewhere", "0.00", 0)
    assert post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "lost", "reason": "price"}).status_code == 422


def test_winning_without_the_signals_answers_what_is_missing_and_an_override_wins(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    refused = post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "won", "reason": "value"})
    assert refused.status_code == 422
    assert [m["key"] for m in refused.json()["missing"]] == [
        "four_questions", "key_relationships", "written_request", "negotiation_started", "contract_signed"]
    won = post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "won", "reason": "value", "override_reason": "Signed at the fair"})
    assert won.status_code == 200 and (won.json()["status"], won.json()["step"]) == ("won", "follow_up")


def test_a_won_deal_becomes_a_draft_order_once(users: Any, make_deal: Any) -> None:
    priced_catalog(users["admin"])
    deal = make_deal(products=[{"product": "OIL-5L", "quantity": 10}])
    client = api(users["rep_ana"])
    assert post(client, f"/api/v1/deals/{deal.pk}/order", {}).status_code == 422  # still open
    post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "won", "reason": "value", "override_reason": "Signed"})
    response = post(client, f"/api/v1/deals/{deal.pk}/order", {})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["deal"]["order"] == body["order"]
    order = client.get(f"/api/v1/orders/{body['order']}").json()
    assert order["status"] == "draft" and order["total"] == "245.00"
    assert post(client, f"/api/v1/deals/{deal.pk}/order", {}).status_code == 422


def test_the_follow_up_finishes_once_paid_or_with_an_override(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    client = api(users["rep_ana"])
    assert post(client, f"/api/v1/deals/{deal.pk}/finish", {}).status_code == 422  # not won
    post(client, f"/api/v1/deals/{deal.pk}/close", {"outcome": "won", "reason": "value", "override_reason": "Signed"})
    unpaid = client.generic("POST", f"/api/v1/deals/{deal.pk}/finish")  # no body at all
    assert unpaid.status_code == 422 and [m["key"] for m in unpaid.json()["missing"]] == ["all_paid"]
    finished = post(client, f"/api/v1/deals/{deal.pk}/finish", {"override_reason": "Paid in cash at the counter"})
    assert finished.status_code == 200 and finished.json()["followed_up_at"] is not None
