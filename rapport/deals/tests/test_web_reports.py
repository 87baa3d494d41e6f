"""The deal reports page: forecast and pipeline for reps, managers and admins, filters and CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.deals import content, services

pytestmark = pytest.mark.django_db


def _client(users: Any, name: str) -> Client:
    client = Client()
    client.force_login(users[name])
    return client


def _month(offset: int = 0) -> str:
    today = timezone.localdate().replace(day=1)
    months = today.year * 12 + today.month - 1 + offset
    return dt.date(months // 12, months % 12 + 1, 15).isoformat()


@pytest.fixture
def pipeline(users: Any, make_org: Any, make_deal: Any) -> dict[str, Any]:
    """Ana's open deals this month and next, Ben's deal in the same team, one lost deal, and a
    deal of the other team."""
    ana_now = make_deal(name="Forklifts now", amount="100000", expected_close=_month(0))
    ana_next = make_deal(name="Chargers next month", amount="20000", expected_close=_month(1))
    ben = make_deal(user="rep_ben", name="Ben's racks", amount="5000", expected_close=_month(1))
    lost = make_deal(name="Lost tender", amount="7000")
    reason = content.reasons("lost")[0][0]
    services.close_deal(user=users["rep_ana"], deal=lost, outcome="lost", reason=reason)
    south = make_org(owner="rep_bo_other_team", name="Sur Ferretería")
    other = make_deal(user="rep_bo_other_team", card=south, name="South deal", amount="99999", expected_close=_month(0))
    return {"ana_now": ana_now, "ana_next": ana_next, "ben": ben, "lost": lost, "other": other, "reason": reason}


def test_a_rep_sees_their_own_forecast_and_pipeline_by_default(users: Any, ana: Client, pipeline: Any,
                                                               django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(11):
        response = ana.get(reverse("deals-reports"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "€100,000.00" in html and "€20,000.00" in html  # this month and next
    assert "€5,000.00" not in html and "99,999" not in html  # Ben's deal and the other team's
    assert f'<option value="{users["rep_ana"].pk}" selected>' in html
    assert '<svg class="funnel-chart forecast-chart"' in html and "chart-bar" in html
    assert content.reason_label("lost", pipeline["reason"]) in html and "0 %" in html  # one lost, none won


def test_a_rep_may_widen_to_everything_they_see(ana: Client, pipeline: Any) -> None:
    html = ana.get(reverse("deals-reports"), {"owner": ""}).content.decode()
    assert "€25,000.00" in html and "99,999" not in html  # next month: Ana's and Ben's deals


def test_a_manager_sees_the_team(users: Any, pipeline: Any, django_assert_max_num_queries: Any) -> None:
    mei = _client(users, "manager_mei")
    with django_assert_max_num_queries(13):
        response = mei.get(reverse("deals-reports"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "€125,000.00" in html and "99,999" not in html  # both reps' open deals in North


def test_an_admin_sees_everyone(users: Any, pipeline: Any, django_assert_max_num_queries: Any) -> None:
    admin = _client(users, "admin")
    with django_assert_max_num_queries(10):
        response = admin.get(reverse("deals-reports"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "€199,999.00" in html  # this month: Ana's deal and the other team's


def test_the_team_and_period_filters_narrow_the_report(users: Any, pipeline: Any) -> None:
    admin = _client(users, "admin")
    south = users["rep_bo_other_team"].teams.get()
    html = admin.get(reverse("deals-reports"), {"team": south.pk}).content.decode()
    assert "€99,999.00" in html and "€100,000.00" not in html
    later = admin.get(reverse("deals-reports"), {"since": _month(1), "until": _month(2)}).content.decode()
    assert "Overdue (expected close passed)" in later and "€199,999.00" in later  # this month's deals, listed apart


def test_a_period_ending_before_it_starts_is_refused(ana: Client) -> None:
    response = ana.get(reverse("deals-reports"), {"since": "2026-05-01", "until": "2026-01-01"})
    assert response.status_code == 422 and "before its start" in response.content.decode()


def test_both_tables_export_as_csv(users: Any, ana: Client, pipeline: Any) -> None:
    from rapport.audit.models import AuditEntry

    forecast = ana.get(reverse("deals-reports-forecast-csv"))
    assert forecast.status_code == 200 and forecast["Content-Type"].startswith("text/csv")
    text = forecast.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "currency,month,open_deals,amount,weighted,won_deals,won_amount"
    assert f"EUR,{_month(0)[:7]},1,100000.00," in text
    pipeline_csv = ana.get(reverse("deals-reports-pipeline-csv")).content.decode("utf-8-sig")
    assert "analyse,EUR,2,120000.00" in pipeline_csv
    assert AuditEntry.objects.filter(action="export").count() == 2


def test_the_page_signs_in_first(client: Client) -> None:
    assert client.get(reverse("deals-reports")).status_code == 302
