"""Screens speak to people: no machine-only fact sources offered, counts grouped the reader's way."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from rapport.cards.models import Fact
from rapport.cards.templatetags.card_numbers import number
from rapport.imports.models import ImportJob, Status
from rapport.imports.tests.test_web_and_api import upload


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "2,245"), ("es", "2.245"), ("zh-hans", "2,245"), ("ro", "2.245"), ("xx-bogus", "2,245")],
)
def test_a_count_is_grouped_as_the_reader_writes_it(language: str, expected: str) -> None:
    with translation.override(language):
        assert number(2245) == expected


def test_the_number_filter_leaves_what_is_not_a_number_alone() -> None:
    assert number(None) == "" and number("") == "" and number("abc") == "abc" and number(True) == "True"


def test_the_add_fact_form_offers_no_source_only_programs_set(ana: Client, make_org: Any) -> None:
    org = make_org(name="Acme")
    page = ana.get(f"/cards/{org.id}/").content.decode()
    assert 'value="rep_observation"' in page
    for label in ("Demo data", "File import", "Recorded through the API"):
        assert label not in page
    for key in ("demo", "import", "api"):
        assert f'<option value="{key}"' not in page


def test_a_fact_posted_with_a_machine_only_source_is_refused(ana: Client, make_org: Any) -> None:
    org = make_org(name="Acme")
    response = ana.post(f"/cards/{org.id}/facts/", {"item": "preferred_payment_method", "value": "bank_transfer", "source": "demo"})
    assert response.status_code == 422
    assert not Fact.objects.filter(card=org, item__key="preferred_payment_method").exists()


def test_the_import_report_says_rows_read_without_bad_plurals_and_groups_thousands(ana: Client) -> None:
    job = upload(ana)
    ImportJob.objects.filter(pk=job.pk).update(status=Status.DONE, rows_read=1, created_count=12345, error_count=0)
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    assert "1 rows" not in page
    assert "Rows read: <strong>1</strong>" in page and "<strong>12,345</strong>" in page
    spanish = ana.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<strong>12.345</strong>" in spanish


def test_the_demo_summary_groups_thousands_for_the_terminal_locale(monkeypatch: Any) -> None:
    from rapport.cli import _count

    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_NUMERIC", raising=False)
    for lang, expected in (("es_ES.UTF-8", "2.245"), ("en_GB.UTF-8", "2,245"), ("C", "2,245"), ("xx_YY", "2,245")):
        monkeypatch.setenv("LANG", lang)
        assert _count(2245) == expected, lang
