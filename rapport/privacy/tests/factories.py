"""Helpers shared by the privacy tests: API clients, consents, and reading the whole database."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import Client

from rapport.accounts.services import create_token

CONSENT = {"basis": "explicit_consent", "obtained_at": "2024-03-01", "wording": "I agree that my account manager records this."}


def api_client(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def clear(user: Any) -> Any:
    """Gives a user the sensitive-data clearance."""
    user.can_see_special = True
    user.save(update_fields=["can_see_special"])
    user.__dict__.pop("_rapport_scope", None)
    return user


def database_bytes() -> bytes:
    """Everything the database holds, as bytes on disk: the SQLite file (written out with
    VACUUM INTO, so the in-memory test database counts too) or a pg_dump on PostgreSQL."""
    if connection.vendor == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "copy.sqlite3"
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(path)])
            return path.read_bytes()
    settings = connection.settings_dict
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        # Without pg_dump every table is read as text: the same bytes a dump would hold.
        chunks: list[str] = []
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'SELECT t::text FROM "{table}" t')
                chunks.extend(row[0] for row in cursor.fetchall())
        return "\n".join(chunks).encode()
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    # The test transaction is not visible to another session: commit-free reads are needed,
    # so callers use transactional_db on PostgreSQL.
    result = subprocess.run(
        [pg_dump, "-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432),
         "-U", settings.get("USER") or "postgres", "--data-only", settings["NAME"]],
        capture_output=True, env=env, check=True,
    )
    return result.stdout
