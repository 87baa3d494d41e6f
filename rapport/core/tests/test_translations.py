"""The interface translations: complete catalogues, and pages shown in the user's language."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

LOCALE = Path(settings.LOCALE_PATHS[0])
# Directory name under a locale folder -> (language code as Django uses it, number of plural forms).
CATALOGUES = {"es": ("es", 2), "zh_Hans": ("zh-hans", 1), "ro": ("ro", 3)}
# The project catalogue, then each app that keeps its own (``python3 dev.py messages`` updates all).
LOCALE_FOLDERS = [LOCALE, *sorted(p for p in LOCALE.parent.glob("*/locale") if p.is_dir())]
EVERY_CATALOGUE = [
    pytest.param(folder, directory, id=f"{folder.parent.name}-{directory}")
    for folder in LOCALE_FOLDERS
    for directory in CATALOGUES
]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|%%|\{\w*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[Entry]:
    """A small reader for the subset of the PO format that makemessages writes."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target is not None:
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert target is not None, f"{path}: continuation line without a keyword: {raw!r}"
            value = ast.literal_eval(line)
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, getattr(entry, name) + value)
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword in ("msgid", "msgid_plural", "msgctxt"):
                if keyword == "msgid" and target is not None and target[0] == "msgstr":
                    finish()
                target = (keyword, 0)
                if keyword != "msgctxt":
                    setattr(entry, keyword, value)
            elif keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                entry.msgstr[index] = value
                target = ("msgstr", index)
    finish()
    return entries


def catalogue(folder: Path, directory: str) -> tuple[Entry, list[Entry]]:
    """The header entry and the messages of one language's django.po."""
    entries = read_po(folder / directory / "LC_MESSAGES" / "django.po")
    header = next(e for e in entries if e.msgid == "")
    return header, [e for e in entries if e.msgid]


@pytest.mark.parametrize(("folder", "directory"), EVERY_CATALOGUE)
def test_every_catalogue_has_a_translation_for_every_message_and_nothing_fuzzy(folder: Path, directory: str) -> None:
    _, nplurals = CATALOGUES[directory]
    header, entries = catalogue(folder, directory)
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert "fuzzy" not in header.flags
    assert fields["Plural-Forms"].startswith(f"nplurals={nplurals};")
    assert len(entries) > (200 if folder == LOCALE else 0)
    untranslated = [e.msgid for e in entries if not all(s.strip() for s in e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    wrong_plurals = [e.msgid for e in entries if e.msgid_plural and sorted(e.msgstr) != list(range(nplurals))]
    assert untranslated == []
    assert fuzzy == []
    assert wrong_plurals == []


@pytest.mark.parametrize(("folder", "directory"), EVERY_CATALOGUE)
def test_every_translation_keeps_the_placeholders_of_the_english_text(folder: Path, directory: str) -> None:
    _, entries = catalogue(folder, directory)
    mismatched = [
        (e.msgid, text)
        for e in entries
        for index, text in e.msgstr.items()
        if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(e.msgid_plural if index else e.msgid))
    ]
    assert mismatched == []


@pytest.mark.parametrize(("folder", "directory"), EVERY_CATALOGUE)
def test_every_catalogue_is_compiled_and_newer_than_its_source(folder: Path, directory: str) -> None:
    source = folder / directory / "LC_MESSAGES" / "django.po"
    compiled = source.with_suffix(".mo")
    assert compiled.is_file() and compiled.stat().st_size > 100
    assert _messages_in_mo(compiled) == {e.msgid for e in catalogue(folder, directory)[1]}


def _messages_in_mo(path: Path) -> set[str]:
    """The message ids a compiled catalogue holds (singular part, header left out)."""
    import gettext

    with path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    # A message with a context (pgettext) is stored as "context\x04msgid".
    keys = {key if isinstance(key, str) else key[0] for key in compiled._catalog if key}  # type: ignore[attr-defined]
    return {key.split("\x04")[-1] for key in keys}


KEY_STRINGS = [
    "Search",
    "My customers",
    "Organisations",
    "People",
    "Owner",
    "Team",
    "Stage",
    "Regular customer",
    "Add a fact",
    "Save changes",
    "Cancel",
    "Sign in",
    "Sign out",
]


@pytest.mark.parametrize("language", [code for code, _ in CATALOGUES.values()])
def test_key_interface_strings_are_translated_in_each_language(language: str) -> None:
    with translation.override(language):
        same_as_english = [s for s in KEY_STRINGS if translation.gettext(s) == s]
    assert same_as_english == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", ["1–1 de 1 ficha", "1–2 de 2 fichas", "1–20 de 20 fichas"]),
        ("zh-hans", ["第 1–1 张，共 1 张客户卡片", "第 1–2 张，共 2 张客户卡片", "第 1–20 张，共 20 张客户卡片"]),
        ("ro", ["1–1 din 1 fișă", "1–2 din 2 fișe", "1–20 din 20 de fișe"]),
    ],
)
def test_counts_use_the_plural_rules_of_each_language(language: str, expected: list[str]) -> None:
    singular = "%(first)s–%(last)s of %(shown)s card"
    plural = "%(first)s–%(last)s of %(shown)s cards"
    with translation.override(language):
        shown = [translation.ngettext(singular, plural, n) % {"first": 1, "last": n, "shown": n} for n in (1, 2, 20)]
    assert shown == expected


@pytest.mark.parametrize(
    ("accept_language", "lang", "words"),
    [
        ("es-ES,es;q=0.9", "es", ["Iniciar sesión", "Tus clientes"]),
        ("zh-CN,zh;q=0.9", "zh-hans", ["登录", "您的客户"]),
        ("ro-RO,ro;q=0.9", "ro", ["Autentificare", "Clienții dumneavoastră"]),
    ],
)
def test_the_login_page_is_shown_in_the_language_the_browser_asks_for(
    db: Any, accept_language: str, lang: str, words: list[str]
) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=accept_language).get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in html
    for word in words:
        assert word in html
    assert "Sign in to Rapport" not in html
