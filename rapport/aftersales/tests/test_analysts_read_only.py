"""Analysts read after-sales records but never write them."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.aftersales import services
from rapport.aftersales.models import ReferralRequest, SatisfactionCheck, ServiceCase
from rapport.aftersales.tests.factories import api, check_for, satisfied


def test_an_analyst_lists_but_cannot_open_resolve_record_or_ask(make_org: Any, users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    customer = make_org()
    case = services.open_case(user=ana, card=customer, data={"subject": "Ruido extraño"})
    check = check_for(make_org(name="Entregas S.A."))
    satisfied(customer, ana)
    asked = services.ask_for_referrals(user=ana, card=customer, data={})
    al = api(users["analyst_al"])
    assert al.get("/api/v1/aftersales/cases").json()["count"] == 1
    assert al.get(f"/api/v1/aftersales/checks/{check.pk}").status_code == 200
    writes = [
        al.post("/api/v1/aftersales/cases", {"card": customer.pk, "subject": "x"}, content_type="application/json"),
        al.patch(f"/api/v1/aftersales/cases/{case.pk}", {"subject": "x"}, content_type="application/json", HTTP_IF_MATCH='"1"'),
        al.post(f"/api/v1/aftersales/cases/{case.pk}/resolve", {"resolution": "x"}, content_type="application/json"),
        al.post(f"/api/v1/aftersales/checks/{check.pk}/result", {"score": 5}, content_type="application/json"),
        al.post(f"/api/v1/aftersales/checks/{check.pk}/start-of-use", {"in_use_on": "2026-03-04"}, content_type="application/json"),
        al.post(f"/api/v1/aftersales/referrals/{asked.pk}/outcome", {"outcome": "declined"}, content_type="application/json"),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    case.refresh_from_db()
    assert case.subject == "Ruido extraño" and case.resolved_at is None and ServiceCase.objects.count() == 1
    assert SatisfactionCheck.objects.get(pk=check.pk).done_at is None
    assert ReferralRequest.objects.get(pk=asked.pk).outcome == "asked"


def test_an_analyst_sees_the_panel_without_forms_and_cannot_post_them(make_org: Any, users: dict[str, Any]) -> None:
    customer = make_org()
    services.open_case(user=users["rep_ana"], card=customer, data={"subject": "Ruido extraño"})
    al = Client()
    al.force_login(users["analyst_al"])
    page = al.get(f"/cards/{customer.pk}/").content.decode()
    assert "Ruido extraño" in page and 'name="resolution"' not in page and "/aftersales/cases/" not in page
    assert al.post(f"/cards/{customer.pk}/aftersales/cases/", {"subject": "x"}).status_code == 403
    assert ServiceCase.objects.count() == 1
