"""After an import started on the web, the report page keeps the header and the menu."""

from __future__ import annotations

import re

from django.test import Client

from rapport.imports.models import ImportJob, Status
from rapport.imports.tests.test_web_and_api import FILE, upload

FORM = {"kind": "people", "on_duplicate": "skip", "region": "", "col_0": "given_name", "col_1": "family_name",
        "col_2": "email", "col_3": "phone"}


def _attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def _swap(page: str, response: str, *, target: str, select: str, swap: str) -> str:
    """What htmx leaves on screen: the selected element of the response put in the target."""
    def element(html: str, name: str) -> re.Match[str]:
        found = re.search(rf"<{name}\b[^>]*>.*</{name}>", html, re.S)
        assert found, f"no <{name}> in the page"
        return found

    chosen = element(response, select).group(0)
    old = element(page, target)
    if swap == "outerHTML":
        return page[: old.start()] + chosen + page[old.end():]
    inner_start = page.index(">", old.start()) + 1
    inner_end = old.end() - len(f"</{target}>")
    return page[:inner_start] + chosen + page[inner_end:]


def test_the_import_button_shows_the_report_inside_the_page_with_its_header_and_menu(ana: Client) -> None:
    job = upload(ana, FILE)
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    button = re.search(r'<button[^>]*name="run"[^>]*>', page)
    assert button, "the mapping page has no Import button"
    htmx = _attributes(button.group(0))
    assert htmx.get("hx-target") != "body"

    followed = ana.post(f"/imports/{job.pk}/", {**FORM, "run": "1"}, HTTP_HX_REQUEST="true", follow=True)
    assert followed.status_code == 200
    job.refresh_from_db()
    assert job.status == Status.DONE
    shown = _swap(page, followed.content.decode(), target=htmx.get("hx-target", "body"),
                  select=htmx.get("hx-select", "body"), swap=htmx.get("hx-swap", "innerHTML"))
    assert shown.count('<header class="topbar">') == 1
    assert shown.count('<nav class="mainnav"') == 1
    assert shown.count("<main") == 1  # no page nested in the page
    assert "Revert this import" in shown


def test_an_unknown_import_id_answers_404(ana: Client) -> None:
    assert ana.get("/imports/999999/").status_code == 404
    assert ImportJob.objects.count() == 0
