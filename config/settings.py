"""Parley's one settings file.

Every value a deployment may change comes from an environment variable, read through the small
typed helpers below. A bad value stops the process at start-up with a message naming the variable,
rather than surfacing later as a confusing error. The README lists every variable.
"""

import datetime
import math
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw == "":
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value: use one of "
        f"{', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS))}."
    )


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    raw = env_str(name)
    if raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url_path(name: str, default: str) -> str:
    """A URL prefix such as `admin/` or `editors/desk/`: relative, ending in a slash."""
    raw = env_str(name) or default
    if raw.startswith("/") or not raw.endswith("/") or "//" in raw or " " in raw:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be a relative path ending in a slash, such as 'admin/'."
        )
    return raw


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = env_str(name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_seconds(name: str, default: float) -> float:
    """A positive duration in seconds, such as `2` or `0.5`."""
    raw = env_str(name)
    if raw == "":
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds < math.inf):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a positive number of seconds, such as 1.5.")
    return seconds


def env_rate(name: str, default: str) -> str | None:
    """A request rate as Django REST framework's throttles take it, `120/min` (per s, min, hour or
    day), or `off` for none."""
    raw = env_str(name) or default
    if raw.lower() == "off":
        return None
    number, _, period = raw.partition("/")
    if (
        not number.isdigit()
        or int(number) < 1
        or period not in {"s", "sec", "min", "hour", "day", "m", "h", "d"}
    ):
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be a rate such as 120/min (per s, min, hour or day), or off."
        )
    return raw


def env_header(name: str) -> tuple[str, str] | None:
    """A request header and the value that marks a request as secure: `HTTP_X_FORWARDED_PROTO=https`."""
    raw = env_str(name)
    if raw == "":
        return None
    header, _, value = raw.partition("=")
    if not header.startswith("HTTP_") or not value:
        raise ImproperlyConfigured(f"{name}={raw!r} must look like HTTP_X_FORWARDED_PROTO=https.")
    return header, value


POOL_MIN_SIZE = 4  # PostgreSQL connections each server process keeps open (psycopg's default)


def database_from_url(url: str) -> dict:
    """The default database: a SQLite file in the project folder unless DATABASE_URL names another.
    On PostgreSQL, also how long to wait for it (DATABASE_CONNECT_TIMEOUT, DATABASE_POOL_TIMEOUT)."""
    if url == "":
        url = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    try:
        database = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django can use: {error}") from error
    engine = database["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        # Each server thread keeps its connection: a new one per request would start with an empty
        # page cache and a fresh memory map, which a large download would then have to fill again.
        database["CONN_MAX_AGE"] = None
        database["OPTIONS"] = {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on
            # the busy timeout instead of one failing with "database is locked" halfway through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # WAL lets readers carry on while a write is in progress. Reading the file through a
            # memory map instead of a read() call per page speeds up the large joins of the downloads;
            # the map takes up to 1 GiB of address space, not of memory.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824;"
            ),
        }
    elif engine == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        # An unreachable database must fail a request within a couple of seconds, not psycopg's 30:
        # a load balancer takes a /healthz that does not answer for a timeout, not for a 503.
        # libpq gives up connecting after connect_timeout (whole seconds, 2 at least; a
        # ?connect_timeout= in the URL wins); a request gives up waiting for a connection from the
        # pool after the pool's timeout.
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", default=2, minimum=2))
        # Django's own psycopg pool; it requires CONN_MAX_AGE = 0, which parse() above sets. A thread
        # holds its connection for the whole request, a long download included, so the pool has room
        # for every thread of a worker (gunicorn's --threads, WEB_THREADS in the Makefile): then the
        # timeout only ever waits for the database, never for another reader's download to end.
        threads = env_int("WEB_THREADS", default=8, minimum=1)
        # Each pooled connection is checked (an empty query, one round trip) as a request takes it
        # (psycopg_pool's check, which Django turns on with this): after a database restart every
        # pooled connection is dead, and without the check each would fail one request before the
        # pool dropped it.
        database["CONN_HEALTH_CHECKS"] = True
        options["pool"] = {
            "min_size": POOL_MIN_SIZE,
            "max_size": max(threads, POOL_MIN_SIZE),
            "timeout": env_seconds("DATABASE_POOL_TIMEOUT", default=1.5),
        }
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL names the {engine} backend; Parley runs on SQLite or PostgreSQL."
        )
    return database


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. Set it to a long random "
            "string, for example the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Only for local development: sessions signed with it are worthless anywhere else.
    SECRET_KEY = "parley-insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS. Off in debug; on by default in production, each switchable for the setup in front of Parley.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a proxy that ends TLS, e.g. DJANGO_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO=https. Set it only when
