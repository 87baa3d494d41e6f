"""The reports described by a spec share their filters, their files and their commands: a saved
segment narrows every one of them, every page and file answers for every spec, and a segment out of
reach is refused."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import reports
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)


@pytest.fixture
def world(users: Any, make_org: Any, sell: Any, products: Any) -> dict[str, Any]:
    from rapport.cards.models import Card
    from rapport.segments.services import create_segment

    big = make_org(name="Grande", tier="A")
    small = make_org(name="Pequeño", tier="C")
    sell(big, dt.date(2026, 2, 2), (products["oil"], 10, "10.00", "0"))
    sell(small, dt.date(2026, 2, 3), (products["rice"], 4, "5.00", "0"))
    Card.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    tier_a = create_segment(user=users["rep_ana"], data={"name": "Solo A", "conditions": [{"field": "tier", "value": ["A"]}]})
    private = create_segment(user=users["rep_bo_other_team"], data={"name": "De Bo", "conditions": []})
    return {"big": big, "small": small, "tier_a": tier_a, "private": private}


def test_the_table_of_reports_names_every_spec_once_with_unique_columns() -> None:
    specs = reports.specs()
    assert set(specs) == {"profile", "promotions", "prospects", "profitability", "performance", "reps", "products"}
    for name, spec in specs.items():
        assert spec.name == name and len(set(spec.keys)) == len(spec.keys), name
        assert set(spec.filters) <= {"period", "as_of", "by", "promotion", "team", "rep", "segment"}, name


def test_a_saved_segment_narrows_profitability_performance_and_products(users: Any, world: Any) -> None:
    from rapport.analytics import selectors

    ana, segment = users["rep_ana"], world["tier_a"].pk
    profit = selectors.profitability_report(ana, start=START, end=END, segment=segment)
    assert [row.name for row in profit.rows] == ["Grande"]
    perf = selectors.performance_report(ana, start=START, end=END, segment=segment)
    assert perf.total.revenue == Decimal("100.00")
    products = selectors.products_report(ana, start=START, end=END, segment=segment)
    assert [row.sku for row in products.rows] == ["OIL-1"]
    reps = selectors.reps_report(ana, start=START, end=END, segment=segment)
    assert [(row.rep, row.orders) for row in reps.rows] == [("rep_ana", 1)]


def test_every_spec_page_and_file_answers_and_a_segment_out_of_reach_is_refused(users: Any, world: Any,
                                                                               tmp_path: Path) -> None:
    from rapport.cli import main

    web = Client()
    web.force_login(users["rep_ana"])
    for name in reports.specs():
        query = f"?start={START}&end={END}&segment={world['tier_a'].pk}"
        assert web.get(f"/analytics/{name}/{query}").status_code == 200, name
        assert web.get(f"/analytics/{name}.csv{query}").status_code == (422 if name == "promotions" else 200), name
        assert web.get(f"/analytics/{name}/?segment={world['private'].pk}").status_code == 422, name
    client = api(users["rep_ana"])
    for name in ("profile", "prospects", "profitability", "performance", "reps", "products"):
        assert client.get(f"/api/v1/reports/{name}?segment={world['private'].pk}").status_code == 422, name
    target = tmp_path / "perf.csv"
    assert main(["analytics", "performance", "--by", "tier", "--from", START.isoformat(), "--to", END.isoformat(),
                 "--segment", "Solo A", "--user", "rep_ana", "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["key"], r["revenue"]) for r in rows] == [("A", "100.00"), ("", "100.00")]
    assert main(["analytics", "products", "--segment", "De Bo", "--user", "rep_ana", "--output", str(target)]) != 0


def test_a_saved_segment_narrows_churn_and_persistence_but_not_the_churn_model(users: Any, world: Any,
                                                                              tmp_path: Path) -> None:
    from rapport.analytics import selectors
    from rapport.cli import main

    ana, segment = users["rep_ana"], world["tier_a"].pk
    everyone = selectors.churn_report(ana, as_of=END)
    narrowed = selectors.churn_report(ana, as_of=END, segment=segment)
    assert [row.name for row in narrowed.rows] == ["Grande"] and narrowed.prior == everyone.prior
    cohorts = selectors.retention_report(ana, as_of=END, segment=segment)
    assert cohorts.customers == 1
    client = api(ana)
    assert client.get(f"/api/v1/reports/churn?as_of={END}&segment={segment}").json()["count"] == 1
    assert client.get(f"/api/v1/reports/persistence?as_of={END}&segment={segment}").json()["customers"] == 1
    for name in ("churn", "persistence"):
        assert client.get(f"/api/v1/reports/{name}?segment={world['private'].pk}").status_code == 422, name
    web = Client()
    web.force_login(ana)
    assert "Grande" in web.get(f"/analytics/churn/?as_of={END}&segment={segment}").content.decode()
    assert web.get(f"/analytics/churn/?segment={world['private'].pk}").status_code == 422
    assert web.get(f"/analytics/retention/?segment={world['private'].pk}").status_code == 422
    assert 'name="segment"' not in web.get("/analytics/rfm/").content.decode()  # RFM ranks teams and reps only
    target = tmp_path / "churn.csv"
    assert main(["analytics", "churn", "--as-of", END.isoformat(), "--segment", "Solo A", "--user", "rep_ana",
                 "--output", str(target)]) == 0
    assert [r["name"] for r in csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines())] == ["Grande"]
