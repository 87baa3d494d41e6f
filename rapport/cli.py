"""The ``rapport`` command line: serving, demo data, users, tokens and the catalog.

Thin by design: each subcommand parses its arguments and calls a service. Errors a user can
fix (bad input, unknown user, missing file) print one clear line to stderr and exit with 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

EXIT_OK = 0
EXIT_USAGE = 2  # like argparse: the user can fix the input and try again

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    # The catalog app loads the shipped catalog after every migrate (post_migrate signal).
    call_command("migrate", interactive=False, verbosity=0)


def _load_before_fork() -> None:
    """Loads in the serving process what every worker would otherwise load on its first requests:
    the URL table with the API's routers and schemas (about 1.5 s of CPU), and for each language
    its translations and its table for reversing URLs (0.05–0.15 s each). The workers forked from
    this process start with them, in memory they share until they write to it; a worker that
    replaces a recycled one answers its first request as fast as the rest. Django's form and
    widget templates are compiled too (about 0.1 s; ``rapport.core.forms``).

    Then every object made so far is moved out of the garbage collector's reach (``gc.freeze``):
    the workers' collections no longer walk them, nor write to the pages that hold them."""
    import gc

    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolver.reverse_dict  # built once per language, on first use
    from rapport.core.forms import load_django_templates

    load_django_templates()
    gc.collect()
    gc.freeze()


def _prepare_database() -> None:
    """Creates or upgrades the tables a command needs, so no command starts on a bare database.

    A fresh RAPPORT_HOME (or an empty PostgreSQL database) is migrated on first use, as
    ``rapport serve`` does; the one line goes to stderr so that stdout stays what scripts capture.
    """
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return
    fresh = "django_migrations" not in connection.introspection.table_names()
    where = _database_label()
    if fresh:
        err.print(f"Preparing a new database in {where} (first use; this takes a moment)…", markup=False)
    else:
        err.print(f"Upgrading the database in {where} ({len(plan)} migrations)…", markup=False)
    _migrate()


def _database_label() -> str:
    from django.db import connection

    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite":
        return name
    host = connection.settings_dict.get("HOST") or "localhost"
    return f"{connection.vendor} database {name!r} on {host}"


# --- subcommands ------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate()
    out.print("Database is up to date.")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    if args.workers is not None and args.workers < 1 or args.threads < 1 or args.timeout < 1:
        raise _usage("--workers, --threads and --timeout take a number of 1 or more.")
    if args.max_requests < 0:
        raise _usage("--max-requests takes a number of 0 (never replace a worker) or more.")
    _migrate()  # once, here, before any worker starts
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    from rapport.core.http import behind_proxies
    from rapport.wsgi import application

    # Proxy headers are sorted out by behind_proxies (believed from RAPPORT_TRUSTED_PROXIES only,
    # dropped from anyone else), so the server itself must neither believe nor clear them.
    try:
        app = behind_proxies(application, settings.RAPPORT_TRUSTED_PROXIES, count=settings.RAPPORT_TRUSTED_PROXY_COUNT)
    except ValueError as exc:
        raise _usage(str(exc)) from None
    _load_before_fork()
    # The workers are forked from this process: none may inherit its database connection.
    connections.close_all()
    queue_worker = start_queue_worker() if args.queue_worker else None
    server_pid = os.getpid()  # the web workers forked below leave through this function too
    try:
        try:
            from rapport.core.serving import RapportServer
        except ImportError:  # no fork on this system (Windows): gunicorn cannot run there
            return _serve_with_waitress(app, args)
        options = gunicorn_options(args)
        out.print(
            f"Rapport is serving on http://{_url_host(args.host)}:{args.port}/ with {options['workers']} worker processes "
            f"of {options['threads']} threads  (Ctrl+C stops it)"
        )
        RapportServer(app, options).run()
        return EXIT_OK
    finally:
        if queue_worker is not None and os.getpid() == server_pid:
            stop_queue_worker(queue_worker)


def start_queue_worker() -> Any:
    """``rapport worker`` beside the server, so that imports, duplicate scans and the daily
    schedule run on a single machine without a second command."""
    import subprocess

    out.print("The background worker runs beside the server (imports, duplicate scans, the daily schedule).")
    return subprocess.Popen([sys.executable, "-m", "rapport.cli", "worker", "--workers", "1"])


def stop_queue_worker(process: Any) -> None:
    import subprocess

    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def default_workers() -> int:
    """Two worker processes per core (of 2 threads each, ``--threads``), and at least two, so that
    one slow request never holds up the rest. A request is mostly Python, which runs one thread
    at a time per process: on two cores, 4 workers of 2 threads served 45–47 % more card reads
    per second than 2 workers of 4 (bench/README.md)."""
    return max(2, 2 * (os.cpu_count() or 1))


def gunicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    """The gunicorn settings of ``rapport serve``."""
    workers = args.workers or default_workers()
    return {
        "bind": [f"{_url_host(args.host)}:{args.port}"],
        "workers": workers,
        "threads": args.threads,
        "worker_class": "gthread" if args.threads > 1 else "sync",
        "timeout": args.timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
        # connections over them evenly. On one shared socket the worker that wakes first takes
        # several at once, and kept-alive clients stay with it: with eight clients, as often
        # as not six or more of them sat on one worker, which can use only one core.
        "reuse_port": True,
        # A worker is replaced after this many requests (staggered by the jitter), so a slow
        # leak in any library cannot grow a worker's memory without bound.
        "max_requests": args.max_requests,
        "max_requests_jitter": args.max_requests // 10,
        # The application (Django, the URL table, the catalog) is loaded once and shared by the
        # forked workers' memory until they write to it.
        "preload_app": True,
        # rapport.core.http.behind_proxies decides which peers' X-Forwarded-* count.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        # No access log: request lines may carry personal data in query strings (see LOGGING).
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "rapport",
    }


def _serve_with_waitress(app: Any, args: argparse.Namespace) -> int:
    import waitress

    threads = max(args.threads, 8)
    err.print("gunicorn cannot run on this system; serving with waitress in one process instead.", markup=False)
    out.print(f"Rapport is serving on http://{_url_host(args.host)}:{args.port}/  (Ctrl+C stops it)")
    waitress.serve(app, host=args.host, port=args.port, threads=threads, clear_untrusted_proxy_headers=False)
    return EXIT_OK


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def cmd_demo(args: argparse.Namespace) -> int:
    from rapport.cards import demo

    if args.organizations < 0 or args.people < 0:
        raise _usage("--organizations and --people take a number of 0 or more.")
    _migrate()
    with err.status("Creating demo data…"):
        result = demo.generate(organizations=args.organizations, people=args.people, seed=args.seed)
    if result.skipped:
        out.print("Demo data is already there (user 'admin' exists); nothing was created.")
    else:
        out.print(
            f"Created {_count(result.organizations)} organisations, {_count(result.people)} people, "
            f"{_count(result.facts)} facts, {_count(result.activities)} activities and "
            f"{_count(result.duplicates)} deliberate duplicates."
        )
    table = Table(title="Demo sign-ins", show_lines=False)
    for column in ("username", "role", "member of", "manages", "sensitive data"):
        table.add_column(column)
    for login in demo.LOGINS:
        table.add_row(
            login.username, login.role, ", ".join(login.teams), ", ".join(login.manages), "yes" if login.sensitive else ""
        )
    out.print(table)
    out.print(f"Password for every demo user: {demo.DEMO_PASSWORD}")
    out.print("Serve it with `rapport serve` (http://127.0.0.1:8000/ unless --host or --port say otherwise).")
    return EXIT_OK


