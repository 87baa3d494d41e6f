#!/usr/bin/env python3
"""Rapport's developer entry point: needs only Python 3.11+ and its standard library.

    python3 dev.py demo [--host H] [--port P]     demo data, then the server on http://H:P/ and its worker
    python3 dev.py test [options] [pytest args]   SQLite, PostgreSQL, browser, deploy and type checks
    python3 dev.py bench [name] [args]            python -m bench.<name>
    python3 dev.py messages                       update and compile the translation catalogues

Each command first makes sure ``.venv`` exists and holds ``-e .[test]`` for the current
pyproject.toml.
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 11):
    sys.exit(f"Rapport needs Python 3.11 or newer; this is {sys.version.split()[0]}.")

import argparse
import hashlib
import os
import re
import secrets
import shlex
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYPROJECT = ROOT / "pyproject.toml"
STAMP = VENV / ".rapport-pyproject.sha256"

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
CHROMIUM = Path("/usr/bin/chromium")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
PARTS = ("sqlite", "postgresql", "browser", "deploy", "types")
PYTEST_NO_TESTS = 5

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def warn(message: str) -> None:
    print(f"dev.py: WARNING: {message}", flush=True)


# --- virtual environment -------------------------------------------------------------------


def ensure_venv() -> None:
    """Create .venv if needed and (re)install the project only when pyproject.toml changed."""
    python = BIN / "python"
    if not python.exists():
        say(f"creating {VENV.relative_to(ROOT)} with {sys.executable}")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0:
            sys.exit("dev.py: could not create the virtual environment (on Debian: apt-get install python3-venv)")
    wanted = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()
    installed = STAMP.read_text().strip() if STAMP.exists() else ""
    if installed == wanted:
        return
    say("pyproject.toml changed since the last install: pip install -e .[test]")
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", ".[test]"],
        cwd=ROOT,
    )
    if result.returncode != 0:
        sys.exit("dev.py: pip install -e .[test] failed")
    # Written only after success, so a failed install is retried next time.
    STAMP.write_text(wanted + "\n")


def venv_tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        sys.exit(f"dev.py: {path} is missing; delete {STAMP} and run again to reinstall")
    return str(path)


def child_env(**overrides: str | None) -> dict[str, str]:
    """The current environment with overrides applied; None removes a variable."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # so pytest's output streams through our pipe line by line
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


# --- demo ----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, extra: list[str]) -> int:
    ensure_venv()
    rapport = venv_tool("rapport")
    home = os.environ.get("RAPPORT_HOME") or str(ROOT / "var" / "demo")
    env = child_env(RAPPORT_HOME=home)
    say(f"RAPPORT_HOME={home}")
    result = subprocess.run([rapport, "demo"], cwd=ROOT, env=env)
    if result.returncode != 0:
        say("rapport demo failed")
        return result.returncode
    print(
        f"\nOpen http://{args.host}:{args.port}/ and sign in as one of the demo users "
        "printed above by `rapport demo`.\n",
        flush=True,
    )
    # `rapport serve` starts the background worker (imports, duplicate scans, the daily
    # schedule) beside itself and stops it with itself; Ctrl-C reaches both.
    serve = [rapport, "serve", "--host", args.host, "--port", str(args.port), *extra]
    server = subprocess.Popen(serve, cwd=ROOT, env=env)
    while True:
        try:
            return server.wait()
        except KeyboardInterrupt:
            continue  # the server got Ctrl-C too and is stopping


# --- test ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    part: str
    status: str  # "ok", "FAILED", "skipped" or "warning"
    detail: str
    output: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


