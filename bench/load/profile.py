"""Where a request's time goes inside a server worker: the WSGI application called as gunicorn calls it.

    python -m bench.load.profile --data load-sqlite-120k [--db sqlite|postgres] [--requests 300]
                                 [--scenarios floor,card_read,search,activity] [--cprofile 25]

Reuses the data set of an earlier ``bench.load.run`` (``--data`` names its database) and sends
each scenario's requests, one after the other, through ``rapport.wsgi.application`` with a WSGI
environ like the one gunicorn builds (bearer token, JSON body), in one process and thread, with
the connection kept between requests as in the server. For each scenario: CPU and wall time per
request, queries per request and the wall time spent in them (every query through
``connection.execute_wrapper``), and with ``--cprofile N`` the N functions of most cumulative
and most own time. The users are the load test's (a rep, a manager, an administrator, in turn).
Nothing is written to bench/results: this is a diagnostic, the figures that count are the
server's (``bench.load.run``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from typing import Any, Callable

from bench import common


class QueryClock:
    """Counts the queries and sums their wall time; keeps the slowest statements' shapes."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.by_sql: Counter[str] = Counter()
        self.time_by_sql: dict[str, float] = {}

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.count += 1
            self.seconds += spent
            shape = " ".join(sql.split())[:160]
            self.by_sql[shape] += 1
            self.time_by_sql[shape] = self.time_by_sql.get(shape, 0.0) + spent


def environ(method: str, path: str, *, token: str, body: bytes = b"", cookie: str = "") -> dict[str, Any]:
    path, _, query = path.partition("?")
    headers = {"HTTP_COOKIE": cookie} if cookie else {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return {
        **headers, "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate", "CONTENT_TYPE": "application/json" if body else "",
        "CONTENT_LENGTH": str(len(body)) if body else "", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--data", required=True, help="the benchmark database of a bench.load.run")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scenarios", default="floor,card_read,search,activity",
                        help="also person_page, organization_page, fact, list, timeline (the rest of the day), "
                             "person_first_screen, organization_first_screen, person_section_<name>, organization_section_<name>")
    parser.add_argument("--cprofile", type=int, default=0, help="show this many functions per scenario")
    parser.add_argument("--queries", type=int, default=6, help="show this many statement shapes per scenario")
    args = parser.parse_args(argv)

    common.setup(args.data, db=args.db, reuse=True)
    from django.conf import settings
    from django.db import connection

    from bench import cards
    from bench.load.run import fixture
    from rapport.wsgi import application

    world = cards.build_world()
    data = fixture(world, samples=100)
    users = data["users"]
    settings.RAPPORT_RATE_LIMIT_EXEMPT = [u["username"] for u in users]
    rng = random.Random(5)

    def request(scenario: str, n: int) -> tuple[str, str, str, bytes, str]:
        user = users[n % len(users)]
        method, path, body, cookie = request_of(scenario, user)
        return method, path, user["token"], body, cookie

    def request_of(scenario: str, user: dict[str, Any]) -> tuple[str, str, bytes, str]:
        session = f"sessionid={user['session']}"
        if scenario == "floor":
            return "GET", "/favicon.ico", b"", ""
        if scenario == "card_read":
            return "GET", f"/api/v1/people/{rng.choice(user['people'])}", b"", ""
        if scenario == "search":
            return "POST", "/api/v1/search", json.dumps({"q": rng.choice(user["prefixes"]), "limit": 20}).encode(), ""
        if scenario == "activity":
            body = {"kind": "call", "summary": "Load test call", "cards": [rng.choice(user["people"])]}
            return "POST", "/api/v1/activities", json.dumps(body).encode(), ""
        # The rest of a sales team's day (bench.load.locustfile's "day").
        if scenario == "person_page":
            return "GET", f"/cards/{rng.choice(user['people'])}/", b"", session
        if scenario in ("person_first_screen", "organization_first_screen"):
            cards = user["people"] if scenario.startswith("person") else user["organizations"]
            return "GET", f"/cards/{rng.choice(cards)}/", b"", f"{session}; rapport_js=1"
        if scenario.startswith(("person_section_", "organization_section_")):
            kind, _, name = scenario.partition("_section_")
            cards = user["people"] if kind == "person" else user["organizations"]
            return "GET", f"/cards/{rng.choice(cards)}/sections/{name}/", b"", f"{session}; rapport_js=1"
        if scenario == "organization_page":
            return "GET", f"/cards/{rng.choice(user['organizations'])}/", b"", session
        if scenario == "fact":
            item = rng.choice(data["facts"])
            body = {"item": item["item"], "value": rng.choice(item["values"]), "source": data["source"]}
            return "POST", f"/api/v1/people/{rng.choice(user['people'])}/facts", json.dumps(body).encode(), ""
        if scenario == "list":
            return "GET", f"/api/v1/people?tier={rng.choice('ABC')}&limit=50", b"", ""
        if scenario == "timeline":
            return "GET", f"/api/v1/people/{rng.choice(user['people'])}/timeline", b"", ""
        raise SystemExit(f"unknown scenario {scenario!r}")

    def call(method: str, path: str, token: str, body: bytes, cookie: str) -> int:
        status: list[str] = []

        def start_response(line: str, headers: Any, *exc_info: Any) -> Any:
            status.append(line)

        chunks = application(environ(method, path, token=token, body=body, cookie=cookie), start_response)
        try:
            b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return int(status[0].split()[0])

    print(f"database: {connection.vendor}, {args.requests} requests per scenario, load average {os.getloadavg()}")
    for scenario in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
        for n in range(20):  # warm: imports, schema, caches, the kept connection
            call(*request(scenario, n))
        clock = QueryClock()
        profiler = cProfile.Profile() if args.cprofile else None
        statuses: Counter[int] = Counter()
        cpu: list[float] = []
        wall: list[float] = []
        with connection.execute_wrapper(clock):
            for n in range(args.requests):
                req = request(scenario, n)
                c0, w0 = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                statuses[call(*req)] += 1
                if profiler:
                    profiler.disable()
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
        k = args.requests
        print(f"\n== {scenario}: statuses {dict(statuses)}; CPU {1000 * sum(cpu) / k:.2f} ms/request "
              f"(median {1000 * statistics.median(cpu):.2f}), wall {1000 * sum(wall) / k:.2f} ms "
              f"(p95 {1000 * sorted(wall)[int(k * 0.95)]:.2f}); {clock.count / k:.1f} queries, "
              f"{1000 * clock.seconds / k:.2f} ms in them per request; load average {os.getloadavg()[0]:.2f}")
        for shape, spent in sorted(clock.time_by_sql.items(), key=lambda kv: -kv[1])[: args.queries]:
            print(f"   {1000 * spent / k:6.2f} ms  x{clock.by_sql[shape] / k:.2f}  {shape}")
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(args.cprofile)
            stats.sort_stats("tottime").print_stats(args.cprofile)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
