"""The proposals page: versions, the latest shown, a new version saved, bad input kept with its errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.deals import services
from rapport.deals.models import Proposal

pytestmark = pytest.mark.django_db


def _client(users: Any, name: str) -> Client:
    client = Client()
    client.force_login(users[name])
    return client


def _post(deal: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "language": "en", "title": "Fleet renewal", "background": "Forty forklifts.", "problems": "", "solution_overview": "",
        "solution_products": "", "implementation_plan": "", "service": "", "credentials": "",
        "line_key": ["a1", "b2", "c3"], "line_group": ["Hardware", "Service", ""], "line_product": ["", "", ""],
        "line_description": ["Electric forklift", "Maintenance, 3 years", ""], "line_quantity": ["4", "1", "1"],
        "line_unit_price": ["28500", "9900", ""], "line_discount": ["5", "", ""],
    }
    data.update(overrides)
    return data


def test_the_page_lists_versions_and_shows_the_latest(users: Any, ana: Client, make_deal: Any) -> None:
    deal = make_deal()
    services.create_proposal(user=users["rep_ana"], deal=deal, data={"title": "First draft"})
    services.create_proposal(user=users["rep_ana"], deal=deal, data={"title": "Second draft", "lines": [
        {"group": "Hardware", "description": "Electric forklift", "quantity": "2", "unit_price": "100"}]})
    response = ana.get(reverse("deals-proposals", args=[deal.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="version-row"') == 2 and "rep_ana" in html and "€200.00" in html
    assert "Second draft" in html and 'value="Second draft"' in html  # the form starts from the latest version
    assert reverse("deals-proposal-pdf", args=[deal.pk, 2]) in html


def test_a_new_version_is_saved_with_its_grouped_lines(ana: Client, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(reverse("deals-proposals", args=[deal.pk]), _post(deal))
    assert response.status_code == 302
    proposal = Proposal.objects.get(deal=deal)
    assert proposal.version == 1 and proposal.title == "Fleet renewal"
    assert [(ln.group, ln.amount) for ln in proposal.lines.all()] == [("Hardware", Decimal("108300")), ("Service", Decimal("9900"))]
    page = ana.get(reverse("deals-proposals", args=[deal.pk])).content.decode()
    assert "Subtotal Hardware" in page and "€118,200.00" in page


def test_a_ticked_line_is_removed(ana: Client, make_deal: Any) -> None:
    deal = make_deal()
    ana.post(reverse("deals-proposals", args=[deal.pk]), _post(deal, line_remove=["b2"]))
    assert [ln.description for ln in Proposal.objects.get(deal=deal).lines.all()] == ["Electric forklift"]


def test_a_product_line_takes_the_product_and_its_name(ana: Client, make_deal: Any) -> None:
    from rapport.commerce.models import Product

    Product.objects.create(sku="FL-25", name="Forklift 2.5 t")
    deal = make_deal()
    response = ana.post(reverse("deals-proposals", args=[deal.pk]), _post(
        deal, line_key=["a1"], line_group=[""], line_product=["FL-25"], line_description=[""], line_quantity=["2"],
        line_unit_price=["100"], line_discount=[""]))
    assert response.status_code == 302
    line = Proposal.objects.get(deal=deal).lines.get()
    assert line.product is not None and line.product.sku == "FL-25" and line.description == "Forklift 2.5 t"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("line_quantity", ["abc", "1", "1"], "is not a number"),
    ("line_discount", ["150", "", ""], "must not exceed 100"),
])
def test_bad_line_input_is_shown_and_no_version_is_written(ana: Client, make_deal: Any, field: str, value: list[str], message: str) -> None:
    deal = make_deal()
    response = ana.post(reverse("deals-proposals", args=[deal.pk]), _post(deal, **{field: value}))
    html = response.content.decode()
    assert response.status_code == 422
    assert message in html and "Check the marked lines." in html
    assert 'value="Electric forklift"' in html and "Forty forklifts." in html  # what was typed stays
    assert not Proposal.objects.filter(deal=deal).exists()


def test_an_unknown_product_is_refused_on_its_line(ana: Client, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(reverse("deals-proposals", args=[deal.pk]), _post(deal, line_product=["NOPE", "", ""]))
    assert response.status_code == 422 and "NOPE" in response.content.decode()
    assert not Proposal.objects.exists()


def test_a_rep_of_another_team_gets_404(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.create_proposal(user=users["rep_ana"], deal=deal, data={})
    bo = _client(users, "rep_bo_other_team")
    assert bo.get(reverse("deals-proposals", args=[deal.pk])).status_code == 404
    assert bo.get(reverse("deals-proposal-pdf", args=[deal.pk, 1])).status_code == 404
    assert bo.post(reverse("deals-proposals", args=[deal.pk]), _post(deal)).status_code == 404
    assert Proposal.objects.count() == 1


def test_an_analyst_reads_but_may_not_save(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    services.create_proposal(user=users["rep_ana"], deal=deal, data={})
    al = _client(users, "analyst_al")
    page = al.get(reverse("deals-proposals", args=[deal.pk]))
    assert page.status_code == 200 and 'id="new-version"' not in page.content.decode()
    assert al.post(reverse("deals-proposals", args=[deal.pk]), _post(deal)).status_code == 403
    assert Proposal.objects.count() == 1


def test_the_pdf_downloads_with_a_sensible_name(users: Any, ana: Client, make_deal: Any) -> None:
    deal = make_deal()
    services.create_proposal(user=users["rep_ana"], deal=deal, data={})
    response = ana.get(reverse("deals-proposal-pdf", args=[deal.pk, 1]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="proposal-distribuidora-norte-sa-{deal.pk}-v1.pdf"' in response["Content-Disposition"]
    assert ana.get(reverse("deals-proposal-pdf", args=[deal.pk, 9])).status_code == 404


def test_add_a_line_answers_an_empty_row(ana: Client, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.get(reverse("deals-proposal-line", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'name="line_quantity"' in response.content.decode()


def test_the_page_keeps_its_query_count(users: Any, ana: Client, make_deal: Any, django_assert_max_num_queries: Any) -> None:
    deal = make_deal()
    lines = [{"group": f"G{i % 3}", "description": f"Line {i}", "quantity": "1", "unit_price": "10"} for i in range(30)]
    for _i in range(5):
        services.create_proposal(user=users["rep_ana"], deal=deal, data={"lines": lines})
    with django_assert_max_num_queries(9):
        assert ana.get(reverse("deals-proposals", args=[deal.pk])).status_code == 200
