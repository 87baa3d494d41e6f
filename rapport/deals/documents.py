"""The proposal as a printable document: a PDF in the proposal's own language.

A title page (our company, the customer, the title, date, version and the quotation's total),
then the sections the customer reads in order — background, problems and challenges, the
solution (overview, products, implementation plan, service), the quotation grouped with a
subtotal per group and the grand total, and our credentials. Empty sections are left out.

Fonts follow the commerce documents (``rapport.commerce.documents``): DejaVu Sans for every
Latin letter and currency sign, reportlab's built-in CID font STSong-Light for Chinese. Here a
paragraph that mixes both switches font per run, so "Proyecto 上海 – 1.234,50 €" prints whole.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapport.commerce.documents import CJK_FONT, FONTS, LATIN_BOLD, LATIN_FONT, has_cjk
from rapport.commerce.money import babel_locale, format_money

if TYPE_CHECKING:
    from rapport.deals.models import Proposal, QuoteLine

ACCENT = "#1f4e8c"
MUTED = "#5b6573"
RULE = "#c9d1dc"
# Runs of Chinese characters (and their punctuation) inside a paragraph, printed in the CID font.
_CJK_RUN = re.compile("([\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+)")
_BULLET = re.compile(r"^\s*([-*•·]|\d+[.)])\s+")


# --- the quotation, grouped ----------------------------------------------------------------------------


@dataclass
class QuoteGroup:
    """The lines of one group of the quotation, in their order, and their subtotal."""

    name: str
    lines: list[QuoteLine] = field(default_factory=list)
    subtotal: Decimal = Decimal("0")


def quotation_groups(lines: Iterable[QuoteLine]) -> list[QuoteGroup]:
    """Lines grouped by ``group`` in the order each group first appears (the proposal's order)."""
    groups: dict[str, QuoteGroup] = {}
    for line in lines:
        group = groups.setdefault(line.group, QuoteGroup(line.group))
        group.lines.append(line)
        group.subtotal += line.amount
    return list(groups.values())


def format_number(value: Decimal, language: str) -> str:
    """A quantity or percentage as the reader writes numbers, without trailing zeros."""
    from babel.numbers import format_decimal

    return format_decimal(value.normalize(), format="#,##0.###", locale=babel_locale(language))


# --- fonts and text ---------------------------------------------------------------------------------------


def _register_fonts(cjk: bool) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    for name in (LATIN_FONT, LATIN_BOLD):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONTS / f"{name}.ttf")))
    if cjk and CJK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def markup(text: str) -> str:
    """Escaped paragraph markup with every run of Chinese characters in the CID font."""
    parts = _CJK_RUN.split(text)
    return "".join(f'<font face="{CJK_FONT}">{escape(p)}</font>' if i % 2 else escape(p) for i, p in enumerate(parts))


def _blocks(text: str) -> list[tuple[str, str]]:
    """A long text as (marker, text) blocks: blank lines part paragraphs (marker ""), a chunk
    whose lines all start with "-", "*" or "1." is a list (marker "•" or "1."), other line
    breaks stay as they were typed."""
    blocks: list[tuple[str, str]] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        matches = [_BULLET.match(ln) for ln in lines]
        if lines and all(matches):
            for ln, m in zip(lines, matches):
                marker = m.group(1) if m and m.group(1)[0].isdigit() else "•"
                blocks.append((marker, ln[m.end():].strip() if m else ln))
        else:
            blocks.append(("", chunk.strip()))
    return [b for b in blocks if b[1]]


