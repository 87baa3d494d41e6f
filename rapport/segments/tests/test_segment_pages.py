"""The segment builder and pages: no query language, live counts, members and a safe CSV export."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.segments.models import Segment


def builder(**extra: Any) -> dict[str, Any]:
    return {"name": "Retail customers", "kind": "organization", "stage": ["customer"], "industry": "Retail", **extra}


def test_a_segment_is_built_from_the_form_and_its_members_listed(users: Any, ana: Client, make_org: Any) -> None:
    make_org(name="Alfa", lifecycle_stage="customer", industry="Retail")
    make_org(name="Beta", lifecycle_stage="prospect", industry="Retail")
    make_org(owner="rep_bo_other_team", name="Hidden", lifecycle_stage="customer", industry="Retail")
    response = ana.post("/segments/new/", builder(tier=["A", ""], priority="no"))
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.conditions == [
        {"field": "stage", "value": ["customer"]}, {"field": "tier", "value": ["", "A"]},
        {"field": "industry", "value": ["Retail"]}, {"field": "priority", "value": False},
    ]
    segment.conditions = [c for c in segment.conditions if c["field"] != "priority"]
    segment.save()
    page = ana.get(f"/segments/{segment.id}/").content.decode()
    assert "Alfa" in page and "Beta" not in page and "Hidden" not in page
    listing = ana.get("/segments/").content.decode()
    assert "Retail customers" in listing


def test_the_builder_counts_members_live(users: Any, ana: Client, make_org: Any) -> None:
    make_org(name="Alfa", lifecycle_stage="customer", industry="Retail")
    html = ana.get("/segments/count/", {"kind": "organization", "stage": "customer"}, HTTP_HX_REQUEST="true").content.decode()
    assert "1 card matches" in html
    bad = ana.get("/segments/count/", {"country": "Spain"}, HTTP_HX_REQUEST="true").content.decode()
    assert "ISO" in bad


def test_a_bad_condition_in_the_builder_is_shown_and_nothing_saved(users: Any, ana: Client) -> None:
    response = ana.post("/segments/new/", builder(country="Spain", created_from="2026-05-01", created_to="2026-01-01"))
    assert response.status_code == 422
    assert not Segment.objects.exists()


def test_the_export_is_safe_to_open_in_a_spreadsheet(users: Any, ana: Client, make_org: Any) -> None:
    make_org(name="=HYPERLINK(\"http://x\")", lifecycle_stage="customer")
    segment = Segment.objects.create(name="All", owner=users["rep_ana"], conditions=[])
    response = ana.get(f"/segments/{segment.id}/export.csv")
    body = b"".join(getattr(response, "streaming_content")).decode()
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body


def test_another_users_private_segment_pages_answer_404(users: Any, ana: Client) -> None:
    segment = Segment.objects.create(name="Ben's", owner=users["rep_ben"], conditions=[])
    for url in (f"/segments/{segment.id}/", f"/segments/{segment.id}/edit/", f"/segments/{segment.id}/export.csv"):
        assert ana.get(url).status_code == 404
    assert ana.post(f"/segments/{segment.id}/delete/").status_code == 404
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_organisation_lists_and_the_api_filter_by_a_segment(users: Any, ana: Client, make_org: Any) -> None:
    from rapport.accounts.services import create_token

    make_org(name="Alfa", lifecycle_stage="customer")
    make_org(name="Beta", lifecycle_stage="prospect")
    segment = Segment.objects.create(name="Customers", owner=users["rep_ana"], conditions=[{"field": "stage", "value": ["customer"]}])
    page = ana.get("/organizations/", {"segment": segment.id}).content.decode()
    assert "Alfa" in page and "Beta" not in page
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    names = [c["name"] for c in client.get(f"/api/v1/organizations?segment={segment.id}").json()["items"]]
    assert names == ["Alfa"]
    foreign = Segment.objects.create(name="Ben's", owner=users["rep_ben"], conditions=[])
    assert client.get(f"/api/v1/organizations?segment={foreign.id}").status_code == 422
