"""Django settings for Rapport, read from the environment.

SQLite in ``RAPPORT_HOME`` is the default; ``DATABASE_URL`` switches to PostgreSQL.
``RAPPORT_ENV=production`` turns on the hardened settings checked by ``check --deploy``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from rapport.core.env import env_bool, env_int, env_list, env_str, rapport_home

BASE_DIR = Path(__file__).resolve().parent
HOME = rapport_home()

PRODUCTION = env_str("RAPPORT_ENV") == "production"
DEBUG = env_bool("RAPPORT_DEBUG", default=False)


def _secret_key() -> str:
    """The secret key from the environment, else (outside production) one kept in RAPPORT_HOME
    so sessions survive restarts."""
    key = env_str("RAPPORT_SECRET_KEY").strip()
    if PRODUCTION and len(key) < 50:
        # A key made up on the spot would differ between servers and vanish with RAPPORT_HOME:
        # production refuses to start rather than sign sessions with it.
        raise SystemExit(
            "rapport: RAPPORT_ENV=production needs RAPPORT_SECRET_KEY, at least 50 characters "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if key:
        return key
    path = HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("RAPPORT_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("RAPPORT_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page (Swagger UI) from local static files
    "rapport.core",
    "rapport.accounts",
    "rapport.catalog",
    "rapport.cards",
    "rapport.activities",
    "rapport.search",
    "rapport.relationships",
    "rapport.dedup",
    "rapport.quality",
    "rapport.audit",
    "rapport.privacy",
    "rapport.imports",
    "rapport.funnel",
    "rapport.segments",
    "rapport.commerce",
    "rapport.aftersales",
    "rapport.deals",
    "rapport.visits",
    "rapport.analytics",
    "rapport.agenda",
    "rapport.screenpop",
    "rapport.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rapport.audit.context.RequestIdMiddleware",
    "rapport.privacy.read_audit.ReadAuditMiddleware",  # confidential reads logged before the answer leaves
    "rapport.core.middleware.SecurityHeadersMiddleware",
    "rapport.core.middleware.ApiJsonMiddleware",  # the API answers JSON, whatever refused the request
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "rapport.accounts.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Signed-in pages read their user with the user's teams in one statement. Django's own backend
# stays listed so that sessions opened under it before stay signed in.
AUTHENTICATION_BACKENDS = ["rapport.accounts.backends.TeamsBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "rapport.urls"
WSGI_APPLICATION = "rapport.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Form fields are drawn by Django's own widget templates in their Jinja2 version (rapport.core.forms):
# a person's card page (its first screen, two forms) took 16 % less CPU than with the template language.
FORM_RENDERER = "rapport.core.forms.FormRenderer"

_database_url = env_str("DATABASE_URL")
# Connections are kept between requests (each worker thread holds one): opening one costs a
# connect, the PRAGMAs below and a fresh read of the schema, several times a cheap query.
_conn_max_age = env_int("RAPPORT_CONN_MAX_AGE", 600)
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=_conn_max_age, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a kept connection's health check skipped while it is in use
        # (rapport/core/postgresql).
        DATABASES["default"]["ENGINE"] = "rapport.core.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {})
        if env_bool("RAPPORT_DB_TRANSACTION_POOLER"):
            # PgBouncer in transaction mode hands each transaction any server connection: a
            # server-side cursor opened by one would be missing in the next, and it refuses a
            # connection that sends startup options (docs/deploy.md: JIT is turned off on the
            # database instead).
            DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        else:
            # Short OLTP queries: compiling them with JIT costs more (5–50 ms) than it saves.
            DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
            # Parameters sent apart from the statement, and a statement the connection has run
            # five times prepared, so PostgreSQL stops parsing and planning it on each run: a
            # team's visibility query cost the database 108 µs of CPU a run written out, 24 µs
            # prepared. (A transaction pooler hands each transaction another server connection,
            # where the prepared statement does not exist: hence not with one.)
            if env_bool("RAPPORT_DB_PREPARED_STATEMENTS", default=True):
                DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
                DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
        if env_bool("RAPPORT_DB_POOL"):
            # psycopg's pool inside each worker process (docs/deploy.md): replaces kept
            # connections, so Django must not keep them as well.
            DATABASES["default"]["CONN_MAX_AGE"] = 0
            DATABASES["default"]["OPTIONS"]["pool"] = {
                "min_size": env_int("RAPPORT_DB_POOL_MIN", 2), "max_size": env_int("RAPPORT_DB_POOL_MAX", 8), "timeout": 10,
            }
else:
    # Per connection, so per worker thread: the page cache (kept small so that several worker
    # processes stay within a few hundred MB) and the memory-mapped window of the file (shared
    # by every process through the OS page cache).
    _sqlite_cache_mb = env_int("RAPPORT_SQLITE_CACHE_MB", 8)
    _sqlite_mmap_mb = env_int("RAPPORT_SQLITE_MMAP_MB", 64)
    DATABASES = {
        "default": {
            # Django's SQLite backend, with a process's concurrent writers queued (rapport/core/sqlite).
            "ENGINE": "rapport.core.sqlite",
            "NAME": env_str("RAPPORT_SQLITE_PATH") or str(HOME / "rapport.sqlite3"),
            "CONN_MAX_AGE": _conn_max_age,
            # Spelled out because the engine is ours: test runners recognise an in-memory
            # SQLite test database by Django's engine name or by this.
            "TEST": {"NAME": ":memory:"},
            "OPTIONS": {
                # WAL lets readers proceed while one writer commits; IMMEDIATE takes the write
                # lock at BEGIN so concurrent writers queue on the busy timeout instead of failing.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    f"PRAGMA foreign_keys=ON; PRAGMA cache_size=-{_sqlite_cache_mb * 1024}; PRAGMA temp_store=MEMORY; "
                    f"PRAGMA mmap_size={_sqlite_mmap_mb * 1024 * 1024};"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "agenda-today"  # Today is the rep's home; the customers list stays at "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("zh-hans", _("Simplified Chinese")),
    ("ro", _("Romanian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("RAPPORT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("RAPPORT_STATIC_ROOT") or HOME / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Size limits: oversized input is refused with a clear message, never truncated silently.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
RAPPORT_MAX_TEXT = 10_000  # longest free text (notes, summaries, fact values)
RAPPORT_DEFAULT_REGION = env_str("RAPPORT_DEFAULT_REGION", "ES")
RAPPORT_API_PAGE_MAX = 200
RAPPORT_REGULAR_ORDERS = env_int("RAPPORT_REGULAR_ORDERS", 3)  # N orders in M months make a regular customer
RAPPORT_REGULAR_MONTHS = env_int("RAPPORT_REGULAR_MONTHS", 12)
RAPPORT_DORMANT_FACTOR = 2.0  # dormant after this many usual order intervals without an order
RAPPORT_DORMANT_MIN_DAYS = env_int("RAPPORT_DORMANT_MIN_DAYS", 60)
RAPPORT_REPORTING_CURRENCY = env_str("RAPPORT_REPORTING_CURRENCY", "EUR")  # revenue across currencies (ABC tiers, reports)
# Field visits: the map tile server of the day's route (a URL template such as
# https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty: the stops and route draw without tiles).
RAPPORT_MAP_TILES = env_str("RAPPORT_MAP_TILES")
RAPPORT_COMPANY_NAME = env_str("RAPPORT_COMPANY_NAME", "Rapport")  # signs reminder letters and confirmations
# ABC tiers: the cumulative share of value closing tier A and tier B, e.g. "0.8,0.95".
RAPPORT_TIER_THRESHOLDS = tuple(float(x) for x in env_list("RAPPORT_TIER_THRESHOLDS", ["0.8", "0.95"]))
# Large imports read and check the file in a forked worker process while the importing process
# writes; off, every import runs in one process (slower, the same result).
RAPPORT_IMPORT_WORKER = env_bool("RAPPORT_IMPORT_WORKER", default=True)
RAPPORT_SATISFACTION_AFTER_DAYS = env_int("RAPPORT_SATISFACTION_AFTER_DAYS", 14)  # satisfaction check due this many days after delivery

# Background jobs and the schedule (``rapport worker``, docs/jobs.md). The queue is a SQLite file
# of its own in RAPPORT_HOME (it never takes the main database's write lock), or Redis when
# RAPPORT_QUEUE_URL is redis://…; RAPPORT_QUEUE_IMMEDIATE runs each job at once in the caller.
RAPPORT_QUEUE_URL = env_str("RAPPORT_QUEUE_URL")
HUEY = {
    "name": env_str("RAPPORT_QUEUE_NAME", "rapport"),
    "url": RAPPORT_QUEUE_URL or f"sqlite:///{HOME / 'queue.sqlite3'}",
    "immediate": env_bool("RAPPORT_QUEUE_IMMEDIATE", default=False),
    "workers": env_int("RAPPORT_WORKER_PROCESSES", 2),  # jobs run side by side by one `rapport worker`
}
RAPPORT_JOB_HEARTBEAT_SECONDS = env_int("RAPPORT_JOB_HEARTBEAT_SECONDS", 10)
RAPPORT_JOB_DEAD_AFTER_SECONDS = env_int("RAPPORT_JOB_DEAD_AFTER_SECONDS", 90)  # no heartbeat for this long: its worker died
RAPPORT_JOB_RETRIES = env_int("RAPPORT_JOB_RETRIES", 3)  # tries again after a passing error (database busy, network)
RAPPORT_JOB_RETRY_DELAY = env_int("RAPPORT_JOB_RETRY_DELAY", 15)  # seconds before the first retry, doubled each time
# The daily schedule, as HH:MM in RAPPORT_TIME_ZONE (empty: not scheduled).
RAPPORT_SCHEDULE = {
    "funnel_rules": env_str("RAPPORT_FUNNEL_RULES_AT", "01:30"),
    "segments_refresh": env_str("RAPPORT_SEGMENTS_REFRESH_AT", "02:30"),
    "agenda_remind": env_str("RAPPORT_REMIND_AT", "05:30"),
    "agenda_digest": env_str("RAPPORT_DIGEST_AT", "06:30"),
}
# Exports of lists longer than this many cards are written by the worker and downloaded from the
# job's page by the person who asked; the files are deleted after RAPPORT_EXPORT_KEEP_HOURS.
RAPPORT_EXPORT_INLINE_ROWS = env_int("RAPPORT_EXPORT_INLINE_ROWS", 5000)
RAPPORT_EXPORT_KEEP_HOURS = env_int("RAPPORT_EXPORT_KEEP_HOURS", 48)
RAPPORT_EXPORT_DIR = env_str("RAPPORT_EXPORT_DIR")  # default: RAPPORT_HOME/exports
RAPPORT_BASE_URL = env_str("RAPPORT_BASE_URL")  # this server's address, for links in e-mails sent by the worker

# Privacy and security (issue 4): audit retention in days (0 keeps every entry), the legal
# bases an administrator allows for special-category items besides explicit consent.
RAPPORT_AUDIT_RETENTION_DAYS = env_int("RAPPORT_AUDIT_RETENTION_DAYS", 0)
RAPPORT_SPECIAL_BASES = env_list("RAPPORT_SPECIAL_BASES", ["explicit_consent"])
# API calls per user ("count/period", period s, m, h or d; empty: no limit), and sign-in throttling.
RAPPORT_API_RATE = env_str("RAPPORT_API_RATE", "1200/m")
# Usernames the API rate limit does not apply to (a load test's user, an integration's service
# account), e.g. "bench_admin,erp_sync". Their calls are still authenticated and audited.
RAPPORT_RATE_LIMIT_EXEMPT = env_list("RAPPORT_RATE_LIMIT_EXEMPT")
# How long a worker process trusts what it read of an API token and of its user: active flag,
# role, teams (0: read them on every call). A revocation, deactivation or change of teams
# applies at once in the process that made it, within this many seconds elsewhere.
RAPPORT_TOKEN_CACHE_SECONDS = env_int("RAPPORT_TOKEN_CACHE_SECONDS", 5)
RAPPORT_LOGIN_MAX_FAILURES = env_int("RAPPORT_LOGIN_MAX_FAILURES", 5)
RAPPORT_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("RAPPORT_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
RAPPORT_LOGIN_LOCK_SECONDS = env_int("RAPPORT_LOGIN_LOCK_SECONDS", 900)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; kept default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("RAPPORT_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("RAPPORT_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The addresses (or networks, "10.0.0.0/8") of the TLS-terminating proxies in front of
# ``rapport serve``: only from them are X-Forwarded-Proto/-For/-Host/-Port believed; every
# other peer's copies are dropped. RAPPORT_TRUSTED_PROXY_COUNT: proxies in a chain.
RAPPORT_TRUSTED_PROXIES = env_list("RAPPORT_TRUSTED_PROXIES")
RAPPORT_TRUSTED_PROXY_COUNT = env_int("RAPPORT_TRUSTED_PROXY_COUNT", 1)
if RAPPORT_TRUSTED_PROXIES:
    # The server strips this header from every peer but the trusted proxies (rapport.core.http).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Personal data never reaches a log: every handler drops query strings from request lines
# (a name in an old "?q=" link), and no handler writes request bodies. Django's own "django"
# and "django.server" loggers are redefined so that their default handlers (which print request
# lines as they came, and e-mail error reports with the request's data) are not used.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_query_strings": {"()": "rapport.privacy.logging.StripQueryStrings"},
        "require_debug_true": {"()": "django.utils.log.RequireDebugTrue"},
    },
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_query_strings"]},
        "debug_console": {"class": "logging.StreamHandler", "level": "INFO", "filters": ["require_debug_true", "no_query_strings"]},
        "django.server": {
            "class": "logging.StreamHandler", "level": "INFO", "formatter": "django.server", "filters": ["no_query_strings"],
        },
    },
    "loggers": {
        "django": {"handlers": ["debug_console"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("RAPPORT_LOG_LEVEL", "WARNING")},
}
