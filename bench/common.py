"""Shared benchmark plumbing: a throwaway database, timing helpers and the results file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/rapport_bench"


def setup(name: str, *, db: str = "sqlite", reuse: bool = False) -> Path | str:
    """Points Django at the benchmark database and migrates it; returns the SQLite file or the URL.

    SQLite: ``$RAPPORT_HOME/bench-<name>.sqlite3`` (RAPPORT_HOME defaults to ``var/bench``),
    deleted first unless ``reuse``. PostgreSQL: ``$DATABASE_URL`` or a local ``rapport_bench``
    database, whose tables are dropped first unless ``reuse`` (only databases named *bench*
    or *test*, so a real database is never wiped by a benchmark).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    home = Path(os.environ.get("RAPPORT_HOME") or ROOT / "var" / "bench")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_HOME"] = str(home)
    target: Path | str
    if db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        target = home / f"bench-{name}.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.environ["RAPPORT_SQLITE_PATH"] = str(target)
    elif db == "postgres":
        target = os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES
        os.environ["DATABASE_URL"] = target
        _ensure_postgres_database(target, wipe=not reuse)
    else:
        raise SystemExit(f"unknown --db {db!r} (sqlite or postgres)")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return target


def _ensure_postgres_database(url: str, *, wipe: bool) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            return
    if wipe:
        if "bench" not in name and "test" not in name:
            raise SystemExit(f"refusing to wipe database {name!r}: use --reuse or a database named *bench*")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")


def database_vendor() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "version": str(version)}


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "platform": platform.platform(),
        "python": platform.python_version(),
    }


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pct(p: float) -> float:
        if not ordered:
            return float("nan")
        k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return round(ordered[k], 2)

    return {
        "n": len(ordered), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(ordered), 2) if ordered else float("nan"),
        "max_ms": round(ordered[-1], 2) if ordered else float("nan"),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


class TimedIterator:
    """Wraps a generator and adds up the time spent producing items, so it can be left out."""

    def __init__(self, source: Iterator[Any]) -> None:
        self.source = source
        self.seconds = 0.0
        self.count = 0

    def __iter__(self) -> TimedIterator:
        return self

    def __next__(self) -> Any:
        start = time.perf_counter()
        try:
            item = next(self.source)
        finally:
            self.seconds += time.perf_counter() - start
        self.count += 1
        return item


def write_results(name: str, *, parameters: dict[str, Any], figures: dict[str, Any], targets: dict[str, Any] | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "database": database_vendor(),
        "parameters": parameters,
        "figures": figures,
        "targets": targets or {},
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    raise SystemExit("bench.common holds the helpers the benchmarks share; run e.g. python -m bench.cards")