class _Document:
    """Styles and flowables of one proposal; knows which font and wrapping each text needs."""

    def __init__(self, language: str, cjk: bool) -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle

        _register_fonts(cjk)
        self.language = language
        self.cjk = cjk
        # Chinese has no spaces to break lines at: reportlab must wrap between characters.
        wrap = {"wordWrap": "CJK"} if cjk else {}
        self.body = ParagraphStyle("body", fontName=LATIN_FONT, fontSize=10, leading=14.5, spaceAfter=6, **wrap)
        self.item = ParagraphStyle("item", parent=self.body, leftIndent=16, bulletIndent=3, spaceAfter=3, bulletFontName=LATIN_FONT)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8.5, leading=11, spaceAfter=0)
        self.muted = ParagraphStyle("muted", parent=self.small, textColor=colors.HexColor(MUTED))
        self.cell = ParagraphStyle("cell", parent=self.small, fontSize=9, leading=11.5)
        self.cell_right = ParagraphStyle("cell-right", parent=self.cell, alignment=2)
        self.cell_bold = ParagraphStyle("cell-bold", parent=self.cell, fontName=LATIN_BOLD)
        self.cell_bold_right = ParagraphStyle("cell-bold-right", parent=self.cell_bold, alignment=2)
        self.head_cell = ParagraphStyle("head-cell", parent=self.cell_bold, textColor=colors.white)
        self.head_cell_right = ParagraphStyle("head-cell-right", parent=self.head_cell, alignment=2)
        self.h1 = ParagraphStyle("h1", fontName=LATIN_BOLD, fontSize=15, leading=19, textColor=colors.HexColor(ACCENT),
                                 spaceBefore=14, spaceAfter=8, keepWithNext=True, **wrap)
        self.h2 = ParagraphStyle("h2", fontName=LATIN_BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4,
                                 keepWithNext=True, **wrap)
        self.eyebrow = ParagraphStyle("eyebrow", fontName=LATIN_BOLD, fontSize=11, leading=14,
                                      textColor=colors.HexColor(ACCENT), **wrap)
        self.cover_title = ParagraphStyle("cover-title", fontName=LATIN_BOLD, fontSize=26, leading=32, spaceBefore=6,
                                          spaceAfter=14, **wrap)
        self.cover_line = ParagraphStyle("cover-line", parent=self.body, fontSize=12, leading=17, spaceAfter=2)
        self.story: list[Any] = []

    def p(self, text: Any, style: Any = None) -> Any:
        from reportlab.platypus import Paragraph

        value = "" if text is None else str(text)
        return Paragraph(markup(value).replace("\n", "<br/>"), style or self.body)

    def add(self, *flowables: Any) -> None:
        self.story.extend(flowables)

    def text(self, text: str) -> None:
        """A long text: paragraphs and bullet lists that flow over as many pages as they need."""
        for marker, block in _blocks(text):
            if marker:
                item = self.p(block, self.item)
                item.bulletText = marker
                self.add(item)
            else:
                self.add(self.p(block))


# --- the document -------------------------------------------------------------------------------------------


def _company() -> str:
    return str(getattr(settings, "RAPPORT_COMPANY_NAME", "") or "")


def _long_date(proposal: Proposal, language: str) -> str:
    from babel.dates import format_date

    return format_date(timezone.localtime(proposal.created_at).date(), format="long", locale=babel_locale(language))


def _proposal_text(proposal: Proposal, lines: list[QuoteLine]) -> str:
    names = [proposal.title, proposal.deal.card.display_name, proposal.deal.card.local_name or "", _company()]
    texts = [getattr(proposal, n) for n in ("background", "problems", "solution_overview", "solution_products",
                                             "implementation_plan", "service", "credentials")]
    return " ".join([*names, *texts, *(f"{ln.group} {ln.description}" for ln in lines)])