# the proxy always sets or overwrites that header, or clients could claim HTTPS themselves.
SECURE_PROXY_SSL_HEADER = env_header("DJANGO_PROXY_SSL_HEADER")

ADMIN_URL = env_url_path("ADMIN_URL", default="admin/")
# Where a login goes when its `next` is missing or refused (another site's address): the editors'
# desk, rather than Django's default /accounts/profile/, which Parley does not have.
LOGIN_REDIRECT_URL = "admin:index"

# Where the full dataset zip offered at /downloads/ is cached between changes to the archive.
DOWNLOADS_DIR = Path(env_str("DOWNLOADS_DIR") or BASE_DIR / "var" / "downloads")
# Where releases' zips are kept for ever: back this folder up (README, "Data").
RELEASES_DIR = Path(env_str("RELEASES_DIR") or BASE_DIR / "var" / "releases")
# The site's public address, https://parley.example.org: written into the releases cut from the
# command line (a release cut in the admin takes the address the chief editor used).
SITE_URL = env_str("SITE_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    # Nested inlines in the admin: a round's delegations with their seats, on the round's page.
    "nested_admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so runserver serves static files the way production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    # The read-only API under /api/v1/ (talks/api/): its views, its generated OpenAPI document, the
    # documentation page's own copy of Swagger UI (no CDN under the CSP), and CORS for its GETs.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "simple_history",
    "axes",
    "sources",
    "talks",
]

MIDDLEWARE = [
    # First, as django-cors-headers asks, so that its headers are on every answer under /api/.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.RejectNulBytesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change in the history.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a refusal page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so that it can refuse a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): after 5 failures for one user name from one address, logins from
# there are refused for 15 minutes. Attempts are kept in the database, shared by every app server.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every command's output

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # The fragments pages repeat most (see config/jinja2.py), rendered through the tags of
        # talks/templatetags/parley.py: claim cards, the issue page's table, a round's sources.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": database_from_url(env_str("DATABASE_URL"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed file names so browsers can cache static files for ever. The tests swap
    # in the plain storage (tests/conftest.py) because they run without collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Content-Security-Policy (django-csp): public pages load only Parley's own files, with no inline
# script or style. The admin is Django's and needs inline script, so it is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": [f"/{ADMIN_URL}"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "style-src": [SELF],
        "script-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The read-only API (talks/api/). Anyone may read it, from any site's pages: CORS allows GET, HEAD
# and OPTIONS from every origin under /api/ only; the rest of the site sends no CORS headers.
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_EXPOSE_HEADERS = ("Link", "Retry-After")
# Requests a client may make (by address): DRF's AnonRateThrottle counts them in Django's cache.
# The default cache is each process's own memory, so with N server processes a client gets up to
# N times the rate: configure a shared cache (CACHES) across app servers for an exact limit.
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", default="120/min")
# How many proxies in front of Parley append to X-Forwarded-For: the client's address is read
# that many entries from the end. 0 (the default) uses the connection's address, which a client
# cannot forge.
API_NUM_PROXIES = env_int("API_NUM_PROXIES", default=0, minimum=0)
API_MAX_PAGE_SIZE = 100
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],  # public and read-only: no sessions, no CSRF
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": ["talks.api.errors.ClientThrottle"],
    "NUM_PROXIES": API_NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "talks.api.errors.json_errors",
    "DEFAULT_VERSIONING_CLASS": None,
    # `format` is the rounds list's filter (bilateral, ...), not a choice of renderer: JSON only.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": "The published archive of peace-talk rounds, read-only. Filters take the same "
    "parameters as the lists on the site and their downloads.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from static files: the CSP allows no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DatePrecisionEnum": "sources.record_base.DatePrecision",
        "DelegationRoleEnum": "talks.models.Delegation.Role",
        "SeatRoleEnum": "talks.models.Membership.Role",
    },
}

# Logs go to standard output, where the process manager collects them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}
    },
    "root": {"handlers": ["stdout"], "level": env_str("DJANGO_LOG_LEVEL") or "INFO"},
}
