"""Printable documents of the commercial record: the account statement as PDF and XLSX, and the
written confirmation of balances sent for an account check.

PDFs use DejaVu Sans (shipped in ``data/fonts``: every Latin letter of the four languages and
the currency signs Babel writes) and, for Chinese, reportlab's built-in CID font STSong-Light. Spreadsheet text is neutralised like every other
export (``rapport.imports.writers.safe_cell``): nothing a customer typed can become a formula.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from rapport.commerce.models import InvoiceKind, PaymentKind
from rapport.commerce.money import format_money, quantum
from rapport.imports.writers import safe_cell

if TYPE_CHECKING:
    from rapport.cards.models import Card
    from rapport.commerce.models import AccountCheck
    from rapport.commerce.selectors import Statement

CJK_FONT = "STSong-Light"
# DejaVu Sans, shipped in data/fonts (Bitstream Vera licence): reportlab's standard Helvetica has
# no ș or ț, so Romanian names and text would print with holes.
LATIN_FONT = "DejaVuSans"
LATIN_BOLD = "DejaVuSans-Bold"
FONTS = Path(__file__).resolve().parent / "data" / "fonts"
_CJK = re.compile("[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Marked for extraction here, translated when a document is written in the reader's language.
AGING = (("current", gettext_noop("Not yet due")), ("1_30", gettext_noop("1–30 days")), ("31_60", gettext_noop("31–60 days")),
         ("61_90", gettext_noop("61–90 days")), ("over_90", gettext_noop("Over 90 days")))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _register_latin() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    for name in (LATIN_FONT, LATIN_BOLD):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONTS / f"{name}.ttf")))


def _register_cjk() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _kind_label(kind: str) -> str:
    labels = {**dict(InvoiceKind.choices), **dict(PaymentKind.choices)}
    return str(labels.get(kind, kind))


def _number(number: str) -> str:
    # "#123" is a row id the selector falls back on; a customer knows the document by kind and date.
    return "" if number.startswith("#") else number


class _Pdf:
    """A small builder over reportlab's platypus that picks the font of each piece of text."""

    def __init__(self, language: str) -> None:
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        _register_latin()
        if language.lower().startswith("zh"):
            _register_cjk()
        sheet = getSampleStyleSheet()
        self.body = ParagraphStyle("body", parent=sheet["Normal"], fontName=LATIN_FONT, fontSize=9, leading=12)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10)
        self.right = ParagraphStyle("right", parent=self.small, alignment=2)
        self.title = ParagraphStyle("title", parent=sheet["Title"], fontName=LATIN_BOLD, fontSize=16, leading=20, alignment=0)
        self.h2 = ParagraphStyle("h2", parent=sheet["Heading2"], fontName=LATIN_BOLD, fontSize=11, leading=14)
        self.story: list[Any] = []

    def font(self, text: str, bold: bool = False) -> str:
        # Amounts and Latin text stay in DejaVu Sans even in a Chinese document: it has every
        # currency sign Babel writes, which the CID font may lack.
        if has_cjk(text):
            return CJK_FONT  # one weight only: headings stay distinct by size
        return LATIN_BOLD if bold else LATIN_FONT

    def p(self, text: Any, style: Any = None, bold: bool = False) -> Any:
        """A paragraph in the font its text needs, registering the CID font on first use."""
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph
        from xml.sax.saxutils import escape

        value = "" if text is None else str(text)
        if has_cjk(value):
            _register_cjk()
        base = style or self.body
        styled = ParagraphStyle(f"{base.name}-f", parent=base, fontName=self.font(value, bold or base.fontName == LATIN_BOLD))
        return Paragraph(escape(value).replace("\n", "<br/>"), styled)

    def add(self, *flowables: Any) -> None:
        self.story.extend(flowables)

    def table(self, rows: list[list[Any]], widths: list[float], *, header: bool = True, numeric_from: int = 99) -> Any:
        from reportlab.lib import colors
        from reportlab.platypus import Table, TableStyle

        cells = [
            [self.p(v, self.right if j >= numeric_from else self.small, bold=header and i == 0) for j, v in enumerate(row)]
            for i, row in enumerate(rows)
        ]
        table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
        table.setStyle(TableStyle(style))
        return table

    def build(self, title: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                                bottomMargin=15 * mm, title=title, author=str(getattr(settings, "RAPPORT_COMPANY_NAME", "Rapport")))
        doc.build(self.story)
        return buffer.getvalue()


