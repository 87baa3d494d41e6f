"""Reading CSV, XLSX and vCard files as a stream of rows, whatever their encoding or delimiter.

Every reader yields ``(row_number, {column: text})`` lazily, so memory stays bounded by one
row (one card for vCard) however large the file. A file that cannot be read at all raises
``FileRejected`` with a message the user can act on, before any row is produced.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext_noop

from rapport.imports.models import Format
from rapport.imports.problems import Problem, as_problem, problem

SNIFF_BYTES = 256 * 1024  # enough to see the encoding, the delimiter and the header of any sane file
MAX_FIELD_CHARS = 100_000  # one CSV cell; the csv module's own limit, stated
MAX_COLUMNS = 500
MAX_CARD_BYTES = 2 * 1024 * 1024  # one vCard, photos included
# XLSX is a zip of XML: refuse archives that would inflate beyond reason (zip and XML bombs).
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_XLSX_MEMBERS = 10_000
# openpyxl holds every shared string in memory, even in read-only mode: their part is bounded
# both in expanded bytes and in count (a 7 MB workbook expanding to 950 MB of shared strings
# passed the ratio check above). Other parts are streamed, so they are bounded more loosely.
MAX_XLSX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
MAX_XLSX_SHARED_STRINGS = 1_000_000
MAX_XLSX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_XLSX_CELLS = 50_000_000  # rows × columns of the first sheet, as read

Row = dict[str, str]


class FileRejected(Exception):
    """The file as a whole cannot be imported (wrong format, binary junk, a zip bomb…).

    Raised with a ``Problem`` (shown in the reader's language) or an English sentence."""

    def __init__(self, message: Problem | str) -> None:
        self.problem = as_problem(message)
        super().__init__(self.problem.english())


@dataclass
class CellProblem:
    column: str
    reason: Problem | str
    value: str = ""


@dataclass
class SourceRow:
    """One row as read: its number in the file, its cells, and cells the reader refused."""

    number: int
    cells: Row
    problems: list[CellProblem] = field(default_factory=list)


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return Format.XLSX
    if suffix in (".vcf", ".vcard") or re.match(rb"(\xef\xbb\xbf)?\s*BEGIN:VCARD", head[:64], re.I):
        return Format.VCARD
    if suffix in (".xlsx", ".xlsm"):
        raise FileRejected(gettext_noop("The file has an .xlsx name but is not an Excel workbook."))
    return Format.CSV


# --- encodings ----------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: BOM, then UTF-8, then UTF-16 without
    BOM (every other byte NUL), then charset-normalizer's best guess among the encodings of
    our users' spreadsheets."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if not head:
        return "utf-8"
    if _looks_utf16(head):
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    if b"\x00" in head:
        raise FileRejected(gettext_noop("This is not a text file (it contains binary data)."))
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the sample
            return "utf-8"
    from charset_normalizer import from_bytes

    candidates = ["gb18030", "cp1252", "cp1250", "big5", "shift_jis", "cp1251", "iso8859_2", "iso8859_15"]
    best = from_bytes(head, cp_isolation=candidates).best()
    if best is None:
        raise FileRejected(gettext_noop("The text encoding of this file could not be recognised; save it as UTF-8 and try again."))
    name = str(best.encoding)
    if name in ("gb2312", "gbk"):
        return "gb18030"
    if name in _SINGLE_BYTE_LATIN:
        return _west_or_central(head, name)
    return name


_SINGLE_BYTE_LATIN = {"cp1250", "cp1252", "iso8859_2", "iso8859_15", "latin_1", "iso8859_1"}
# Bytes that are letters of Spanish, French or Portuguese in Windows-1252 (ñ, à, ò, ç, å…) but
# rare letters in Windows-1250 (ń, ŕ, ň, ć, ĺ), and the reverse: letters of Romanian or
# Polish in Windows-1250 (ă, ş, ţ, ą, ł, ś, ż…) that Windows-1252 shows as symbols or rare letters.
_WEST_MARKS = frozenset(b"\xf1\xd1\xe0\xc0\xf2\xd2\xe7\xc7\xe5\xc5")
_CENTRAL_MARKS = frozenset(b"\xb9\xa5\xb3\xa3\x9c\x8c\x9f\x8f\xbf\xaf\xe3\xc3\xba\xaa\xfe\xde\xf5\xd5\xfb\xdb\x8d\x9d\xbe\xbc")


def _west_or_central(head: bytes, guess: str) -> str:
    """Windows-1252 or Windows-1250? The two decode the same bytes into different plausible
    letters, and statistical detectors often tie; the letters that tell them apart decide."""
    west = sum(1 for b in head if b in _WEST_MARKS)
    central = sum(1 for b in head if b in _CENTRAL_MARKS)
    if west > central:
        return "cp1252"
    if central > west:
        return "cp1250"
    return "cp1250" if guess in ("cp1250", "iso8859_2") else "cp1252"


def _looks_utf16(head: bytes) -> bool:
    sample = head[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > 0.4 * len(even) or odd.count(0) > 0.4 * len(odd)


def _control_junk(text: str) -> bool:
    """Binary data decoded as text: many control characters other than tab and line breaks."""
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    return bad > max(3, len(text) // 100)


# --- CSV ----------------------------------------------------------------------------------------

# A byte that is not text in the file's encoding becomes this lone surrogate, which no decoder
# produces from valid text: the row that holds it is then known exactly (a strict decoder fails
# when it decodes the chunk ahead, rows before the bad one).
_BAD_BYTE = "\udc80"


def _mark_bad_bytes(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _BAD_BYTE, exc.end


codecs.register_error("rapport-mark-bad-bytes", _mark_bad_bytes)


class StructuralError(FileRejected):
    """The CSV stops being CSV (an unclosed quote swallowing the rest of the file, a cell past
    the size limit): the rows after it cannot be trusted, so reading stops there."""


@dataclass
class CsvDialect:
    encoding: str
    delimiter: str


def sniff_csv(head: bytes) -> CsvDialect:
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="ignore")
    if _control_junk(text[:20_000]):
        raise FileRejected(gettext_noop("This is not a text file (it contains binary data)."))
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        raise FileRejected(problem("file.empty"))
    return CsvDialect(encoding=encoding, delimiter=_delimiter(lines))


def _delimiter(lines: list[str]) -> str:
    """The candidate that splits the header into the most columns and the rows consistently."""
    best, best_score = ",", -1.0
    sample = "\n".join(lines[:20])
    for candidate in (",", ";", "\t", "|"):
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=candidate)]
        except csv.Error:  # a cell beyond the field limit: the rows will report it one by one
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = counts[0] * consistent
        if score > best_score:
            best, best_score = candidate, score
    return best


def _headers(raw: list[str]) -> list[str]:
    """Header names, stripped, each unique (a repeated or empty header gets a number)."""
    seen: dict[str, int] = {}
    result = []
    for i, name in enumerate(raw):
        name = (name or "").strip().lstrip("\ufeff") or f"column {i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        result.append(name[:255])
    return result


def read_csv(stream: IO[bytes], dialect: CsvDialect, *, keep_going: bool = False) -> tuple[list[str], Iterator[SourceRow]]:
    """The header and the rows of a CSV file.

    A line that is not CSV (an unclosed quote, a cell past ``MAX_FIELD_CHARS``) stops the
    reading with ``StructuralError`` naming the line where its row began: what follows would be
    read from inside the broken cell, as junk rows. With ``keep_going`` it is reported as a row
    that was not imported and reading goes on after it.
    """
    text = io.TextIOWrapper(stream, encoding=dialect.encoding, errors="rapport-mark-bad-bytes", newline="")
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(text, delimiter=dialect.delimiter)
    try:
        header_row = next(reader)
    except StopIteration:
        raise FileRejected(problem("file.empty")) from None
    except csv.Error as exc:
        raise FileRejected(gettext_noop("The header line cannot be read: %(detail)s") % {"detail": exc}) from None
    if any(_BAD_BYTE in name for name in header_row):
        raise FileRejected(gettext_noop("The header line is not valid %(encoding)s text. Save the file as UTF-8 and import it again.")
                           % {"encoding": dialect.encoding})
    if len(header_row) > MAX_COLUMNS:
        raise FileRejected(gettext_noop("The file has %(columns)s columns; at most %(limit)s are supported.")
                           % {"columns": len(header_row), "limit": MAX_COLUMNS})
    headers = _headers(header_row)

    def rows() -> Iterator[SourceRow]:
        number = 0
        while True:
            line = reader.line_num + 1  # the line where this row begins (a quoted cell may span lines)
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                if not keep_going:
                    raise StructuralError(problem("csv.structural", line=line, row=number, detail=exc)) from None
                yield SourceRow(number, {}, [CellProblem("", problem("csv.unreadable_line", line=line, detail=exc))])
                continue
            number += 1  # blank lines count, so row N is line N + 1 of the spreadsheet
            if any(_BAD_BYTE in value for value in values):
                raise FileRejected(problem("csv.bad_text", row=number, line=line, encoding=dialect.encoding))
            if not any(v.strip() for v in values):
                continue
            problems = []
            if len(values) > len(headers):
                extra = [v for v in values[len(headers):] if v.strip()]
                if extra:
                    problems.append(CellProblem("", problem("csv.too_many_cells", cells=len(values), header=len(headers)), extra[0]))
            yield SourceRow(number, {h: v for h, v in zip(headers, values)}, problems)

    return headers, rows()


# --- XLSX ---------------------------------------------------------------------------------------


def check_xlsx(path: Path) -> None:
    """Refuses zip bombs before openpyxl inflates anything (its XML goes through defusedxml)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise FileRejected(gettext_noop("The file is not a readable Excel workbook (a damaged zip archive).")) from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise FileRejected(gettext_noop("The workbook has too many parts to be a spreadsheet."))
    total = 0
    for member in members:
        total += member.file_size
        if member.compress_size and member.file_size / member.compress_size > MAX_XLSX_RATIO and member.file_size > 10_000_000:
            raise FileRejected(gettext_noop("The workbook part %(part)s inflates %(ratio)s-fold: refused as a zip bomb.")
                               % {"part": member.filename, "ratio": member.file_size // member.compress_size})
        if member.file_size > MAX_XLSX_MEMBER_BYTES:
            raise FileRejected(gettext_noop("The workbook part %(part)s would inflate to %(size)s: refused.")
                               % {"part": member.filename, "size": _mb(member.file_size)})
    if total > MAX_XLSX_UNCOMPRESSED:
        raise FileRejected(gettext_noop("The workbook would inflate beyond 1 GB: refused."))
    shared = next((m for m in members if m.filename.lower().endswith("sharedstrings.xml")), None)
    if shared is not None:
        _check_shared_strings(path, shared)


def _mb(size: int) -> str:
    return f"{max(1, size // (1024 * 1024))} MB"


_SHARED_STRING_TAGS = (b"<si>", b"<si ", b":si>", b":si ")


def _check_shared_strings(path: Path, member: zipfile.ZipInfo) -> None:
    """Counts the shared strings by streaming their part (a zip header can lie about sizes),
    before openpyxl would load every one of them into memory."""
    too_big = FileRejected(
        gettext_noop("The workbook's text table is larger than %(size)s once expanded: refused. Save the sheet as CSV and import that.")
        % {"size": _mb(MAX_XLSX_SHARED_STRINGS_BYTES)}
    )
    if member.file_size > MAX_XLSX_SHARED_STRINGS_BYTES:
        raise too_big
    count = size = 0
    tail = b""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_XLSX_SHARED_STRINGS_BYTES:
                    raise too_big
                window = tail + chunk
                # <si> opens an entry, also with a namespace prefix (<x:si>); the few bytes kept
                # from the previous chunk are shorter than a tag, so nothing is counted twice.
                count += sum(window.count(tag) for tag in _SHARED_STRING_TAGS)
                tail = window[-3:]
                if count > MAX_XLSX_SHARED_STRINGS:
                    raise FileRejected(
                        gettext_noop("The workbook holds more than %(count)s different texts: refused. Save the sheet as CSV and import that.")
                        % {"count": f"{MAX_XLSX_SHARED_STRINGS:,}"}
                    )
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        raise FileRejected(gettext_noop("The file is not a readable Excel workbook (a damaged zip archive).")) from None


# Runs in a child process under an address-space limit: opens the workbook as the import will
# (openpyxl, read-only, so its shared strings are loaded) and reads the first rows.
_PROBE = """
import resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    import openpyxl
    workbook = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=False)
    for _row in workbook.worksheets[0].iter_rows(max_row=200, max_col=int(sys.argv[3])):
        pass
    workbook.close()