def _count(n: int) -> str:
    """A count with the digit grouping of the terminal's locale (LC_ALL, LC_NUMERIC, LANG): 2,245 or 2.245."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import format_decimal

    raw = next((os.environ[v] for v in ("LC_ALL", "LC_NUMERIC", "LANG") if os.environ.get(v)), "")
    code = raw.split(".")[0].split("@")[0]
    try:
        locale = Locale.parse(code) if code and code not in ("C", "POSIX") else Locale.parse("en")
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        locale = Locale.parse("en")
    return format_decimal(n, locale=locale)


def cmd_user_create(args: argparse.Namespace) -> int:
    from rapport.accounts.services import create_user

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _usage("--password-stdin was given but stdin held no password.")
    user = create_user(
        username=args.username,
        role=args.role,
        password=password,
        teams=args.team or [],
        manages=args.manages or [],
        email=args.email or "",
    )
    note = "" if password else " (no password: sign-in only through a token or after a reset)"
    out.print(f"Created user {user.username} ({user.role}){note}.", markup=False)
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace) -> int:
    from rapport.accounts.selectors import list_users

    users = list_users(include_inactive=args.all)
    if not users:
        out.print("No users yet. Create one with: rapport user create USERNAME --role admin --password-stdin")
        return EXIT_OK
    table = Table(show_lines=False)
    for column in ("username", "role", "member of", "manages", "sensitive data", "active", "last sign-in"):
        table.add_column(column, no_wrap=column in ("username", "role"))
    from django.utils import timezone
    from rich.text import Text

    for user in users:
        cells = (
            user.username,
            user.role,
            ", ".join(team.name for team in user.teams.all()),
            ", ".join(team.name for team in user.managed_teams.all()),
            "yes" if user.can_see_special else "",
            "yes" if user.is_active else "no",
            timezone.localtime(user.last_login).strftime("%Y-%m-%d %H:%M") if user.last_login else "never",
        )
        table.add_row(*(Text(cell) for cell in cells))  # Text: a team named "[bold]" stays literal
    out.print(table)
    return EXIT_OK


def cmd_user_set_password(args: argparse.Namespace) -> int:
    from rapport.accounts.services import get_user, set_password

    user = get_user(args.username)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"New password for {user.username}: ")
        if password != getpass.getpass("The same password again: "):
            raise _usage("The two passwords differ; nothing was changed.")
    else:
        raise _usage("Give --password-stdin to read the password from stdin, or run this in a terminal.")
    if not password:
        raise _usage("No password was given; nothing was changed.")
    set_password(user=user, password=password)
    out.print(f"Password of {user.username} changed.", markup=False)
    return EXIT_OK


def cmd_user_grant(args: argparse.Namespace) -> int:
    return _set_clearance(args.username, granted=True)


def cmd_user_revoke(args: argparse.Namespace) -> int:
    return _set_clearance(args.username, granted=False)


def _set_clearance(username: str, *, granted: bool) -> int:
    from rapport.accounts.services import get_user, set_special_clearance

    user = set_special_clearance(user=get_user(username), granted=granted)
    verb = "may now read" if granted else "may no longer read"
    out.print(f"{user.username} {verb} special-category (sensitive) items.", markup=False)
    return EXIT_OK


def cmd_token_create(args: argparse.Namespace) -> int:
    from rapport.accounts.services import create_token, get_user

    if args.days is not None and args.days <= 0:
        raise _usage("--days takes a positive number of days.")
    user = get_user(args.username)
    # Only the token on stdout, so scripts can capture it: TOKEN=$(rapport token create ana)
    print(create_token(user=user, name=args.name or "", days=args.days, scope=args.scope))
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from rapport.accounts.services import get_user, revoke_token

    count = revoke_token(user=get_user(args.username), prefix=args.prefix)
    out.print(f"Revoked {count} token(s).")
    return EXIT_OK


def cmd_catalog_load(args: argparse.Namespace) -> int:
    from rapport.catalog.services import DATA_DIR, load_catalog

    items = Path(args.items) if args.items else DATA_DIR / "items.yaml"
    sources = Path(args.sources) if args.sources else DATA_DIR / "sources.yaml"
    for path in (items, sources):
        if not path.is_file():
            raise _usage(f"No such file: {path}")
    try:
        counts = load_catalog(items_path=items, sources_path=sources)
    except (KeyError, TypeError, AttributeError) as exc:
        # A YAML file that parses but lacks the expected shape (e.g. an item without "key").
        raise _usage(f"The catalog files are malformed ({type(exc).__name__}: {exc}).") from None
    out.print(f"Catalog loaded: {counts['items']} items, {counts['sources']} sources.")
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------------


class UsageError(Exception):
    """Bad arguments found after parsing (e.g. an empty password on stdin)."""


def _usage(message: str) -> UsageError:
    return UsageError(message)


def viewer(username: str | None) -> Any:
    """Whose view a command shows: the named active user, else the first administrator."""
    from rapport.accounts.models import User

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise _usage(f"No active user {username!r}.")
        return user
    user = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    if user is None:
        raise _usage("No administrator exists; name a user with --user.")
    return user


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport",
        description="Rapport CRM: serve the web app and API, load demo data, manage users and tokens.",
        epilog="Data lives in RAPPORT_HOME (default ~/.local/share/rapport); DATABASE_URL selects PostgreSQL.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func, prog=p.prog)
        return p

    serve = command(
        "serve", cmd_serve,
        "Apply migrations, then serve the web app and API with gunicorn: several worker processes, "
        "each with a few threads. Where gunicorn cannot run (Windows), waitress serves in one process instead.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--no-worker", dest="queue_worker", action="store_false",
                       help="do not start `rapport worker` beside the server (when workers run elsewhere)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help=f"worker processes (default: two per core, at least 2; here {default_workers()})")
    serve.add_argument("--threads", type=int, default=2, metavar="T", help="threads per worker (default: 2)")
    serve.add_argument("--timeout", type=int, default=120, metavar="S",
                       help="a worker silent for this many seconds is restarted (default: 120)")
    serve.add_argument("--max-requests", type=int, default=10_000, metavar="N",
                       help="replace a worker after about this many requests (default: 10000; 0: never)")

    demo = command("demo", cmd_demo, "Create multilingual demo teams, users, customers, facts and activities.")
    demo.add_argument("--organizations", type=int, default=60, metavar="N")
    demo.add_argument("--people", type=int, default=300, metavar="M")
    demo.add_argument("--seed", type=int, default=42, metavar="S", help="same seed, same data")

    command("migrate", cmd_migrate, "Create or upgrade the database tables (and load the shipped catalog).")

    user = sub.add_parser("user", help="Create and list users, set passwords, grant clearances.")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = command("create", cmd_user_create, "Create a user with a role and teams.", user_sub)
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=["rep", "manager", "admin", "analyst"])
    create.add_argument("--team", action="extend", nargs="+", metavar="TEAM", help="teams the user belongs to")
    create.add_argument("--manages", action="extend", nargs="+", metavar="TEAM", help="teams a manager manages")
    create.add_argument("--email")
    create.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of stdin; without it the password is unusable",
    )
    user_list = command("list", cmd_user_list, "List the users with their role, teams and last sign-in.", user_sub)
    user_list.add_argument("--all", action="store_true", help="also the deactivated users")
    set_pw = command("set-password", cmd_user_set_password, "Set a user's password (asked twice in a terminal).", user_sub)
    set_pw.add_argument("username")
    set_pw.add_argument("--password-stdin", action="store_true", help="read the new password from the first line of stdin")
    for name, func, verb in (("grant", cmd_user_grant, "Grant"), ("revoke", cmd_user_revoke, "Revoke")):
        p = command(name, func, f"{verb} a clearance: 'sensitive' is the special-category (GDPR art. 9) clearance.", user_sub)
        p.add_argument("username")
        p.add_argument("clearance", choices=["sensitive"])

    token = sub.add_parser("token", help="Issue API tokens.")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    token_create = command("create", cmd_token_create, "Issue a bearer token for a user and print it (only once).", token_sub)
    token_create.add_argument("username")
    token_create.add_argument("--name", help="what the token is for")
    token_create.add_argument("--days", type=int, help="expire after this many days (default: never)")
    token_create.add_argument("--scope", choices=["read", "write", "admin"], default="write",
                              help="read: GET only; write: the user's everyday rights; admin: also administration")
    token_revoke = command("revoke", cmd_token_revoke, "Revoke a user's token by its first characters.", token_sub)
    token_revoke.add_argument("username")
    token_revoke.add_argument("prefix", help="the token's first characters (at least 6)")

    catalog = sub.add_parser("catalog", help="Load the information catalog.")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    load = command("load", cmd_catalog_load, "Create or update catalog items and sources from YAML (never deletes).", catalog_sub)
    load.add_argument("--items", metavar="FILE", help="items YAML (default: the shipped catalog)")
    load.add_argument("--sources", metavar="FILE", help="sources YAML (default: the shipped catalog)")

    for module in _app_command_modules():
        module.register(sub, command)
    return parser


def _app_command_modules() -> list[Any]:
    """Each domain app may bring subcommands in ``rapport/<app>/cli.py``.

    Such a module defines ``register(subparsers, command)``, where ``command(name, func,
    help_text, parent=subparsers)`` adds a subcommand whose ``func(args) -> int`` runs after
    Django is set up (so the module imports models inside its functions, not at the top).
    """
    import importlib

    package = Path(__file__).resolve().parent
    names = sorted(path.parent.name for path in package.glob("*/cli.py"))
    return [importlib.import_module(f"rapport.{name}.cli") for name in names]


def _describe(exc: BaseException) -> str:
    from rapport.core.errors import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{' '.join(messages)}" if field == "__all__" else f"{field}: {' '.join(messages)}"
            for field, messages in exc.errors.items()
        )
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _setup_django()
    from django.core.management.base import CommandError
    from django.db import OperationalError, ProgrammingError
    from yaml import YAMLError

    from rapport.core.errors import DomainError

    try:
        if func not in _PREPARES_ITS_OWN_DATABASE:
            _prepare_database()
        return func(args)
    except (DomainError, UsageError, CommandError, YAMLError, OSError) as exc:
        err.print(f"{args.prog}: {_describe(exc)}", markup=False)
        return EXIT_USAGE
    except (OperationalError, ProgrammingError) as exc:
        # Unreachable server, wrong credentials, or tables missing because a migrate failed.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(f"{args.prog}: the database is not ready ({first}). Check DATABASE_URL / RAPPORT_HOME, then run: rapport migrate", markup=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("Interrupted.")
        return 130


# These migrate on their own (serve and demo before anything else), so main() leaves them be.
_PREPARES_ITS_OWN_DATABASE = {cmd_migrate, cmd_serve, cmd_demo}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
