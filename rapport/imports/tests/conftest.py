"""Fixtures of the import tests: files written on the fly and a one-call import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rapport.accounts.models import User


@pytest.fixture(autouse=True)
def _imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    # Jobs run inside the request in tests (no thread), uploads go to a temporary folder.
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = False
    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def run(users: dict[str, User], tmp_path: Path) -> Any:
    """Writes ``content`` to a file and imports it as ``user``; returns the finished job."""
    from rapport.imports import services

    def do(content: str | bytes, *, name: str = "contacts.csv", user: str = "rep_ana", encoding: str = "utf-8",
           dry_run: bool = False, **options: Any) -> Any:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        job = services.create_job(user=users[user], path=path, file_name=name, **options)
        return services.run_import(job=job, dry_run=dry_run).job

    return do


def errors_of(job: Any) -> list[tuple[int, str, str, bool]]:
    from rapport.imports.models import RowError

    return [(e.row, e.column, e.reason, e.row_imported) for e in RowError.objects.filter(job_id=job.pk).order_by("row", "id")]