def run_streamed(cmd: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
    """Run cmd, echoing its output live, and return its exit code and full output."""
    print(f"$ {shlex.join(cmd)}", flush=True)
    lines: list[str] = []
    with subprocess.Popen(
        list(cmd), cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
        code = proc.wait()
    return code, "".join(lines)


def closing_line(output: str) -> str:
    for line in reversed(output.splitlines()):
        text = ANSI.sub("", line).strip().strip("=").strip()
        if text:
            return text
    return "(no output)"


def pytest_counts(output: str) -> dict[str, int]:
    """Counts from pytest's closing summary line, e.g. '3 failed, 40 passed, 2 skipped in 9.1s'."""
    counts: dict[str, int] = {}
    for number, word in PYTEST_COUNT.findall(ANSI.sub("", closing_line(output))):
        key = "failed" if word in ("failed", "error", "errors") else word
        counts[key] = counts.get(key, 0) + int(number)
    return counts


def pytest_part(part: str, pytest_args: Sequence[str], env: Mapping[str, str], *, allow_empty: bool) -> Outcome:
    code, output = run_streamed([venv_tool("pytest"), *pytest_args], env)
    detail = closing_line(output)
    if code == 0:
        return Outcome(part, "ok", detail, output)
    if code == PYTEST_NO_TESTS and allow_empty:
        warn(f"{part}: no tests collected")
        return Outcome(part, "warning", f"no tests collected ({detail})", output)
    return Outcome(part, "FAILED", f"exit {code}: {detail}", output)


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_reachable(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reachable(host, port):
            return True
        time.sleep(0.5)
    return reachable(host, port)


def database_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def postgres_part(pytest_args: Sequence[str], home: str) -> Outcome:
    part = "postgresql"
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    host, port = database_address(url)
    if not reachable(host, port):
        if not in_ci():
            warn(f"PostgreSQL not reachable at {host}:{port}: skipped (set DATABASE_URL or start the server)")
            return Outcome(part, "skipped", f"PostgreSQL not reachable at {host}:{port}")
        say(f"PostgreSQL not reachable at {host}:{port}; starting it: {START_POSTGRES}")
        subprocess.run(START_POSTGRES, shell=True)
        if not wait_reachable(host, port, 30):
            return Outcome(part, "FAILED", f"PostgreSQL not reachable at {host}:{port}, even after starting it")
    env = child_env(DATABASE_URL=url, RAPPORT_HOME=home)
    return pytest_part(part, pytest_args, env, allow_empty=False)


def browser_part(pytest_args: Sequence[str], home: str) -> Outcome:
    part = "browser"
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
        if in_ci():
            return Outcome(part, "FAILED", reason)
        warn(f"browser tests skipped: {reason}")
        return Outcome(part, "skipped", reason)
    env = child_env(DATABASE_URL=None, RAPPORT_HOME=home)
    return pytest_part(part, pytest_args, env, allow_empty=not in_ci())


def deploy_part(home: str) -> Outcome:
    part = "deploy check"
    env = child_env(
        DATABASE_URL=None,
        RAPPORT_HOME=home,
        RAPPORT_ENV="production",
        RAPPORT_SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        RAPPORT_ALLOWED_HOSTS="crm.example.com",
    )
    cmd = [
        venv_tool("python"), "-m", "django", "check", "--deploy",
        "--fail-level", "WARNING", "--settings", "rapport.settings",
    ]
    code, output = run_streamed(cmd, env)
    detail = closing_line(output)
    if code == 0:
        return Outcome(part, "ok", detail, output)
    return Outcome(part, "FAILED", f"exit {code}: {detail}", output)


def types_part(home: str) -> Outcome:
    """mypy with the Django plugin over the whole package: the types are part of the contract."""
    part = "types"
    env = child_env(DATABASE_URL=None, RAPPORT_HOME=home)
    code, output = run_streamed([venv_tool("mypy"), "rapport"], env)
    detail = closing_line(output)
    if code == 0:
        return Outcome(part, "ok", detail, output)
    return Outcome(part, "FAILED", f"exit {code}: {detail}", output)


def selected_parts(args: argparse.Namespace) -> list[str]:
    only = set(args.only or [])
    for part in PARTS:
        if getattr(args, f"{part}_only", False):
            only.add(part)
    chosen = [p for p in PARTS if (not only or p in only) and p not in set(args.skip or [])]
    if not chosen:
        sys.exit("dev.py: --only/--skip left no part to run")
    return chosen


def print_summary(outcomes: list[Outcome]) -> None:
    print("\n" + "=" * 30 + " dev.py test summary " + "=" * 30, flush=True)
    width = max(len(o.part) for o in outcomes)
    for outcome in outcomes:
        print(f"  {outcome.part:<{width}}  {outcome.status:<7}  {outcome.detail}")
    total: dict[str, int] = {}
    for outcome in outcomes:
        for key, value in pytest_counts(outcome.output).items():
            total[key] = total.get(key, 0) + value
    if total:
        # A plain 'N passed, N failed' closing line tells CI how many tests really ran.
        print(f"total: {total.get('passed', 0)} passed, {total.get('failed', 0)} failed, "
              f"{total.get('skipped', 0)} skipped")
    sys.stdout.flush()


def cmd_test(args: argparse.Namespace, extra: list[str]) -> int:
    ensure_venv()
    parts = selected_parts(args)
    # Otherwise xdist workers race to create the secret key file in a fresh RAPPORT_HOME.
    os.environ.setdefault("RAPPORT_SECRET_KEY", secrets.token_urlsafe(48))
    color = ["--color=yes"] if sys.stdout.isatty() else []
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="rapport-test-") as tmp:
        def home(part: str) -> str:
            path = Path(tmp) / part
            path.mkdir(exist_ok=True)
            return str(path)

        unit = ["-n", "2", "-m", "not browser", *color, *extra]
        for part in parts:
            say(f"--- {part} ---")
            if part == "sqlite":
                env = child_env(DATABASE_URL=None, RAPPORT_HOME=home(part))
                outcomes.append(pytest_part(part, unit, env, allow_empty=False))
            elif part == "postgresql":
                outcomes.append(postgres_part(unit, home(part)))
            elif part == "browser":
                outcomes.append(browser_part(["-m", "browser", *color, *extra], home(part)))
            elif part == "types":
                outcomes.append(types_part(home(part)))
            else:
                outcomes.append(deploy_part(home(part)))
    print_summary(outcomes)
    return 1 if any(o.failed for o in outcomes) else 0


# --- bench ---------------------------------------------------------------------------------


def bench_names() -> list[str]:
    folder = ROOT / "bench"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def cmd_bench(args: argparse.Namespace, extra: list[str]) -> int:
    names = bench_names()
    if not args.name:
        print("benchmarks: " + (", ".join(names) if names else "(none yet under bench/)"))
        return 0
    if args.name not in names:
        sys.exit(f"dev.py: no benchmark bench/{args.name}.py (have: {', '.join(names) or 'none'})")
    ensure_venv()
    # Keep benchmark databases out of the user's real RAPPORT_HOME.
    home = os.environ.get("RAPPORT_HOME") or str(ROOT / "var" / "bench")
    env = child_env(RAPPORT_HOME=home)
    return subprocess.run([venv_tool("python"), "-m", f"bench.{args.name}", *extra], cwd=ROOT, env=env).returncode


LANGUAGE_DIRS = ("es", "zh_Hans", "ro")


def cmd_messages(args: argparse.Namespace, extra: list[str]) -> int:
    """Update every translation catalogue, then compile them.

    An app with its own ``locale/`` folder keeps its own catalogue; ``rapport/locale`` holds
    the messages of every other app, so each message lives in exactly one catalogue.
    """
    ensure_venv()
    package = ROOT / "rapport"
    env = child_env(DJANGO_SETTINGS_MODULE="rapport.settings")
    languages = [f"--locale={code}" for code in LANGUAGE_DIRS]
    own = sorted(p.parent for p in package.glob("*/locale") if p.is_dir())
    admin = venv_tool("django-admin")
    for app in own:
        code = subprocess.run([admin, "makemessages", *languages, "--no-location"], cwd=app, env=env).returncode
        if code:
            return code
    ignores = [f"--ignore={app.name}/*" for app in own]
    code = subprocess.run([admin, "makemessages", *languages, "--no-location", *ignores], cwd=package, env=env).returncode
    if code:
        return code
    return subprocess.run([admin, "compilemessages"], cwd=package, env=env).returncode


# --- command line --------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    # allow_abbrev=False so pytest options are never mistaken for abbreviations of ours.
    top = argparse.ArgumentParser(prog="dev.py", description=__doc__, allow_abbrev=False,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", allow_abbrev=False, help="load demo data and serve it",
                          description="Runs `rapport demo`, then `rapport serve` with `rapport worker` beside it; other arguments go to serve.")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    test = sub.add_parser("test", allow_abbrev=False, help="run every test suite",
                          description="Unknown arguments are passed to every pytest run.")
    test.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    test.add_argument("--skip", action="append", choices=PARTS, help="skip this part (repeatable)")
    for part in PARTS:
        flags = [f"--{part}-only", *(["--postgres-only"] if part == "postgresql" else [])]
        test.add_argument(*flags, dest=f"{part}_only", action="store_true", help=f"same as --only {part}")
    test.set_defaults(func=cmd_test)

    bench = sub.add_parser("bench", allow_abbrev=False, help="run a benchmark from bench/",
                           description="Runs python -m bench.NAME; without NAME lists them.")
    bench.add_argument("name", nargs="?")
    bench.set_defaults(func=cmd_bench)

    messages = sub.add_parser("messages", allow_abbrev=False, help="update and compile translations",
                              description="makemessages for every catalogue, then compilemessages.")
    messages.set_defaults(func=cmd_messages)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after a bare "--" goes to the tool untouched.
    passthrough: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1:]
    args, extra = parser().parse_known_args(argv)
    try:
        return int(args.func(args, [*extra, *passthrough]))
    except KeyboardInterrupt:
        print("\ndev.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
