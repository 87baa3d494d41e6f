"""What went wrong in an import, stored as a code and its parameters and shown in the reader's language.

An import runs for one user and is read by another (a manager, the API client of a Spanish
office, a command line under ``LANG=zh_CN``), so a problem is never stored as a sentence in
one language: it is a ``Problem`` (code + parameters), rendered when it is read.

Three kinds of code:

- a code of ours (``TEMPLATES``), whose English text is the message id translated on reading;
- ``message``: a message of another app (a card validation, an order kind's runner) recognised
  from its English text as one of the translated message ids, with the values it was filled
  with (``recognise``);
- ``text``: a sentence nothing recognises, kept as written (rows of earlier versions are read
  the same way, from their ``reason``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_noop

TEMPLATES: dict[str, str] = {
    # Reading the file
    "file.empty": gettext_noop("The file is empty."),
    "csv.unreadable_line": gettext_noop("Line %(line)s cannot be read as CSV: %(detail)s"),
    "csv.structural": gettext_noop(
        "Line %(line)s (data row %(row)s) cannot be read as CSV: %(detail)s. Often a quote that is never closed; "
        "the rows before it were read. Correct the file, or import it again asking to keep going past unreadable lines."
    ),
    "csv.bad_text": gettext_noop(
        "Data row %(row)s (line %(line)s) is not valid %(encoding)s text; the rows before it were read. "
        "Save the file as UTF-8 and import it again."
    ),
    "csv.too_many_cells": gettext_noop("The row has %(cells)s cells but the header %(header)s."),
    "xlsx.formula": gettext_noop("A formula, not a value: formulas are not imported."),
    "vcard.unreadable": gettext_noop("This vCard cannot be read: %(detail)s."),
    "vcard.too_large": gettext_noop("This vCard is larger than %(megabytes)s MB: not imported."),
    "vcard.empty": gettext_noop("This vCard holds no name, phone or e-mail."),
    # Turning a row into a card
    "cell.formula": gettext_noop("Looks like a spreadsheet formula: not imported."),
    "row.too_many_points": gettext_noop("More than 20 phones or e-mails in one row."),
    "birth.not_numbers": gettext_noop("Birth year, month and day must all be numbers."),
    "date.no_year": gettext_noop("A date without a year cannot be recorded."),
    "phone.not_valid": gettext_noop(
        "%(value)s is not a valid phone number for %(regions)s: it was left out. If it is a number of another "
        "country, write it with its +country code."
    ),
    # The run as a whole
    "job.stalled": gettext_noop(
        "The import stopped before the end (its process ended). Import the same file again to resume it: "
        "rows with an external id update the cards already imported. Or revert what it did."
    ),
    "job.unexpected": gettext_noop("An unexpected error stopped the import; the rows before it were imported."),
    "job.worker_failed": gettext_noop("The process reading the file failed. The rows before it were imported."),
    "job.worker_stopped": gettext_noop(
        "The process reading the file stopped unexpectedly (%(reason)s). The rows before it were imported."
    ),
    "job.worker_silent": gettext_noop(
        "The process reading the file gave no answer for %(seconds)s seconds. The rows before it were imported."
    ),
    "job.reverted_kept": gettext_noop("%(count)s cards changed since the import kept those changes."),
    "job.vcard_people": gettext_noop("A vCard file holds people."),
}

TEXT = "text"  # a sentence kept as written
MESSAGE = "message"  # another app's message id, with its values


@dataclass(frozen=True)
class Problem:
    """A problem as stored: ``code`` and ``params``. ``str()`` is its text in the active language."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        """The text in English, as the ``reason`` column keeps it (for earlier readers and exports)."""
        return render(self.code, self.params, translate=False)

    def __str__(self) -> str:
        return render(self.code, self.params)


# A problem of one row as the importer passes it on: (row, column, reason, value).
RowProblem = tuple[int, str, "Problem | str", str]


def problem(code: str, **params: Any) -> Problem:
    assert code in TEMPLATES, code
    return Problem(code, {k: v if isinstance(v, (int, float)) else str(v) for k, v in params.items()})


def render(code: str, params: dict[str, Any], *, fallback: str = "", translate: bool = True) -> str:
    """The text of a stored problem; ``fallback`` (the stored ``reason``) when the code is
    empty or unknown, as for rows written before codes existed."""
    if code == TEXT:
        return str(params.get("text") or fallback)
    if code == MESSAGE:
        template, values = str(params.get("msgid") or ""), params.get("args") or {}
    else:
        template, values = TEMPLATES.get(code, ""), params
    if not template:
        return fallback
    translated = gettext(template) if translate else template
    for text in (translated, template):
        try:
            return text % values if values or "%(" in text else text.replace("%%", "%")
        except (KeyError, ValueError, TypeError):
            continue  # a translation that lost a placeholder: the English text still fits
    return fallback or template


def as_problem(reason: Problem | str) -> Problem:
    return reason if isinstance(reason, Problem) else recognise(reason)


def recognise(message: str) -> Problem:
    """Another app's message (English, as every import runs in English) as the message id it was
    translated from and the values it was filled with; a sentence no catalog holds is kept as is."""
    exact, templates = _catalog()
    if message in exact:
        return Problem(MESSAGE, {"msgid": message})
    for anchor, pattern, msgid in templates:
        if anchor in message:
            match = pattern.match(message)
            if match:
                return Problem(MESSAGE, {"msgid": msgid, "args": match.groupdict()})
    return Problem(TEXT, {"text": message})


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@functools.cache
def _catalog() -> tuple[frozenset[str], list[tuple[str, re.Pattern[str], str]]]:
    """The message ids of the translation catalogs: plain ones, and those with named
    placeholders as patterns (longest literal part first, a fast test before the pattern)."""
    from django.conf import settings
    from django.utils.translation import trans_real

    ids: set[str] = set()
    for code, _name in settings.LANGUAGES:
        if code == "en":
            continue
        catalog = trans_real.translation(code)._catalog  # type: ignore[attr-defined]
        ids.update(k for k in catalog.keys() if isinstance(k, str) and k)
    exact = frozenset(i for i in ids if "%(" not in i)
    templates = []
    for msgid in ids - exact:
        parts = _PLACEHOLDER.split(msgid)
        literals, names = parts[0::2], parts[1::2]
        if len(set(names)) != len(names):
            continue  # a placeholder used twice cannot be one group
        regex = "".join(
            re.escape(lit.replace("%%", "%")) + (f"(?P<{names[i]}>.*?)" if i < len(names) else "")
            for i, lit in enumerate(literals)
        )
        anchor = max(literals, key=len).replace("%%", "%")
        if len(anchor) >= 4:
            templates.append((anchor, re.compile(f"^{regex}$", re.S), msgid))
    templates.sort(key=lambda t: -len(t[0]))
    return exact, templates
