"""The proposal as a PDF: it opens, names the customer, adds up each group and prints Chinese."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from rapport.deals import documents, services

pytestmark = pytest.mark.django_db

LINES = [
    {"group": "Hardware", "description": "Electric forklift 2.5 t", "quantity": "4", "unit_price": "28500", "discount": "5"},
    {"group": "Hardware", "description": "Spare battery pack", "quantity": "4", "unit_price": "3200"},
    {"group": "Installation", "description": "Charging stations, installed", "quantity": "2", "unit_price": "4100.50"},
]


def _text(pdf: bytes, tmp_path: Any) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "proposal.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page ") or pdf.count(b"/Type /Page>>")


def test_the_proposal_prints_with_the_customer_and_a_subtotal_per_group(users: Any, make_deal: Any, tmp_path: Any) -> None:
    deal = make_deal()
    proposal = services.create_proposal(user=users["rep_ana"], deal=deal, data={
        "language": "en", "title": "Fleet renewal", "background": "Forty forklifts in three warehouses.", "lines": LINES})
    pdf = documents.proposal_pdf(proposal)
    assert pdf.startswith(b"%PDF") and _pages(pdf) > 0
    text = _text(pdf, tmp_path)
    assert "Distribuidora Norte S.A." in text and "Fleet renewal" in text
    assert "Subtotal Hardware" in text and "€121,100.00" in text  # 4 × 28,500 − 5 % + 4 × 3,200
    assert "Subtotal Installation" in text and "€8,201.00" in text
    assert "€129,301.00" in text
    assert "Page 2 of 2" in text


def test_amounts_and_headings_follow_the_proposal_language(users: Any, make_deal: Any, tmp_path: Any) -> None:
    proposal = services.create_proposal(user=users["rep_ana"], deal=make_deal(), data={"language": "es", "lines": LINES})
    text = _text(documents.proposal_pdf(proposal), tmp_path)
    assert "129.301,00 €" in text and "129,301.00" not in text


def test_long_texts_flow_over_several_pages(users: Any, make_deal: Any, tmp_path: Any) -> None:
    long = "\n\n".join(["The warehouses run three shifts and the batteries do not last. " * 10] * 30)
    proposal = services.create_proposal(user=users["rep_ana"], deal=make_deal(), data={"background": long, "problems": "- one\n- two"})
    text = _text(documents.proposal_pdf(proposal), tmp_path)
    assert "Page 4 of" in text and "• one" in text


def test_a_chinese_proposal_prints_with_the_built_in_cjk_font(users: Any, make_org: Any, make_deal: Any, tmp_path: Any) -> None:
    org = make_org(name="上海五金有限公司")
    deal = make_deal(card=org, currency="CNY")
    proposal = services.create_proposal(user=users["rep_ana"], deal=deal, data={
        "language": "zh-hans", "title": "仓库叉车更新方案", "background": "上海五金有限公司在三个仓库运营四十台叉车。" * 20,
        "lines": [{"group": "硬件", "description": "电动叉车 2.5 吨", "quantity": "4", "unit_price": "198000"}]})
    pdf = documents.proposal_pdf(proposal)
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf and b"DejaVuSans" in pdf
    text = _text(pdf, tmp_path)
    assert "上海五金有限公司" in text and "¥792,000.00" in text


def test_a_latin_proposal_needs_no_cjk_font(users: Any, make_deal: Any) -> None:
    proposal = services.create_proposal(user=users["rep_ana"], deal=make_deal(), data={"language": "ro", "background": "Șase stivuitoare."})
    assert b"STSong-Light" not in documents.proposal_pdf(proposal)


def test_the_file_name_names_customer_deal_and_version(users: Any, make_deal: Any) -> None:
    deal = make_deal()
    proposal = services.create_proposal(user=users["rep_ana"], deal=deal, data={})
    assert documents.proposal_filename(proposal) == f"proposal-distribuidora-norte-sa-{deal.pk}-v1.pdf"


def test_lines_are_grouped_in_the_order_groups_first_appear() -> None:
    from decimal import Decimal
    from types import SimpleNamespace

    lines: Any = [SimpleNamespace(group=g, amount=Decimal(a)) for g, a in (("B", "1"), ("A", "2"), ("B", "3"))]
    groups = documents.quotation_groups(lines)
    assert [(g.name, g.subtotal) for g in groups] == [("B", Decimal("4")), ("A", Decimal("2"))]
