"""Collection work: the matrix's cells become tasks for the right person; plans and account checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.cards.models import Address
from rapport.commerce import collection, services
from rapport.commerce.models import CollectionTask, PaymentPlan
from rapport.commerce.tests.factories import api, invoice, post
from rapport.core.errors import PermissionDenied, ValidationError

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 6, 30)


def _due(days_overdue: int) -> str:
    return (AS_OF - dt.timedelta(days=days_overdue)).isoformat()


def test_each_cell_gives_work_to_its_owner_and_running_again_adds_nothing(users: Any, make_org: Any) -> None:
    services.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=30, large_from="1000")
    org = make_org()
    ana = users["rep_ana"]
    small_short = invoice(ana, org, "100", issued="2026-01-01", due=_due(5))
    large_short = invoice(ana, org, "5000", issued="2026-01-01", due=_due(5))
    small_long = invoice(ana, org, "100", issued="2026-01-01", due=_due(50))
    large_long = invoice(ana, org, "5000", issued="2026-01-01", due=_due(50))
    assert collection.generate_tasks(as_of=AS_OF) == {"created": 4, "closed": 0}
    assert collection.generate_tasks(as_of=AS_OF) == {"created": 0, "closed": 0}
    tasks = {t.invoice_id: t for t in CollectionTask.objects.all()}
    assert (tasks[small_short.pk].cell, tasks[small_short.pk].assigned_to) == ("short_small", None)
    assert (tasks[large_short.pk].cell, tasks[large_short.pk].assigned_to) == ("short_large", ana)
    assert (tasks[small_long.pk].cell, tasks[small_long.pk].assigned_to) == ("long_small", users["manager_mei"])
    assert (tasks[large_long.pk].cell, tasks[large_long.pk].assigned_to) == ("long_large", users["manager_mei"])
    assert "100" in tasks[small_short.pk].letter and org.display_name in tasks[small_short.pk].letter


def test_a_paid_invoices_task_is_closed_and_an_aging_one_moves_to_its_new_cell(users: Any, make_org: Any) -> None:
    org = make_org()
    ana = users["rep_ana"]
    paid = invoice(ana, org, "100", issued="2026-01-01", due=_due(5))
    aging = invoice(ana, org, "100", issued="2026-01-01", due=_due(25))
    collection.generate_tasks(as_of=AS_OF)
    services.record_payment(user=ana, card=org, data={"currency": "EUR", "amount": "100", "allocations": [{"invoice": paid.pk, "amount": "100"}]})
    assert collection.generate_tasks(as_of=AS_OF + dt.timedelta(days=10)) == {"created": 1, "closed": 2}
    open_tasks = CollectionTask.objects.filter(done_at__isnull=True)
    assert [(t.invoice_id, t.cell) for t in open_tasks] == [(aging.pk, "long_small")]


def test_the_reminder_letter_is_written_in_the_customers_language(users: Any, make_org: Any) -> None:
    org = make_org(name="Fabrica Cluj")
    Address.objects.create(card=org, city="Cluj", country="RO")
    inv = invoice(users["rep_ana"], org, "1234.50", currency="RON", issued="2026-01-01", due=_due(3))
    letter = collection.reminder_letter(inv)
    assert letter.startswith("Stimate/Stimată Fabrica Cluj") and "1.234,50" in letter
    assert collection.reminder_letter(inv, "zh-hans").startswith("尊敬的 Fabrica Cluj")


def test_completing_a_task_records_the_outcome_once(users: Any, make_org: Any) -> None:
    org = make_org()
    invoice(users["rep_ana"], org, "100", issued="2026-01-01", due=_due(5))
    collection.generate_tasks(as_of=AS_OF)
    task = collection.tasks_for(users["rep_ana"]).get()
    client = api(users["rep_ana"])
    done = post(client, f"/api/v1/collection/tasks/{task.pk}/done", {"outcome": "Letter sent by e-mail"})
    assert done.status_code == 200 and done.json()["outcome"] == "Letter sent by e-mail"
    assert post(client, f"/api/v1/collection/tasks/{task.pk}/done", {"outcome": "again"}).status_code == 422
    assert post(api(users["rep_bo_other_team"]), f"/api/v1/collection/tasks/{task.pk}/done", {"outcome": "x"}).status_code == 404


def test_a_payment_plan_must_cover_exactly_what_is_open(users: Any, make_org: Any) -> None:
    org = make_org()
    a = invoice(users["rep_ana"], org, "600", issued="2026-01-01", due=_due(90))
    b = invoice(users["rep_ana"], org, "400", issued="2026-01-01", due=_due(80))
    data: dict[str, Any] = {"invoices": [a.pk, b.pk], "agreed_on": "2026-07-01",
            "instalments": [{"due_on": "2026-08-01", "amount": "500"}, {"due_on": "2026-09-01", "amount": "400"}]}
    with pytest.raises(ValidationError) as caught:
        collection.create_payment_plan(user=users["manager_mei"], card=org, data=data)
    assert "add up to" in caught.value.errors["instalments"][0]
    data["instalments"][1]["amount"] = "500"
    with pytest.raises(PermissionDenied):
        collection.create_payment_plan(user=users["rep_ana"], card=org, data=data)
    plan = collection.create_payment_plan(user=users["manager_mei"], card=org, data=data)
    assert plan.total == Decimal("1000") and plan.instalments.count() == 2


def test_a_plan_cannot_take_another_customers_invoice(users: Any, make_org: Any) -> None:
    org, other = make_org(), make_org(name="Otra")
    foreign = invoice(users["rep_ana"], other, "100", issued="2026-01-01", due=_due(90))
    with pytest.raises(ValidationError):
        collection.create_payment_plan(user=users["manager_mei"], card=org, data={
            "invoices": [foreign.pk], "instalments": [{"due_on": "2030-01-01", "amount": "100"}]})
    assert not PaymentPlan.objects.exists()


def test_an_account_check_records_our_balance_and_the_customers_difference(users: Any, make_org: Any) -> None:
    org = make_org()
    invoice(users["rep_ana"], org, "300", issued="2026-01-01", due="2026-02-01")
    services.record_payment(user=users["rep_ana"], card=org, data={"currency": "EUR", "amount": "50", "kind": "deposit",
                                                                   "received_on": "2026-01-05"})
    response = post(api(users["rep_ana"]), f"/api/v1/organizations/{org.pk}/account-checks", {
        "currency": "EUR", "as_of": "2026-03-01", "customer_balance": "240", "confirmed": True, "confirmed_by": "Lucía Pérez (CFO)"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["outstanding"], body["deposits"], body["difference"]) == ("250.00", "50.00", "-10.00")
    missing_signatory = post(api(users["rep_ana"]), f"/api/v1/organizations/{org.pk}/account-checks",
                             {"currency": "EUR", "confirmed": True})
    assert missing_signatory.status_code == 422
