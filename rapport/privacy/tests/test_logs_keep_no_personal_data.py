"""Request logs never carry what was searched for: query strings are dropped from every handler."""

from __future__ import annotations

import io
import logging
from typing import Any

from django.conf import settings

from rapport.privacy.logging import StripQueryStrings, strip_query

NAME = "Lucía Méndez"


def test_every_configured_log_handler_drops_query_strings() -> None:
    config: dict[str, Any] = settings.LOGGING
    assert config["filters"]["no_query_strings"]["()"] == "rapport.privacy.logging.StripQueryStrings"
    for name, handler in config["handlers"].items():
        assert "no_query_strings" in handler.get("filters", []), name
    # Django's request loggers are redefined, so its own unfiltered default handlers are not used.
    assert config["loggers"]["django.server"]["handlers"] == ["django.server"]
    assert config["loggers"]["django"]["handlers"] == ["debug_console"]
    assert config["root"]["handlers"] == ["console"]


def test_the_development_server_request_line_keeps_its_path_but_not_its_query() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(StripQueryStrings())
    logger = logging.getLogger("rapport.test.requests")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning('"%s" %s %s', f"GET /search/?q={NAME}&live=1 HTTP/1.1", "200", "512")
        logger.warning("Not Found: /api/v1/people?q=%s", NAME)
        logger.warning("%(line)s", {"line": f"GET /people/?q={NAME}"})
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert NAME not in text and "Lucía" not in text
    assert '"GET /search/?[query removed] HTTP/1.1" 200 512' in text
    assert "/api/v1/people?[query removed]" in text


def test_a_text_without_a_query_string_is_left_alone() -> None:
    assert strip_query('"POST /search/ HTTP/1.1" 200 512') == '"POST /search/ HTTP/1.1" 200 512'


def test_a_question_mark_in_ordinary_text_is_not_taken_for_a_query_string() -> None:
    assert strip_query("Is the catalog loaded? yes") == "Is the catalog loaded? yes"
    assert strip_query("GET http://example.test/x?q=1") == "GET http://example.test/x?[query removed]"
