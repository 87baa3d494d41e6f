"""What the browser tests share: signing in, the console errors a page logs, and a card page
read to its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "correct horse 42"


def console_errors(page: "Page") -> list[str]:
    """A list that fills with the page's console errors (a missing favicon aside) as they come."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "favicon" not in msg.text else None)
    return errors


def sign_in(page: "Page", live_url: str, username: str = "rep_ana", password: str = PASSWORD) -> None:
    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/today/")  # Today is the home after sign-in


def reveal_card_sections(page: "Page") -> None:
    """Scrolls a card page down a screen at a time, as a reader would, until every section that
    loads when it comes into view has loaded; then back to the top."""
    page.evaluate("window.scrollTo(0, 0)")  # a reload keeps the place it was read at
    for _ in range(80):
        if page.locator(".panel-slot").count() == 0:
            break
        page.evaluate("window.scrollBy(0, innerHeight / 2)")
        page.wait_for_timeout(100)
    page.wait_for_selector(".panel-slot", state="detached")  # none left (a string to evaluate would break the CSP)
    page.evaluate("window.scrollTo(0, 0)")
