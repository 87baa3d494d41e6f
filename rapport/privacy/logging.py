"""Logs never carry personal data: request lines lose their query strings.

Rapport itself sends searched names in POST bodies, but an old link, a bookmark or a
third-party client may still put one in a query string (``/search/?q=…``, ``/api/v1/people?q=…``),
and Django's development server logs every request line as it came. Bodies are never logged.
"""

from __future__ import annotations

import logging
import re

# A query string after a path, up to the protocol of a request line ("GET /search/?q=Ana
# HTTP/1.1"), a closing quote or the end of the line: a badly encoded one may hold spaces.
# A question mark in ordinary text (not after a path) is left alone.
_QUERY = re.compile(r"(/[^\s?\"]*)\?[^\"\n]*?(?=\s+HTTP/\d|\"|$)", re.MULTILINE)
REMOVED = "?[query removed]"


def strip_query(text: str) -> str:
    """``text`` with every query string replaced by a marker (the path stays, for debugging)."""
    return _QUERY.sub(lambda m: m.group(1) + REMOVED, text)


class StripQueryStrings(logging.Filter):
    """Rewrites a record's message without its query strings.

    Attached to the handlers of the request loggers (``django.server``, ``django.request``)
    in ``settings.LOGGING``. Always lets the record through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it itself
        if "?" in message:
            # Formatted once here: an argument may hold the query (runserver's request line).
            record.msg, record.args = strip_query(message), None
        return True