def statement_pdf(statement: Statement, language: str) -> bytes:
    """The account statement as a PDF: head, summary, every line with its running balance, aging."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    with translation.override(language):
        pdf = _Pdf(language)
        cur = statement.currency
        m = lambda amount: format_money(amount, cur, language) if cur else ""  # noqa: E731
        card = statement.card
        pdf.add(pdf.p(_("Account statement"), pdf.title), pdf.p(card.display_name, pdf.h2))
        if card.local_name and card.local_name != card.display_name:
            pdf.add(pdf.p(card.local_name))
        period = (_("%(start)s to %(end)s") % {"start": statement.date_from.isoformat(), "end": statement.date_to.isoformat()}
                  if statement.date_from else _("Up to %(end)s") % {"end": statement.date_to.isoformat()})
        currency_label, period_label = _("Currency"), _("Period")
        # "|", not "·": the Chinese font has no middle dot.
        pdf.add(pdf.p(f"{currency_label}: {cur or '-'} | {period_label}: {period}"), Spacer(1, 4 * mm))
        pdf.add(pdf.table([
            [_("Opening balance"), _("Invoiced"), _("Paid or credited"), _("Balance"), _("Overdue")],
            [m(statement.opening_balance), m(statement.invoiced), m(statement.paid), m(statement.balance), m(statement.overdue)],
        ], [36 * mm] * 5, numeric_from=0), Spacer(1, 5 * mm))
        rows: list[list[Any]] = [[_("Date"), _("Document"), pgettext("document", "Number"), _("Due"), _("Debit"), _("Credit"), _("Balance")]]
        rows.append([statement.date_from.isoformat() if statement.date_from else "", _("Opening balance"), "", "", "", "",
                     m(statement.opening_balance)])
        for ln in statement.lines:
            rows.append([
                ln.date.isoformat(), _kind_label(ln.kind), _number(ln.number), ln.due_on.isoformat() if ln.due_on else "",
                m(ln.debit) if ln.debit else "", m(ln.credit) if ln.credit else "", m(ln.balance),
            ])
        pdf.add(pdf.table(rows, [23 * mm, 21 * mm, 30 * mm, 23 * mm, 27 * mm, 27 * mm, 29 * mm], numeric_from=4))
        pdf.add(Spacer(1, 5 * mm), pdf.p(_("Open invoices by age"), pdf.h2))
        pdf.add(pdf.table([[_(label) for _k, label in AGING], [m(statement.aging.get(k, Decimal(0))) for k, _l in AGING]],
                          [36 * mm] * 5, numeric_from=0))
        extras = [(_("Advances not yet used"), statement.advances), (_("Deposits held"), statement.deposits)]
        pdf.add(Spacer(1, 3 * mm), *[pdf.p(f"{label}: {m(value)}") for label, value in extras if value])
        if statement.last_check is not None:
            pdf.add(pdf.p(_("Last account check: %(date)s") % {"date": statement.last_check.as_of.isoformat()}, pdf.small))
        return pdf.build(_("Account statement"))


def account_check_pdf(check: AccountCheck, card: Card, language: str) -> bytes:
    """The written confirmation of balances the customer signs and returns (the seeds' account check)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    with translation.override(language):
        pdf = _Pdf(language)
        cur = check.currency
        company = str(getattr(settings, "RAPPORT_COMPANY_NAME", "Rapport"))
        pdf.add(pdf.p(_("Confirmation of balance"), pdf.title), pdf.p(card.display_name, pdf.h2))
        pdf.add(pdf.p(_("From %(company)s, as of %(date)s, in %(currency)s.") % {
            "company": company, "date": check.as_of.isoformat(), "currency": cur}), Spacer(1, 4 * mm))
        pdf.add(pdf.table([
            [_("What you owe us"), format_money(check.outstanding, cur, language)],
            [_("Advances you paid, not yet used"), format_money(check.advances, cur, language)],
            [_("Deposits we hold"), format_money(check.deposits, cur, language)],
        ], [90 * mm, 50 * mm], header=False, numeric_from=1), Spacer(1, 6 * mm))
        pdf.add(pdf.p(_("Please check these figures against your books and return this letter signed. If your figures "
                        "differ, write your balance below and tell us which documents explain the difference.")))
        pdf.add(Spacer(1, 8 * mm), pdf.p(_("Balance in your books: ______________________")))
        pdf.add(Spacer(1, 8 * mm), pdf.p(_("Name, signature and date: ______________________________________")))
        if check.confirmed:
            pdf.add(Spacer(1, 8 * mm), pdf.p(_("Confirmed by %(name)s.") % {"name": check.confirmed_by}, pdf.small))
        if check.difference:
            pdf.add(pdf.p(_("Difference claimed by the customer: %(amount)s") % {
                "amount": format_money(check.difference, cur, language)}, pdf.small))
        pdf.add(Spacer(1, 8 * mm), pdf.p(company))
        return pdf.build(_("Confirmation of balance"))


# --- XLSX ----------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Numbers and dates as they are; text neutralised and stripped of what XML 1.0 cannot carry."""
    if value is None or isinstance(value, (int, Decimal)) or hasattr(value, "isoformat"):
        return value
    text = safe_cell(str(value))
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n\r")


def statement_xlsx(statement: Statement, language: str) -> bytes:
    """The account statement as a workbook: a sheet of lines with numbers as numbers, and the aging."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    with translation.override(language):
        cur = statement.currency
        exponent = quantum(cur).as_tuple().exponent if cur else -2
        places = -exponent if isinstance(exponent, int) else 2
        number_format = "#,##0" + ("." + "0" * int(places) if places else "")
        book = Workbook()
        sheet = book.active
        sheet.title = str(_("Statement"))[:31]
        bold = Font(bold=True)
        head = [
            (_("Customer"), statement.card.display_name),
            (_("Currency"), cur),
            (_("From"), statement.date_from),
            (_("To"), statement.date_to),
            (_("Opening balance"), statement.opening_balance),
            (_("Balance"), statement.balance),
            (_("Overdue"), statement.overdue),
            (_("Advances not yet used"), statement.advances),
            (_("Deposits held"), statement.deposits),
        ]
        for label, value in head:
            sheet.append([_cell(label), _cell(value)])
        sheet.append([])
        columns = [_("Date"), _("Document"), pgettext("document", "Number"), _("Due"), _("Debit"), _("Credit"), _("Balance"), _("Open"),
                   _("Days overdue")]
        sheet.append([_cell(c) for c in columns])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        first = sheet.max_row + 1
        for ln in statement.lines:
            sheet.append([
                ln.date, _cell(_kind_label(ln.kind)), _cell(_number(ln.number)), ln.due_on, ln.debit or None, ln.credit or None,
                ln.balance, ln.open_amount, ln.overdue_days or None,
            ])
        for row in sheet.iter_rows(min_row=first, max_row=sheet.max_row):
            for cell in row[4:8]:
                cell.number_format = number_format
            for cell in (row[0], row[3]):
                cell.number_format = "yyyy-mm-dd"
        for row in sheet.iter_rows(min_row=3, max_row=9):
            row[1].number_format = number_format if row[1].row >= 5 else "yyyy-mm-dd"
        for letter, width in zip("ABCDEFGHI", (12, 16, 20, 12, 14, 14, 14, 14, 10)):
            sheet.column_dimensions[letter].width = width
        aging = book.create_sheet(str(_("Aging"))[:31])
        for key, label in AGING:
            aging.append([_cell(_(label)), statement.aging.get(key, Decimal(0))])
            aging.cell(row=aging.max_row, column=2).number_format = number_format
        aging.column_dimensions["A"].width = 18
        aging.column_dimensions["B"].width = 16
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