except MemoryError:
    sys.exit(3)
except Exception as exc:
    # Parsers in C report a failed allocation as their own error; anything else is a damaged
    # workbook, which the import then describes in its own words.
    sys.exit(3 if "memory" in str(exc).lower() else 0)
"""


def parse_memory_limit() -> int:
    """Bytes of address space the process that first opens a workbook may use."""
    from django.conf import settings

    from rapport.core.env import env_int

    mb = getattr(settings, "RAPPORT_IMPORT_MEMORY_MB", None) or env_int("RAPPORT_IMPORT_MEMORY_MB", 1024)
    return int(mb) * 1024 * 1024


def probe_xlsx(path: Path) -> None:
    """Opens the workbook first in a separate process with a memory limit, so that a workbook
    built to exhaust memory fails there, and is refused, instead of in the server."""
    import subprocess
    import sys

    limit = parse_memory_limit()
    try:
        run = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path), str(limit), str(MAX_COLUMNS + 1)],
            capture_output=True, timeout=300, check=False,
        )
    except subprocess.TimeoutExpired:
        raise FileRejected(gettext_noop("The workbook takes too long to open: refused. Save the sheet as CSV and import that.")) from None
    if run.returncode != 0:
        raise FileRejected(
            gettext_noop("The workbook needs more than %(size)s of memory to open: refused. Save the sheet as CSV and import that.")
            % {"size": _mb(limit)}
        )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _workbook_problem(exc: BaseException) -> str:
    from defusedxml import DefusedXmlException

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return "The workbook declares XML entities (the shape of an XML bomb): refused."
        cause = cause.__cause__ or cause.__context__
    return f"The workbook cannot be read ({type(exc).__name__})."


def _guarded(cells: Iterator[Any]) -> Iterator[Any]:
    """The sheet's rows; read-only mode parses lazily, so a damaged or hostile sheet (an XML
    bomb that defusedxml refuses) fails here, mid-way, as a clear FileRejected."""
    while True:
        try:
            row = next(cells)
        except StopIteration:
            return
        except Exception as exc:  # defusedxml's EntitiesForbidden, ParseError, zip errors…
            raise FileRejected(_workbook_problem(exc) + " The rows before the problem were read.") from None
        yield row


def read_xlsx(path: Path) -> tuple[list[str], Iterator[SourceRow]]:
    check_xlsx(path)
    probe_xlsx(path)
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise FileRejected(gettext_noop("XLSX import needs defusedxml installed."))
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        # The size the sheet declares: read-only mode pads every row to its width, so a far-away
        # formatted cell would make each row thousands of empty cells.
        width, height = sheet.max_column or 0, sheet.max_row or 0
        if width <= MAX_COLUMNS and width * height <= MAX_XLSX_CELLS:
            cells = sheet.iter_rows()
            header_cells = next(cells, None)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise FileRejected(_workbook_problem(exc)) from None
    if width > MAX_COLUMNS:
        workbook.close()
        raise FileRejected(gettext_noop("The sheet has %(columns)s columns; at most %(limit)s are supported.") % {"columns": width, "limit": MAX_COLUMNS})
    if width * height > MAX_XLSX_CELLS:
        workbook.close()
        raise FileRejected(
            gettext_noop("The sheet holds %(rows)s rows × %(columns)s columns, more than %(cells)s cells: refused. Split it, or save it as CSV.")
            % {"rows": f"{height:,}", "columns": width, "cells": f"{MAX_XLSX_CELLS:,}"}
        )
    if header_cells is None:
        workbook.close()
        raise FileRejected(gettext_noop("The first sheet is empty."))
    if len(header_cells) > MAX_COLUMNS:
        workbook.close()
        raise FileRejected(gettext_noop("The sheet has %(columns)s columns; at most %(limit)s are supported.")
                           % {"columns": len(header_cells), "limit": MAX_COLUMNS})
    headers = _headers([_cell_text(c.value) for c in header_cells])

    def rows() -> Iterator[SourceRow]:
        number = 0
        read = len(header_cells)
        try:
            for row_cells in _guarded(cells):
                read += len(row_cells)
                if read > MAX_XLSX_CELLS:
                    raise FileRejected(
                        f"The sheet holds more than {MAX_XLSX_CELLS:,} cells: the rows before them were read. "
                        "Split it, or save it as CSV."
                    )
                values: Row = {}
                problems: list[CellProblem] = []
                for header, cell in zip(headers, row_cells):
                    if getattr(cell, "data_type", None) == "f":
                        problems.append(CellProblem(header, problem("xlsx.formula"), str(cell.value)[:200]))
                        continue
                    text = _cell_text(cell.value)
                    if text:
                        values[header] = text
                number += 1
                if not values and not problems:
                    continue
                yield SourceRow(number, values, problems)
        finally:
            workbook.close()

    return headers, rows()


# --- vCard --------------------------------------------------------------------------------------


_MEDIA = re.compile(r"^(?:[\w-]+\.)?(PHOTO|LOGO|SOUND|KEY)[;:]", re.I)
_PROPERTY_START = re.compile(r"^(?:[\w-]+\.)?[\w-]+[;:]")


def vcard_chunks(stream: IO[bytes], encoding: str) -> Iterator[tuple[int, str | None]]:
    """Each ``BEGIN:VCARD … END:VCARD`` block as text, numbered from 1.

    Media properties (PHOTO, LOGO, SOUND, KEY) are dropped here, line by line, unread: a
    contact with a large photo costs no memory and is never refused for it. A block that
    still grows past ``MAX_CARD_BYTES`` is reported as None (and skipped) rather than held.
    """
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
    number = 0
    lines: list[str] = []
    size = 0
    inside = oversized = in_media = False
    for line in text:
        stripped = line.strip()
        upper = stripped.upper()
        if upper.startswith("BEGIN:VCARD"):
            inside, oversized, in_media, lines, size = True, False, False, [], 0
        if not inside:
            continue
        if _MEDIA.match(line):
            in_media = True
            continue
        if in_media:
            # Folded or bare base64 lines of the media value, until the next property.
            if not _PROPERTY_START.match(line) or line[:1] in (" ", "\t"):
                continue
            in_media = False
        size += len(line)
        if size > MAX_CARD_BYTES:
            oversized = True
            lines = []
        elif not oversized:
            lines.append(line)
        if upper.startswith("END:VCARD"):
            number += 1
            yield number, None if oversized else "".join(lines)
            inside, lines = False, []
    if inside:
        number += 1
        yield number, None


# vCard 2.1 writes "TEL;WORK;VOICE:" where 3.0/4.0 write "TEL;TYPE=WORK,VOICE:".
_TYPE_WORDS = {"work", "home", "cell", "mobile", "fax", "voice", "pref", "internet", "x400", "msg", "pager", "dom", "intl", "postal", "parcel", "other", "main", "iphone"}


def _types(prop: Any) -> set[str]:
    found: set[str] = set()
    for key, values in getattr(prop, "params", {}).items():
        if key.upper() == "TYPE":
            for v in values:
                found.update(part.strip().lower() for part in str(v).split(","))
        elif key.lower() in _TYPE_WORDS:
            found.add(key.lower())
    singletons = getattr(prop, "singletonparams", [])
    found.update(str(s).lower() for s in singletons)
    return found


def _first(component: Any, name: str) -> Any:
    contents = component.contents.get(name.lower())
    return contents[0] if contents else None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if v)
    # vobject leaves escapes it does not know (some exporters write "http\\://").
    return re.sub(r"\\([:,;\\])", r"\1", str(value or "")).strip()


_DROPPED = {"PHOTO", "LOGO", "SOUND", "KEY", "PROFILE", "NAME", "SOURCE", "LABEL"}
_PROPERTY = re.compile(r"^(?:[\w-]+\.)?([\w-]+)((?:;[^:]*)?):(.*)$", re.S)


def _logical_lines(block: str) -> list[str]:
    """Unfolded content lines: RFC folding (a leading space or tab) and vCard 2.1's
    quoted-printable soft breaks (a QP value ending with "=" goes on the next line)."""
    lines: list[str] = []
    for raw in block.splitlines():
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif lines and "QUOTED-PRINTABLE" in lines[-1].split(":", 1)[0].upper() and lines[-1].endswith("="):
            lines[-1] = lines[-1][:-1] + raw.lstrip()
        else:
            lines.append(raw)
    return lines


def clean_vcard(block: str) -> str:
    """The block vobject gets: media properties removed unread (PHOTO, LOGO, SOUND, KEY — a
    ``VALUE=uri`` is never fetched, inline data never decoded), MIME-directory headers that
    confuse it removed (PROFILE, NAME, SOURCE), and quoted-printable values decoded here with
    their charset, bad bytes replaced, so one mis-encoded value cannot lose the whole card."""
    import quopri

    out = []
    for line in _logical_lines(block):
        match = _PROPERTY.match(line)
        if not match:
            # Not a property: the unindented base64 lines vCard 2.1 writes after PHOTO, or junk.
            continue
        name, params, value = match.group(1).upper(), match.group(2), match.group(3)
        if name in _DROPPED:
            continue
        if "QUOTED-PRINTABLE" in params.upper():
            charset = "utf-8"
            kept = []
            for param in params.split(";")[1:]:
                key, _, param_value = param.partition("=")
                if key.upper() == "CHARSET" and param_value:
                    charset = param_value
                elif param.upper() not in ("ENCODING=QUOTED-PRINTABLE", "QUOTED-PRINTABLE"):
                    kept.append(param)
            try:
                decoded = quopri.decodestring(value.encode("latin-1", errors="replace")).decode(charset, errors="replace")
            except LookupError:
                decoded = quopri.decodestring(value.encode("latin-1", errors="replace")).decode("utf-8", errors="replace")
            decoded = decoded.replace("\r\n", "\\n").replace("\n", "\\n")
            line = line[: match.start(1)] + match.group(1) + "".join(";" + k for k in kept) + ":" + decoded
        out.append(line)
    return "\r\n".join(out) + "\r\n"


def _words(value: Any) -> str:
    return " ".join(_text(v) for v in value if v) if isinstance(value, list) else _text(value)


def vcard_record(block: str) -> tuple[Row, list[CellProblem]]:
    """One vCard as the named fields of a row (the same names a CSV maps to), by vobject.

    PHOTO, LOGO and SOUND are ignored: never decoded, never fetched (``VALUE=uri`` included).
    """
    import vobject

    problems: list[CellProblem] = []
    try:
        card = vobject.readOne(clean_vcard(block), ignoreUnreadable=True)
    except Exception as exc:  # vobject raises ParseError, ValueError, UnicodeError… for broken cards
        return {}, [CellProblem("", problem("vcard.unreadable", detail=type(exc).__name__))]
    row: Row = {}
    n = _first(card, "n")
    if n is not None and hasattr(n.value, "given"):
        # Each N component may be a list (several given names): words of one name, not a list.
        row["given_name"] = _words(n.value.given)
        row["family_name"] = _words(n.value.family)
        row["middle_name"] = _words(n.value.additional)
    fn = _first(card, "fn")
    if fn is not None:
        row["full_name"] = _text(fn.value)
    org = _first(card, "org")
    if org is not None:
        value = org.value
        row["organization"] = _text(value[0] if isinstance(value, list) and value else value)
    for name, target in (("title", "title"), ("uid", "external_id"), ("nickname", "nickname"), ("bday", "birth_date"), ("note", "note")):
        prop = _first(card, name)
        if prop is not None and _text(prop.value):
            row[target] = _text(prop.value)
    phones = card.contents.get("tel", [])
    for i, prop in enumerate(phones[:20]):
        types = _types(prop)
        kind = "fax" if "fax" in types else "mobile" if types & {"cell", "mobile", "iphone"} else "work" if "work" in types else "home" if "home" in types else "other"
        number = _text(prop.value)
        if number.lower().startswith("tel:"):
            number = number[4:]
        row[f"phone.{i + 1}"] = number
        row[f"phone.{i + 1}.type"] = kind
    for i, prop in enumerate(card.contents.get("email", [])[:20]):
        types = _types(prop)
        row[f"email.{i + 1}"] = _text(prop.value)
        row[f"email.{i + 1}.type"] = "personal" if "home" in types else "work" if "work" in types else "other"
    for i, prop in enumerate(card.contents.get("adr", [])[:5]):
        adr = prop.value
        if not hasattr(adr, "street"):
            continue
        types = _types(prop)
        prefix = f"address.{i + 1}"
        row[f"{prefix}.street"] = _text(adr.street)
        row[f"{prefix}.city"] = _text(adr.city)
        row[f"{prefix}.region"] = _text(adr.region)
        row[f"{prefix}.postal_code"] = _text(adr.code)
        row[f"{prefix}.country"] = _text(adr.country)
        row[f"{prefix}.type"] = "home" if "home" in types else "office"
    url = _first(card, "url")
    if url is not None:
        row["website"] = _text(url.value)
    return {k: v for k, v in row.items() if v}, problems


def read_vcard(stream: IO[bytes], encoding: str) -> Iterator[SourceRow]:
    for number, block in vcard_chunks(stream, encoding):
        if block is None:
            yield SourceRow(number, {}, [CellProblem("", problem("vcard.too_large", megabytes=MAX_CARD_BYTES // 1024 // 1024))])
            continue
        cells, problems = vcard_record(block)
        if not cells and not problems:
            problems = [CellProblem("", problem("vcard.empty"))]
        yield SourceRow(number, cells, problems)


# --- one entry point ----------------------------------------------------------------------------


@dataclass
class OpenedFile:
    """A file opened for reading: its format, the columns it offers and its rows (once)."""

    format: str
    headers: list[str]
    rows: Iterator[SourceRow]
    encoding: str = ""
    delimiter: str = ""
    _stream: IO[bytes] | None = None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


VCARD_FIELDS = [
    "full_name", "given_name", "middle_name", "family_name", "organization", "title", "external_id", "nickname",
    "birth_date", "note", "website",
]


def open_file(path: Path, *, keep_going: bool = False) -> OpenedFile:
    """Opens an import file, recognising CSV, XLSX or vCard from its content; ``keep_going``
    reads on after a CSV line that is not CSV (``read_csv``)."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise FileRejected(gettext_noop("The file cannot be opened: %(detail)s.") % {"detail": exc.strerror}) from None
    head = stream.read(SNIFF_BYTES)
    if not head.strip(b"\xef\xbb\xbf\xff\xfe \r\n\t\x00"):
        stream.close()
        raise FileRejected(problem("file.empty"))
    try:
        fmt = detect_format(path, head)
        if fmt == Format.XLSX:
            stream.close()
            headers, rows = read_xlsx(path)
            return OpenedFile(Format.XLSX, headers, rows)
        encoding = detect_encoding(head)
        if fmt == Format.VCARD:
            if _control_junk(head.decode(encoding, errors="ignore")[:20_000]):
                raise FileRejected(gettext_noop("This is not a text file (it contains binary data)."))
            stream.seek(0)
            return OpenedFile(Format.VCARD, list(VCARD_FIELDS), read_vcard(stream, encoding), encoding, "", stream)
        dialect = sniff_csv(head)
        stream.seek(0)
        headers, rows = read_csv(stream, dialect, keep_going=keep_going)
        return OpenedFile(Format.CSV, headers, rows, dialect.encoding, dialect.delimiter, stream)
    except BaseException:
        stream.close()
        raise
