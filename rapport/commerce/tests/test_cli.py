"""``rapport receivables``, ``rapport collect`` and ``rapport statement``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from rapport.cli import main
from rapport.commerce.models import CollectionTask
from rapport.commerce.tests.factories import invoice

pytestmark = pytest.mark.django_db


def test_the_receivables_command_prints_the_matrix_and_the_aging(users: Any, make_org: Any, capsys: Any) -> None:
    invoice(users["rep_ana"], make_org(), "100", issued="2026-01-01", due=(dt.date.today() - dt.timedelta(days=10)).isoformat())
    assert main(["receivables"]) == 0
    printed = capsys.readouterr().out
    assert "Routine reminder: 1 invoices" in printed and "1–30 days" in printed


def test_the_collect_command_creates_tasks_once(users: Any, make_org: Any, capsys: Any) -> None:
    invoice(users["rep_ana"], make_org(), "100", issued="2026-01-01", due=(dt.date.today() - dt.timedelta(days=10)).isoformat())
    assert main(["collect"]) == 0 and main(["collect"]) == 0
    assert CollectionTask.objects.count() == 1
    assert "1 created" in capsys.readouterr().out


def test_the_statement_command_writes_a_pdf_and_an_xlsx(users: Any, make_org: Any, tmp_path: Path, capsys: Any) -> None:
    org = make_org()
    invoice(users["rep_ana"], org, "100", issued="2026-01-01", due="2026-02-01")
    for name in ("s.pdf", "s.xlsx"):
        assert main(["statement", str(org.pk), "--output", str(tmp_path / name)]) == 0
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF") and (tmp_path / "s.xlsx").read_bytes().startswith(b"PK")
    assert main(["statement", str(org.pk), "--output", str(tmp_path / "s.txt")]) == 2
    assert main(["statement", "999999"]) != 0
    assert main(["receivables", "--as-of", "yesterday"]) == 2
