"""Every after-sales text is translated into Spanish, Simplified Chinese and Romanian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.mark.parametrize("language", ["es", "zh_Hans", "ro"])
def test_the_catalogue_has_no_empty_or_fuzzy_entry(language: str) -> None:
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = [e for e in text.split("\n\n")[1:] if e.strip()]  # the first one is the header
    # An untranslated entry ends with an empty msgstr; a long translation continues on the next lines.
    assert len(entries) > 100 and not [e for e in entries if e.strip().splitlines()[-1] == 'msgstr ""']
    assert "#, fuzzy" not in text


@pytest.mark.parametrize(("language", "heading"), [("es", "Posventa"), ("zh-hans", "售后"), ("ro", "Post-vânzare")])
def test_the_team_page_speaks_the_users_language(users: dict[str, Any], language: str, heading: str) -> None:
    user = users["rep_ana"]
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    assert f"<h1>{heading}" in client.get("/aftersales/").content.decode()
