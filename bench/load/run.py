"""Load test of ``rapport serve``: a real server in worker processes, driven by Locust.

    python -m bench.load.run [--db sqlite|postgres] [--people 100000] [--reuse]
                             [--workers N] [--threads T] [--duration 30] [--scenarios floor,card_read,search,day,writers]

Builds the data with ``bench.cards`` (people, a fifth as many organisations, facts, teams and
users), starts ``rapport serve`` as a subprocess on a free port, and runs each scenario with
Locust, headless and bounded in time:

- ``floor`` and ``card_read``: a plain Django view (``/favicon.ico``, whole middleware) and then
  ``GET /api/v1/people/{id}``, 8 users each without pause: the ratio of their throughputs;
- ``search``: ``POST /api/v1/search`` with name prefixes, 8 users;
- ``day``: 50 users through a sales team's day (searches, card reads through the API and the
  HTML card page, logging calls, adding facts, lists, timelines) with pauses between clicks;
  a card page is opened as a browser with scripts opens it: the first screen, then the
  sections in view, as htmx asks for them (``locustfile.SECTIONS_IN_VIEW``);
- ``writers``: 20 users logging activities without pause for ``--writers-duration`` seconds;
  afterwards every id the server acknowledged is looked up in the database (lost writes) and
  "database is locked" is searched for in the answers and the server's log.

Each scenario reports req/s, p50/p95/p99, errors, the CPU per request of the server, of PostgreSQL's
processes and of Locust, and the resident memory of each worker (from /proc). Results: bench/results/load-<db>-<size>.json. The benchmark users
are exempted from the API rate limit through RAPPORT_RATE_LIMIT_EXEMPT, as a deployment would.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import common

# From the issue; ratios are measured against the plain view in the same server run.
TARGETS = {
    "card_read_vs_plain_view_min": 0.40, "card_read_p99_ms": 50, "search_vs_plain_view_min": 0.15,
    "search_p99_ms": 100, "day_p95_ms": 150, "day_errors": 0, "writers_lost": 0, "writers_locked": 0,
    "worker_rss_mb_max": 250,
}
SCENARIOS = {  # name: simulated users
    "floor": 8, "card_read": 8, "search": 8, "day": 50, "writers": 20,
}
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


# --- data --------------------------------------------------------------------------------------


def build_data(args: argparse.Namespace) -> Any:
    from bench import cards
    from rapport.cards.models import Card

    world = cards.build_world()
    existing = Card.objects.count()
    if existing:
        print(f"reusing {existing:,} cards", flush=True)
        return world
    create_args = argparse.Namespace(
        people=args.people, organizations=args.organizations, facts_per_card=5, seed=7, batch_size=5000,
        progress_every=50_000, cache_mb=512, profile=False,
    )
    cards.create(create_args, world)
    cards.settle(args.db)
    return world


def fixture(world: Any, *, samples: int = 300) -> dict[str, Any]:
    """What the simulated users need: per bench user a token, a signed-in session, visible ids."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from rapport.accounts.services import create_token
    from rapport.cards.models import Card
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import ItemType, Sensitivity
    from rapport.core.visibility import visible_to

    rng = random.Random(11)
    users = [world.admin]
    for _team, _market, reps, manager in world.teams[:4]:
        users.extend([reps[0], reps[1], manager])
    profiles = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        visible = visible_to(user)
        people = _sample(visible.filter(kind="person"), rng, samples)
        organizations = _sample(visible.filter(kind="organization"), rng, samples // 3)
        names = Card.objects.filter(pk__in=people).values_list("family_name", flat=True)
        prefixes = sorted({n.split(" ")[0][:3] for n in names if len(n) >= 3})
        profiles.append({
            "username": user.username, "role": user.role, "token": create_token(user=user, name="load test"),
            "session": session.session_key, "people": people, "organizations": organizations, "prefixes": prefixes,
        })
    items = [
        {"item": i.key, "values": [c["key"] for c in i.choices]}
        for i in catalog.items().values()
        if i.type == ItemType.CHOICE and i.applies_to in ("any", "person") and i.choices
        and i.sensitivity in (Sensitivity.PUBLIC, Sensitivity.INTERNAL)
    ]
    source = next(k for k in catalog.sources() if k not in ("import", "api", "demo"))
    return {"users": profiles, "facts": items[:20], "source": source}


def _sample(qs: Any, rng: random.Random, n: int) -> list[int]:
    top = qs.order_by("-id").values_list("id", flat=True).first() or 0
    bottom = qs.order_by("id").values_list("id", flat=True).first() or 0
    ids: set[int] = set()
    for _ in range(20):
        probe = [rng.randint(bottom, top) for _ in range(n * 3)]
        ids.update(qs.filter(pk__in=probe).values_list("id", flat=True)[: n - len(ids)])
        if len(ids) >= n:
            break
    return sorted(ids)


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``rapport serve`` as a subprocess, with its workers' CPU time and memory read from /proc."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        # No recycling of workers during the run: their CPU time and memory are read per process,
        # and the memory target is about a worker that has lived through the whole load.
        command = [sys.executable, "-m", "rapport.cli", "serve", "--port", str(self.port),
                   "--max-requests", "0"]
        if args.threads:
            command += ["--threads", str(args.threads)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        self.process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"rapport serve stopped: see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/login/", timeout=2) as answer:
                    if answer.status == 200 and len(self.workers()) >= 1:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"rapport serve did not answer within {timeout} s: see {self.log}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    @staticmethod
    def _status(pid: int) -> dict[str, int]:
        values = {}
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    values[key] = int(rest.split()[0]) // 1024  # kB → MB
        except OSError:
            pass
        return values

    @staticmethod
    def _cpu_times(pid: int) -> tuple[float, float]:
        """User and system CPU seconds of a process."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tick = os.sysconf("SC_CLK_TCK")
            return int(fields[11]) / tick, int(fields[12]) / tick
        except (OSError, IndexError, ValueError):
            return 0.0, 0.0

    @classmethod
    def _cpu_seconds(cls, pid: int) -> float:
        return sum(cls._cpu_times(pid))

    def cpu_seconds(self) -> float:
        return sum(self._cpu_seconds(pid) for pid in self.workers())

    def cpu_by_worker(self) -> dict[int, tuple[float, float]]:
        return {pid: self._cpu_times(pid) for pid in self.workers()}

    def memory(self) -> dict[str, Any]:
        per_worker = {pid: self._status(pid) for pid in self.workers()}
        return {
            "workers": len(per_worker),
            "rss_mb": sorted(v.get("VmRSS", 0) for v in per_worker.values()),
            "rss_anon_mb": sorted(v.get("RssAnon", 0) for v in per_worker.values()),
            "rss_file_mb": sorted(v.get("RssFile", 0) for v in per_worker.values()),
            "peak_rss_mb": max((v.get("VmHWM", 0) for v in per_worker.values()), default=0),
            "master_rss_mb": self._status(self.process.pid).get("VmRSS", 0),
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --- scenarios ---------------------------------------------------------------------------------


def run_locust(scenario: str, users: int, seconds: int, server: Server, fixture_path: Path, work: Path) -> dict[str, Any]:
    prefix = work / scenario
    out = work / f"{scenario}-out.json"
    env = {**os.environ, "LOAD_SCENARIO": scenario, "LOAD_FIXTURE": str(fixture_path), "LOAD_OUT": str(out)}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
               "-t", f"{seconds}s", "--host", server.url, "--csv", str(prefix), "--only-summary", "--stop-timeout", "5",
               "--loglevel", "WARNING"]
    cpu_before = server.cpu_seconds()
    by_worker_before = server.cpu_by_worker()
    database_before = database_cpu_seconds()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)
    wall = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    by_worker = {pid: (u - by_worker_before.get(pid, (0.0, 0.0))[0], st - by_worker_before.get(pid, (0.0, 0.0))[1])
                 for pid, (u, st) in server.cpu_by_worker().items()}
    database_cpu = database_cpu_seconds() - database_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8")))
    requests: dict[str, Any] = {}
    for row in rows:
        requests[row["Name"] if row["Name"] != "Aggregated" else "all"] = {
            "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "req_per_s": round(float(row["Requests/s"]), 1), "p50_ms": _num(row["50%"]), "p95_ms": _num(row["95%"]),
            "p99_ms": _num(row["99%"]), "max_ms": _num(row["Max Response Time"]),
        }
    total = requests.get("all", {}).get("requests", 0)
    figures: dict[str, Any] = {
        "users": users, "seconds": seconds, "requests": requests,
        "server_cpu_ms_per_request": round(cpu * 1000 / total, 2) if total else None,
        "server_cpu_share_of_wall": round(cpu / wall, 2),
        # How the clients spread over the workers (each kept-alive client stays with one), and
        # how much of the workers' time the kernel took (sockets, wake-ups).
        "worker_cpu_seconds": sorted(round(u + st, 1) for u, st in by_worker.values()),
        "server_cpu_system_share": round(sum(st for _, st in by_worker.values()) / cpu, 2) if cpu else None,
        # Where the rest of the two cores went: PostgreSQL's server processes (0 on SQLite, which
        # runs inside the workers) and the load generator itself.
        "database_cpu_ms_per_request": round(database_cpu * 1000 / total, 2) if total else None,
        "locust_cpu_ms_per_request": round(locust_cpu * 1000 / total, 2) if total else None,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after
        "memory_after": server.memory(),
    }
    failures = list(csv.DictReader((prefix.parent / f"{prefix.name}_failures.csv").open(encoding="utf-8")))
    if failures:
        figures["failures"] = [{"name": f["Name"], "error": f["Error"][:200], "count": int(f["Occurrences"])} for f in failures[:10]]
    if out.exists():
        figures["written"] = json.loads(out.read_text(encoding="utf-8"))
    if result.returncode not in (0, 1):  # 1: some requests failed, reported above
        figures["locust_error"] = (result.stderr or "")[-2000:]
    return figures


def database_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL server processes, from /proc (0 when none run here)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += Server._cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def _num(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def check_writes(written: dict[str, Any], log: Path) -> dict[str, Any]:
    """What the server acknowledged against what the database holds afterwards."""
    from rapport.activities.models import Activity

    acknowledged = set(written.get("acknowledged", []))
    found: set[int] = set()
    ids = sorted(acknowledged)
    for i in range(0, len(ids), 900):
        found.update(Activity.objects.filter(pk__in=ids[i:i + 900]).values_list("id", flat=True))
    in_log = log.read_text(encoding="utf-8", errors="replace").count("database is locked") if log.exists() else 0
    return {
        "acknowledged": len(acknowledged), "found_in_database": len(found), "lost": len(acknowledged - found),
        "locked_answers": int(written.get("locked_answers", 0)), "server_errors": int(written.get("server_errors", 0)),
        "locked_in_server_log": in_log,
    }


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    def req(scenario: str, name: str = "all") -> dict[str, Any]:
        return figures.get(scenario, {}).get("requests", {}).get(name, {})

    summary: dict[str, Any] = {}
    floor = req("floor").get("req_per_s")
    if floor:
        for scenario, key in (("card_read", "card_read_vs_plain_view_min"), ("search", "search_vs_plain_view_min")):
            if req(scenario):
                ratio = round(req(scenario)["req_per_s"] / floor, 3)
                summary[key] = {"value": ratio, "target": TARGETS[key], "met": ratio >= TARGETS[key]}
    for scenario, key in (("card_read", "card_read_p99_ms"), ("search", "search_p99_ms")):
        if req(scenario):
            value = req(scenario)["p99_ms"]
            summary[key] = {"value": value, "target": TARGETS[key], "met": value is not None and value <= TARGETS[key]}
    if req("day"):
        summary["day_p95_ms"] = {"value": req("day")["p95_ms"], "target": 150, "met": (req("day")["p95_ms"] or 1e9) <= 150}
        summary["day_errors"] = {"value": req("day")["failures"], "target": 0, "met": req("day")["failures"] == 0}
    if "writers" in figures and "check" in figures["writers"]:
        check = figures["writers"]["check"]
        locked = check["locked_answers"] + check["locked_in_server_log"]
        summary["writers_lost"] = {"value": check["lost"], "target": 0, "met": check["lost"] == 0}
        summary["writers_locked"] = {"value": locked, "target": 0, "met": locked == 0}
    rss = [max(f["memory_after"]["rss_mb"] or [0]) for f in figures.values() if isinstance(f, dict) and "memory_after" in f]
    if rss:
        summary["worker_rss_mb_max"] = {"value": max(rss), "target": 250, "met": max(rss) <= 250}
    return summary


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=100_000, help="up to 1,000,000")
    parser.add_argument("--organizations", type=int, default=None, help="default: a fifth of --people")
    parser.add_argument("--reuse", action="store_true", help="keep the benchmark database of an earlier run")
    parser.add_argument("--workers", type=int, default=None, help="rapport serve --workers (default: its own)")
    parser.add_argument("--threads", type=int, default=None, help="rapport serve --threads (default: its own)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per scenario")
    parser.add_argument("--writers-duration", type=int, default=60)
    parser.add_argument("--scenarios", default="floor,card_read,search,day,writers")
    parser.add_argument("--name", help="results file name (default load-<db>-<size>)")
    parser.add_argument("--data", help="benchmark database name (default: --name), so that several runs share one data set")
    args = parser.parse_args(argv)
    if args.organizations is None:
        args.organizations = args.people // 5
    size = args.people + args.organizations
    name = args.name or f"load-{args.db}-{size // 1000}k"
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    target = common.setup(args.data or name, db=args.db, reuse=args.reuse)
    print(f"database: {target}", flush=True)
    world = build_data(args)
    data = fixture(world)
    from django.db import connections

    connections.close_all()
    work = Path(tempfile.mkdtemp(prefix="rapport-load-"))
    fixture_path = work / "fixture.json"
    fixture_path.write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, "RAPPORT_RATE_LIMIT_EXEMPT": ",".join(u["username"] for u in data["users"])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = Server(args, env, work / "server.log")
    figures: dict[str, Any] = {}
    try:
        server.wait_ready()
        figures["server"] = {"workers": len(server.workers()), "threads": args.threads or "default", "memory_at_start": server.memory()}
        print(f"server: {server.url}, {figures['server']['workers']} workers", flush=True)
        for scenario in scenarios:
            seconds = args.writers_duration if scenario == "writers" else args.duration
            figures[scenario] = run_locust(scenario, SCENARIOS[scenario], seconds, server, fixture_path, work)
            if scenario == "writers" and "written" in figures[scenario]:
                figures[scenario]["check"] = check_writes(figures[scenario].pop("written"), server.log)
            overall = figures[scenario]["requests"].get("all", {})
            print(f"  {scenario}: {overall.get('req_per_s')} req/s, p50 {overall.get('p50_ms')} ms, "
                  f"p95 {overall.get('p95_ms')} ms, p99 {overall.get('p99_ms')} ms, {overall.get('failures')} failures, "
                  f"CPU per request: server {figures[scenario]['server_cpu_ms_per_request']} ms, "
                  f"database {figures[scenario]['database_cpu_ms_per_request']} ms, "
                  f"Locust {figures[scenario]['locust_cpu_ms_per_request']} ms, "
                  f"per worker {figures[scenario]['worker_cpu_seconds']} s ({figures[scenario]['server_cpu_system_share']} system), "
                  f"worker RSS {figures[scenario]['memory_after']['rss_mb']} MB, "
                  f"load average {figures[scenario]['load_average_1min']}", flush=True)
            if "check" in figures[scenario]:
                print(f"  writers: {figures[scenario]['check']}", flush=True)
    finally:
        server.stop()
    figures["summary"] = summarise(figures)
    parameters = {k: v for k, v in vars(args).items() if k != "name"}
    path = common.write_results(name, parameters=parameters, figures=figures, targets=TARGETS)
    for key, verdict in figures["summary"].items():
        print(f"{key}: {verdict['value']} (target {verdict['target']}) {'OK' if verdict['met'] else 'MISSED'}")
    print(f"results: {path}; server log and Locust files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
