"""Fixtures for end-to-end tests in Debian's headless Chromium, driven by Playwright.

Playwright never downloads a browser here: it drives /usr/bin/chromium (apt-get install chromium).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in this thread, which makes Django refuse
# ORM calls from test code ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses; --no-sandbox because tests run as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On SQLite, a test database in a file rather than in memory.

    Django shares an in-memory SQLite database between the live server's thread and the test
    through SQLite's shared cache, whose table locks fail at once ("database table is locked")
    instead of waiting: a test writing while the server still answers the page's last request
    failed now and then. A file in WAL mode waits on the busy timeout, as the real server does.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] in ("django.db.backends.sqlite3", "rapport.core.sqlite"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("browser-db") / "test.sqlite3")


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """A fresh page in a new headless Chromium, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            page = context.new_page()
            yield page
            context.close()
        finally:
            browser.close()


@pytest.fixture
def live_url(live_server: LiveServer, transactional_db: None) -> str:
    """Base URL of Django's live test server, without a trailing slash.

    transactional_db, because the server thread cannot see data in the test's open
    transaction (and shares SQLite's in-memory database only in this mode).
    """
    return live_server.url