def _cover(doc: _Document, proposal: Proposal, total: str) -> None:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import HRFlowable, PageBreak, Spacer, Table, TableStyle

    card = proposal.deal.card
    company = _company()
    doc.add(Spacer(1, 38 * mm))
    if company:
        doc.add(doc.p(company, doc.eyebrow))
    doc.add(Spacer(1, 4 * mm), HRFlowable(width="100%", thickness=2, color=colors.HexColor(ACCENT), spaceAfter=10))
    doc.add(doc.p(_("Proposal"), doc.muted), doc.p(proposal.title or proposal.deal.name, doc.cover_title))
    customer = card.display_name
    if card.local_name and card.local_name != card.display_name:
        customer = f"{customer} ({card.local_name})"
    rows = [
        (_("Prepared for"), customer),
        (_("Prepared by"), company),
        (_("Date"), _long_date(proposal, doc.language)),
        (_("Version"), str(proposal.version)),
        (_("Total"), total),
    ]
    label_style, value_style = doc.muted, doc.cover_line
    table = Table([[doc.p(label, label_style), doc.p(value, value_style)] for label, value in rows if value],
                  colWidths=[38 * mm, None], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "BASELINE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    doc.add(Spacer(1, 10 * mm), table, PageBreak())


def _quotation(doc: _Document, proposal: Proposal, lines: list[QuoteLine]) -> None:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    lang, cur = doc.language, proposal.currency
    money = lambda amount: format_money(amount, cur, lang)  # noqa: E731
    groups = quotation_groups(lines)
    named = any(g.name for g in groups)
    head = [doc.p(_("Description"), doc.head_cell), doc.p(_("Quantity"), doc.head_cell_right),
            doc.p(_("Unit price"), doc.head_cell_right), doc.p(_("Discount"), doc.head_cell_right),
            doc.p(_("Amount"), doc.head_cell_right)]
    rows: list[list[Any]] = [head]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(ACCENT)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for group in groups:
        if named:
            rows.append([doc.p(group.name or _("Other"), doc.cell_bold), "", "", "", ""])
            style += [("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)),
                      ("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), colors.HexColor("#eef2f7"))]
        for line in group.lines:
            description = [doc.p(line.description, doc.cell)]
            if line.product is not None and line.product.sku not in line.description:
                description.append(doc.p(line.product.sku, doc.muted))
            discount = f"{format_number(line.discount, lang)} %" if line.discount else ""
            rows.append([description, doc.p(format_number(line.quantity, lang), doc.cell_right),
                         doc.p(money(line.unit_price), doc.cell_right), doc.p(discount, doc.cell_right),
                         doc.p(money(line.amount), doc.cell_right)])
            style.append(("LINEBELOW", (0, len(rows) - 1), (-1, len(rows) - 1), 0.25, colors.HexColor(RULE)))
        if named:
            label = _("Subtotal %(group)s") % {"group": group.name or _("Other")}
            rows.append([doc.p(label, doc.cell_bold), "", "", "", doc.p(money(group.subtotal), doc.cell_bold_right)])
            style += [("SPAN", (0, len(rows) - 1), (3, len(rows) - 1)),
                      ("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 0.5, colors.HexColor(MUTED))]
    total = sum((g.subtotal for g in groups), Decimal("0"))
    rows.append([doc.p(_("Total"), doc.cell_bold), "", "", "", doc.p(money(total), doc.cell_bold_right)])
    style += [("SPAN", (0, len(rows) - 1), (3, len(rows) - 1)),
              ("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 1.2, colors.HexColor(ACCENT)),
              ("TOPPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 6)]
    table = Table(rows, colWidths=[None, 23 * mm, 30 * mm, 23 * mm, 32 * mm], repeatRows=1)
    table.setStyle(TableStyle(style))
    doc.add(table)
    doc.add(doc.p(_("Amounts in %(currency)s.") % {"currency": cur}, doc.muted))


def _footer(doc: _Document, title: str) -> Any:
    """Draws the running footer: our company and the proposal on the left, "page n of m" right."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph

    left_text = " | ".join(t for t in (_company(), title) if t)
    # Translated now, while the proposal's language is active: the canvas draws after build().
    page_of = _("Page %(page)s of %(total)s")

    class NumberedCanvas(Canvas):
        """Keeps every page until the end so each footer can say how many pages there are."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                if self._pageNumber > 1:  # the title page carries no footer
                    self._draw_footer(total)
                super().showPage()
            super().save()

        def _draw_footer(self, total: int) -> None:
            width, _height = self._pagesize
            self.saveState()
            self.setStrokeColor(colors.HexColor(RULE))
            self.setLineWidth(0.5)
            self.line(18 * mm, 14 * mm, width - 18 * mm, 14 * mm)
            number = page_of % {"page": self._pageNumber, "total": total}
            right = Paragraph(markup(number), doc.muted)
            rw, _rh = right.wrap(45 * mm, 10 * mm)
            right.drawOn(self, width - 18 * mm - min(rw, right.minWidth() + 1), 9 * mm)
            left = Paragraph(markup(left_text), doc.muted)
            left.wrap(width - 36 * mm - 50 * mm, 10 * mm)
            left.drawOn(self, 18 * mm, 9 * mm)
            self.restoreState()

    return NumberedCanvas


def proposal_pdf(proposal: Proposal) -> bytes:
    """One version of the proposal as a PDF, written in the proposal's language."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    language = proposal.language or "en"
    lines = list(proposal.lines.select_related("product").order_by("position", "id"))
    with translation.override(language):
        doc = _Document(language, cjk=language.lower().startswith("zh") or has_cjk(_proposal_text(proposal, lines)))
        total = sum((ln.amount for ln in lines), Decimal("0"))
        _cover(doc, proposal, format_money(total, proposal.currency, language) if lines else "")
        number = 0

        def section(title: str) -> None:
            nonlocal number
            number += 1
            doc.add(doc.p(f"{number}  {title}", doc.h1))

        if proposal.background.strip():
            section(_("Background"))
            doc.text(proposal.background)
        if proposal.problems.strip():
            section(_("Problems and challenges"))
            doc.text(proposal.problems)
        parts = [(_("Overview"), proposal.solution_overview), (_("Products"), proposal.solution_products),
                 (_("Implementation plan"), proposal.implementation_plan), (_("Service"), proposal.service)]
        if any(text.strip() for _label, text in parts):
            section(_("Solution"))
            for label, text in parts:
                if text.strip():
                    doc.add(doc.p(label, doc.h2))
                    doc.text(text)
        if lines:
            section(_("Quotation"))
            _quotation(doc, proposal, lines)
        if proposal.credentials.strip():
            section(_("Credentials"))
            doc.text(proposal.credentials)
        title = proposal.title or proposal.deal.name
        footer_title = _("%(title)s, version %(version)s") % {"title": title, "version": proposal.version}
        buffer = io.BytesIO()
        pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                                bottomMargin=22 * mm, title=title, author=_company(),
                                subject=proposal.deal.card.display_name, lang=language)
        pdf.build(doc.story, canvasmaker=_footer(doc, footer_title))
        return buffer.getvalue()


def proposal_filename(proposal: Proposal) -> str:
    """An ASCII file name people can tell apart: the customer, the deal and the version."""
    from django.utils.text import slugify

    name = slugify(proposal.deal.card.display_name)[:40].strip("-")
    return f"proposal-{name + '-' if name else ''}{proposal.deal_id}-v{proposal.version}.pdf"
