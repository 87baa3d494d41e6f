"""Recording a check: a score from 1 to 5 and a comment, once; bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rapport.aftersales.models import SatisfactionCheck
from rapport.aftersales.tests.factories import DELIVERED, api, check_for
from rapport.audit.models import AuditEntry


def test_a_rep_records_the_score_comment_and_start_of_use(make_org: Any, users: dict[str, Any]) -> None:
    check = check_for(make_org())
    response = api(users["rep_ana"]).post(
        f"/api/v1/aftersales/checks/{check.pk}/result",
        {"score": 4, "comment": "Todo bien", "in_use_on": "2026-03-05"}, content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["score"] == 4 and body["comment"] == "Todo bien" and body["in_use_on"] == "2026-03-05"
    assert body["ask_for_referrals"] is True and body["done_by"] == users["rep_ana"].pk
    fields = set(AuditEntry.objects.filter(record_type="aftersales.satisfactioncheck", record_id=str(check.pk),
                                           action="update").values_list("field", flat=True))
    assert fields == {"score", "comment", "in_use_on"}


@pytest.mark.parametrize("score", [0, 6, -1, "abc", "4.5", 4.5, True, None, ""])
def test_a_score_outside_1_to_5_is_refused_and_nothing_changes(make_org: Any, users: dict[str, Any], score: Any) -> None:
    check = check_for(make_org())
    response = api(users["rep_ana"]).post(f"/api/v1/aftersales/checks/{check.pk}/result", {"score": score},
                                          content_type="application/json")
    assert response.status_code == 422
    assert "score" in response.json()["errors"]
    check.refresh_from_db()
    assert check.score is None and check.done_at is None


def test_a_check_is_recorded_only_once(make_org: Any, users: dict[str, Any]) -> None:
    check = check_for(make_org())
    client = api(users["rep_ana"])
    assert client.post(f"/api/v1/aftersales/checks/{check.pk}/result", {"score": 2}, content_type="application/json").status_code == 200
    again = client.post(f"/api/v1/aftersales/checks/{check.pk}/result", {"score": 5}, content_type="application/json")
    assert again.status_code == 422 and "recorded already" in again.json()["errors"]["score"][0]
    assert SatisfactionCheck.objects.get(pk=check.pk).score == 2


def test_an_oversized_comment_is_refused(make_org: Any, users: dict[str, Any]) -> None:
    check = check_for(make_org())
    response = api(users["rep_ana"]).post(f"/api/v1/aftersales/checks/{check.pk}/result",
                                          {"score": 5, "comment": "x" * 1001}, content_type="application/json")
    assert response.status_code == 422 and "comment" in response.json()["errors"]
    assert SatisfactionCheck.objects.get(pk=check.pk).done_at is None


def test_start_of_use_before_delivery_or_in_the_future_is_refused(make_org: Any, users: dict[str, Any]) -> None:
    check = check_for(make_org())
    client = api(users["rep_ana"])
    for day in ((DELIVERED - dt.timedelta(days=1)).isoformat(), "2999-01-01", "not a date"):
        response = client.post(f"/api/v1/aftersales/checks/{check.pk}/start-of-use", {"in_use_on": day}, content_type="application/json")
        assert response.status_code == 422 and "in_use_on" in response.json()["errors"]
    assert SatisfactionCheck.objects.get(pk=check.pk).in_use_on is None
    ok = client.post(f"/api/v1/aftersales/checks/{check.pk}/start-of-use", {"in_use_on": "2026-03-10"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["in_use_on"] == "2026-03-10"


def test_unknown_fields_are_named(make_org: Any, users: dict[str, Any]) -> None:
    check = check_for(make_org())
    response = api(users["rep_ana"]).post(f"/api/v1/aftersales/checks/{check.pk}/result", {"score": 5, "mood": "happy"},
                                          content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"] == {"mood": ["Unknown field."]}


def test_due_checks_are_listed_oldest_first(make_org: Any, users: dict[str, Any]) -> None:
    card = make_org()
    late = check_for(card, delivered_on=dt.date(2026, 1, 5))
    soon = check_for(card, delivered_on=dt.date(2026, 2, 1))
    check_for(card, delivered_on=dt.date(2026, 11, 30))  # due in December: not yet
    body = api(users["rep_ana"]).get("/api/v1/aftersales/checks?today=2026-11-30").json()
    assert body["count"] == 2 and [c["id"] for c in body["items"]] == [late.pk, soon.pk]
