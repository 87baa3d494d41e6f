"""What the browser tests share: signing in, and the console errors a page logs."""

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
