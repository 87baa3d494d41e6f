"""Collection work on the web: tasks per person with the reminder letter, payment plans and account checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.commerce import collection, services
from rapport.commerce.models import AccountCheck, CollectionTask, PaymentPlan
from rapport.commerce.tests.factories import invoice

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _overdue(users: Any, make_org: Any) -> tuple[Any, Any, Any]:
    services.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=30, large_from="1000")
    org = make_org(name="Norte S.A.")
    today = timezone.localdate()
    small = invoice(users["rep_ana"], org, "100.00", issued="2026-01-01", due=(today - dt.timedelta(days=5)).isoformat())
    large = invoice(users["rep_ana"], org, "5000.00", issued="2026-01-01", due=(today - dt.timedelta(days=5)).isoformat())
    collection.generate_tasks(as_of=today)
    return org, small, large


def test_tasks_are_listed_per_person_and_the_reminder_letter_is_printable(users: Any, make_org: Any,
                                                                          django_assert_max_num_queries: Any) -> None:
    org, small, _large = _overdue(users, make_org)
    mei = _client(users["manager_mei"])
    with django_assert_max_num_queries(8):
        page = mei.get("/collection/").content.decode()
    assert "Finance (reminder letters)" in page and "rep_ana" in page
    assert "Routine reminder" in page and "Rep visits to collect" in page and "€5,000.00" in page
    task = CollectionTask.objects.get(invoice=small)
    letter = mei.get(f"/collection/{task.pk}/letter/").content.decode()
    assert "Norte S.A." in letter and "€100.00" in letter


def test_a_rep_marks_a_visit_done_with_its_outcome(users: Any, make_org: Any, ana: Client) -> None:
    _org, _small, large = _overdue(users, make_org)
    task = CollectionTask.objects.get(invoice=large)
    assert ana.post(f"/collection/{task.pk}/done/", {"outcome": ""}).status_code == 302
    task.refresh_from_db()
    assert task.done_at is None
    assert ana.post(f"/collection/{task.pk}/done/", {"outcome": "Promised to pay Friday"}).status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.outcome == "Promised to pay Friday"


def test_only_managers_generate_tasks_and_another_team_sees_none(users: Any, make_org: Any, ana: Client) -> None:
    _overdue(users, make_org)
    assert ana.post("/collection/generate/").status_code == 403
    page = _client(users["rep_bo_other_team"]).get("/collection/").content.decode()
    assert "Norte S.A." not in page
    task = CollectionTask.objects.first()
    assert task is not None
    assert _client(users["rep_bo_other_team"]).get(f"/collection/{task.pk}/letter/").status_code == 404


def test_a_manager_agrees_a_payment_plan_on_the_statement(users: Any, make_org: Any) -> None:
    org, small, large = _overdue(users, make_org)
    mei = _client(users["manager_mei"])
    assert "Agree a payment plan" in mei.get(f"/cards/{org.pk}/statement/").content.decode()
    today = timezone.localdate()
    data = {"invoices": [large.pk], "agreed_on": today.isoformat(), "note": "",
            "inst_due_on": [(today + dt.timedelta(days=30)).isoformat(), (today + dt.timedelta(days=60)).isoformat(), ""],
            "inst_amount": ["2500", "2000", ""]}
    response = mei.post(f"/cards/{org.pk}/payment-plans/", data)
    assert response.status_code == 422 and "add up to" in response.content.decode()
    assert not PaymentPlan.objects.exists()
    data["inst_amount"] = ["2500", "2500", ""]
    assert mei.post(f"/cards/{org.pk}/payment-plans/", data).status_code == 302
    assert PaymentPlan.objects.get().instalments.count() == 2


def test_a_rep_may_not_agree_a_payment_plan(users: Any, make_org: Any, ana: Client) -> None:
    org, _small, large = _overdue(users, make_org)
    assert ana.post(f"/cards/{org.pk}/payment-plans/", {"invoices": [large.pk]}).status_code == 403


def test_an_account_check_is_recorded_and_its_confirmation_downloads(users: Any, make_org: Any, ana: Client) -> None:
    org, _small, _large = _overdue(users, make_org)
    response = ana.post(f"/cards/{org.pk}/account-checks/", {"as_of": timezone.localdate().isoformat(), "currency": "EUR",
                                                            "customer_balance": "5100", "confirmed": "on", "confirmed_by": "Ms Ruiz"})
    assert response.status_code == 302
    check = AccountCheck.objects.get()
    assert check.confirmed and check.difference == 0
    pdf = ana.get(f"/cards/{org.pk}/account-checks/{check.pk}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_an_account_check_with_a_bad_balance_or_date_changes_nothing(users: Any, make_org: Any, ana: Client) -> None:
    org, _small, _large = _overdue(users, make_org)
    for data in ({"as_of": "2026-02-31", "currency": "EUR"}, {"as_of": "2026-01-01", "currency": "EUR", "customer_balance": "5.100,00"},
                 {"as_of": "2026-01-01", "currency": "EUR", "confirmed": "on"}):
        assert ana.post(f"/cards/{org.pk}/account-checks/", data).status_code == 422, data
    assert not AccountCheck.objects.exists()


def test_the_letter_is_reflowed_so_a_phone_or_printer_wraps_it() -> None:
    from rapport.commerce.views.accounts import reflow

    text = ("Dear Norte S.A.,\n\nAccording to our records, invoice F-1 of 2026-01-01 for €100.00 was due and\n"
            "€100.00 is still outstanding.\n\nKind regards,\nRapport\n")
    assert reflow(text) == [
        ["Dear Norte S.A.,"],
        ["According to our records, invoice F-1 of 2026-01-01 for €100.00 was due and €100.00 is still outstanding."],
        ["Kind regards,", "Rapport"],
    ]


def test_a_large_short_overdue_invoice_offers_a_collection_visit_with_the_amount_ready(users: Any, make_org: Any, ana: Client) -> None:
    org, _small, _large = _overdue(users, make_org)
    page = ana.get("/collection/").content.decode()
    link = f"/visits/new/?organization={org.pk}&amp;objective=collect_payment&amp;target=5000.00&amp;currency=EUR"
    assert link in page
    form = ana.get(link.replace("&amp;", "&")).content.decode()
    assert 'value="collect_payment" checked' in form and 'value="5000.00"' in form
