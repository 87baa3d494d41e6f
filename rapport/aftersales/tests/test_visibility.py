"""Everything after-sales is visible exactly as its customer's card: another team's rep gets 404."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.aftersales import services
from rapport.aftersales.models import ReferralRequest, SatisfactionCheck, ServiceCase
from rapport.aftersales.tests.factories import api, check_for, satisfied


def _north_records(make_org: Any, users: dict[str, Any]) -> dict[str, Any]:
    ana = users["rep_ana"]
    customer = make_org()
    check = check_for(make_org(name="Entregas Norte S.A."))
    case = services.open_case(user=ana, card=customer, data={"subject": "Falta una pieza"})
    satisfied(customer, ana)
    asked = services.ask_for_referrals(user=ana, card=customer, data={})
    return {"customer": customer, "check": check, "case": case, "asked": asked}


def test_another_teams_rep_gets_404_for_every_record_and_sees_none_in_lists(make_org: Any, users: dict[str, Any]) -> None:
    north = _north_records(make_org, users)
    bo = api(users["rep_bo_other_team"])
    case, check, asked = north["case"], north["check"], north["asked"]
    assert bo.get(f"/api/v1/aftersales/cases/{case.pk}").status_code == 404
    assert bo.get("/api/v1/aftersales/cases/999999").status_code == 404
    assert bo.patch(f"/api/v1/aftersales/cases/{case.pk}", {"subject": "x"}, content_type="application/json", HTTP_IF_MATCH='"1"').status_code == 404
    assert bo.post(f"/api/v1/aftersales/cases/{case.pk}/resolve", {"resolution": "x"}, content_type="application/json").status_code == 404
    assert bo.get(f"/api/v1/aftersales/checks/{check.pk}").status_code == 404
    assert bo.post(f"/api/v1/aftersales/checks/{check.pk}/result", {"score": 1}, content_type="application/json").status_code == 404
    assert bo.post(f"/api/v1/aftersales/referrals/{asked.pk}/outcome", {"outcome": "declined"}, content_type="application/json").status_code == 404
    for url in ("/api/v1/aftersales/cases", "/api/v1/aftersales/checks?state=all", "/api/v1/aftersales/referrals"):
        assert bo.get(url).json() == {"items": [], "count": 0}
    assert ServiceCase.objects.get(pk=case.pk).resolved_at is None
    assert SatisfactionCheck.objects.get(pk=check.pk).score is None
    assert ReferralRequest.objects.get(pk=asked.pk).outcome == "asked"


def test_a_customer_out_of_reach_in_a_body_reads_like_an_unknown_one(make_org: Any, users: dict[str, Any]) -> None:
    north = _north_records(make_org, users)
    bo = api(users["rep_bo_other_team"])
    for card_id in (north["customer"].pk, 999999):
        response = bo.post("/api/v1/aftersales/cases", {"card": card_id, "subject": "x"}, content_type="application/json")
        assert response.status_code == 422 and response.json()["errors"] == {"card": ["No such customer."]}
    garbled = bo.post("/api/v1/aftersales/cases", {"card": "abc", "subject": "x"}, content_type="application/json")
    assert garbled.status_code == 422 and garbled.json()["errors"] == {"card": ["Expected a number."]}
    assert ServiceCase.objects.count() == 1


def test_a_teammate_and_the_manager_see_the_teams_records(make_org: Any, users: dict[str, Any]) -> None:
    north = _north_records(make_org, users)
    for name in ("rep_ben", "manager_mei", "admin"):
        assert api(users[name]).get(f"/api/v1/aftersales/cases/{north['case'].pk}").status_code == 200, name


def test_the_web_forms_answer_404_for_another_teams_records(make_org: Any, users: dict[str, Any]) -> None:
    north = _north_records(make_org, users)
    bo = Client()
    bo.force_login(users["rep_bo_other_team"])
    assert bo.post(f"/aftersales/cases/{north['case'].pk}/resolve/", {"resolution": "x"}).status_code == 404
    assert bo.post(f"/aftersales/checks/{north['check'].pk}/result/", {"score": "5"}).status_code == 404
    assert bo.post(f"/cards/{north['customer'].pk}/aftersales/cases/", {"subject": "x"}).status_code == 404
    assert bo.post(f"/aftersales/referrals/{north['asked'].pk}/outcome/", {"outcome": "declined"}).status_code == 404
    page = bo.get("/aftersales/")
    assert page.status_code == 200 and "Falta una pieza" not in page.content.decode()
