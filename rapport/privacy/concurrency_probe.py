"""A concurrency probe run in its own process against a fresh SQLite file (WAL, busy timeout):

1. two writers change the same card from the same version at the same moment: one wins, the
   other is refused with a conflict (412 in the API), never a silent overwrite;
2. N writers update cards, record facts and log activities for S seconds: no "database is
   locked" error.

    python -m rapport.privacy.concurrency_probe --writers 20 --seconds 30

Prints one JSON object. Used by the test suite (briefly) and by hand (for the full 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="rapport-probe-")
    os.environ["RAPPORT_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["RAPPORT_SQLITE_PATH"] = os.path.join(home, "probe.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections, connection

    call_command("migrate", interactive=False, verbosity=0)
    from rapport.accounts.services import create_user
    from rapport.activities.services import log_activity
    from rapport.cards import services
    from rapport.core.errors import Conflict

    user = create_user(username="probe", role="admin", password=None)
    cards = [services.create_organization(user=user, data={"name": f"Probe {i}"}) for i in range(args.writers)]
    journal = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]

    # 1. Two writers, one version.
    target = cards[0]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(name: str) -> None:
        try:
            barrier.wait()
            services.update_card(user=user, card=target, data={"name": name}, expected_version=target.version)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # reported, so the caller sees what went wrong
            outcomes.append(f"error: {exc}")
        finally:
            close_old_connections()
            connection.close()

    pair = [threading.Thread(target=edit, args=(n,)) for n in ("First", "Second")]
    for t in pair:
        t.start()
    for t in pair:
        t.join()

    # 2. Many writers for a while.
    stop = time.monotonic() + args.seconds
    counts = {"writes": 0, "errors": 0, "locked": 0}
    errors: list[str] = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        card = cards[i]
        n = 0
        try:
            while time.monotonic() < stop:
                n += 1
                began = time.monotonic()
                try:
                    if n % 3 == 0:
                        services.add_fact(user=user, card=card, item_key="business_scope", value=f"scope {n}", source_key="customer_stated")
                    elif n % 3 == 1:
                        card = services.update_card(user=user, card=card, data={"industry": f"industry {n}"})
                    else:
                        log_activity(user=user, data={"kind": "call", "summary": f"call {n}", "cards": [card.id]})
                    with lock:
                        counts["writes"] += 1
                except Exception as exc:
                    with lock:
                        counts["errors"] += 1
                        counts["locked"] += "locked" in str(exc)
                        errors.append(f"{('fact', 'update', 'activity')[n % 3]} after {time.monotonic() - began:.1f}s: {exc!r}"[:200])
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.writers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({
        "journal_mode": journal, "pair": sorted(outcomes), "writers": args.writers,
        "seconds": round(time.monotonic() - started, 2), **counts, "sample_errors": errors[:5],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
