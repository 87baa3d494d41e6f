"""Writing cards as CSV, XLSX and vCard 4.0, one card at a time (memory stays flat).

Spreadsheet cells are neutralised: text a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe, the OWASP
rule for CSV injection. Phone numbers in international form ("+34600123456", several joined
by "; ") are the one exception: they hold nothing a spreadsheet could run, and the apostrophe
would stop Google Contacts and Outlook from reading them back as numbers. vCard is not opened
by spreadsheets and is written as is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import IO, Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# E.164 numbers as the exports write them: "+" and digits only, several joined by "; ".
_PHONES = re.compile(r"^\+\d{4,15}(?:; ?\+\d{4,15})*$")


def safe_cell(value: Any) -> Any:
    """A value safe for a spreadsheet cell: formula-like text is prefixed with an apostrophe,
    except international phone numbers (digits after a "+", nothing to run)."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _PHONES.match(value):
        return "'" + value
    return value


class CsvWriter:
    def __init__(self, stream: IO[bytes]) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", write_through=True)
        self.writer = csv.writer(self.text)

    def header(self, columns: list[str]) -> None:
        self.writer.writerow([safe_cell(c) for c in columns])

    def row(self, values: list[Any]) -> None:
        self.writer.writerow(["" if v is None else safe_cell(v) for v in values])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class XlsxWriter:
    """openpyxl's write-only workbook: rows are streamed to a temporary file, not kept."""

    def __init__(self, stream: IO[bytes], title: str) -> None:
        from openpyxl import Workbook

        self.stream = stream
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=title[:31])

    def header(self, columns: list[str]) -> None:
        self.sheet.append([safe_cell(c) for c in columns])

    def row(self, values: list[Any]) -> None:
        # Every value is written as text or a number; neutralised text can never become a formula.
        self.sheet.append([_xlsx_value(v) for v in values])

    def close(self) -> None:
        self.book.save(self.stream)


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = safe_cell(str(value))
    # openpyxl refuses control characters that XML 1.0 cannot carry; drop them rather than fail.
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n\r")


# --- vCard 4.0 ------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 6350 line folding: at most 75 octets per line, continuation lines start with a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line + "\r\n"
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


_TEL_TYPES = {"mobile": "cell", "work": "work", "home": "home", "fax": "fax", "other": "voice"}
_EMAIL_TYPES = {"work": "work", "personal": "home"}
_ADR_TYPES = {"home": "home", "office": "work", "billing": "work", "shipping": "work", "warehouse": "work", "shop": "work"}


class VcardWriter:
    def __init__(self, stream: IO[bytes]) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)

    def card(self, *, kind: str, uid: str, full_name: str, given: str, family: str, organization: str, title: str,
             phones: Iterable[tuple[str, str]], emails: Iterable[tuple[str, str]], addresses: Iterable[dict[str, str]],
             website: str, birthday: str, nickname: str, note: str) -> None:
        lines = ["BEGIN:VCARD", "VERSION:4.0", f"KIND:{'org' if kind == 'organization' else 'individual'}"]
        lines.append(f"FN:{_escape(full_name)}")
        if kind == "person":
            lines.append(f"N:{_escape(family)};{_escape(given)};;;")
        if organization:
            lines.append(f"ORG:{_escape(organization)}")
        if title:
            lines.append(f"TITLE:{_escape(title)}")
        if nickname:
            lines.append(f"NICKNAME:{_escape(nickname)}")
        if birthday:
            lines.append(f"BDAY:{birthday.replace('-', '')}")
        for number, phone_kind in phones:
            lines.append(f"TEL;VALUE=uri;TYPE={_TEL_TYPES.get(phone_kind, 'voice')}:tel:{number}")
        for address, email_kind in emails:
            type_param = f";TYPE={_EMAIL_TYPES[email_kind]}" if email_kind in _EMAIL_TYPES else ""
            lines.append(f"EMAIL{type_param}:{_escape(address)}")
        for a in addresses:
            parts = ";".join(_escape(a.get(p) or "") for p in ("street", "city", "region", "postal_code", "country"))
            type_param = f";TYPE={_ADR_TYPES[a['kind']]}" if a.get("kind") in _ADR_TYPES else ""
            lines.append(f"ADR{type_param}:;;{parts}")
        if website:
            lines.append(f"URL:{website}")
        if note:
            lines.append(f"NOTE:{_escape(note)}")
        lines.append(f"UID:{_escape(uid)}")
        lines.append("END:VCARD")
        self.text.write("".join(_fold(line) for line in lines))

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
