"""Settings, read from the environment (contract section 1).

The embedded default (no DATABASE_URL, no REDIS_URL) is a SQLite file and an in-process cache:
right for one process on one machine. Production sets DATABASE_URL and REDIS_URL.

The helpers below turn the environment's text into each setting's type, and refuse text of the
wrong type (the import fails). Formats, ranges and relations are system checks
(config/checks.py), which see a setting whatever set it: the environment, or a settings module
built on this one (tests/settings.py, bench/settings.py).
"""

import contextlib
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.api.docs import API_DESCRIPTION, TAGS
from config.formats import parse_email_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    normalized = value.strip().lower()
    if normalized in {"1", "true", "yes", "on"}:
        return True
    if normalized in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_number(name: str, default: float) -> float:
    """The number in `name` (an int when whole); its range is checked by config/checks.py."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    return int(number) if number.is_integer() else number


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string (python -c "
            "'import secrets; print(secrets.token_urlsafe(50))'), or set DEBUG=true for local work."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "config.apps.LoopbackAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config.apps.ProjectConfig",
    "config.accounts",
    "config.outbound",
    "conversations",
    "actions",
    "notifications",
]

MIDDLEWARE = [
    "config.api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.api.middleware.ApiGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
]

# Database: a SQLite file unless DATABASE_URL says otherwise. PostgreSQL keeps its connections
# open across requests (with a health check), so a request does not pay for a new connection.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True),
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Parameters travel apart from the SQL, so psycopg prepares a statement the connection has
        # run five times and PostgreSQL stops parsing and planning the hot ones on every request.
        # Prepared statements belong to one server connection: behind PgBouncer in transaction
        # mode (before 1.21, or without max_prepared_statements) set this to false.
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "server_side_binding": env_bool("DATABASE_SERVER_SIDE_BINDING", default=True),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "db.sqlite3"),
            # Writers wait for each other instead of failing with "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and rate limits: Redis when REDIS_URL is set, so limits hold across processes and hosts.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "loopback"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
    SILENCED_SYSTEM_CHECKS: list[str] = []
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "loopback"}}
    # The in-process cache is shared by every thread of the one process the embedded default runs,
    # which is all django-ratelimit needs there. Production sets REDIS_URL, where these checks pass;
    # config.checks reports the in-process cache itself under check --deploy.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = False

# Outbound requests (webhooks, triggers) refuse non-public addresses unless this is true.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", default=False)
# How long an idle outbound connection may wait to be reused; 0 opens one per request.
OUTBOUND_KEEP_ALIVE_SECONDS = env_number("OUTBOUND_KEEP_ALIVE_SECONDS", default=1.0)
# Webhook timeout, lease, retry schedule and polling: defaults in config/outbound/conf.py.
# After a webhook secret is rotated, the previous one keeps signing (beside the new) this long: a
# DURATION (config/formats.py), checked at start.
WEBHOOK_SECRET_OVERLAP = os.environ.get("WEBHOOK_SECRET_OVERLAP", "24h")
# Fernet keys that encrypt webhook secrets at rest: the first encrypts, every one decrypts. Unset:
# one key derived from SECRET_KEY (config/accounts/encryption.py); checked at start.
WEBHOOK_SECRET_KEYS = env_list("WEBHOOK_SECRET_KEYS", [])

ACTIONS_TRIGGER_RATE = os.environ.get("ACTIONS_TRIGGER_RATE", "600/m")

# E-mail to the people asked (contract 9). With EMAIL_URL each e-mail is stored with its
# notification and sent by the deliver_webhooks workers; without it none is queued, and with
# DEBUG on each is printed to the console once its notification is committed. The three are
# checked by config.E017-E021 (config/checks.py).
EMAIL_URL = os.environ.get("EMAIL_URL", "")
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
EMAIL_DELIVERY = "console" if DEBUG else "off"
if EMAIL_URL:
    EMAIL_DELIVERY = "outbox"
    # A URL that does not parse leaves the console mailer: config.E019 refuses to start, saying why.
    with contextlib.suppress(ValueError):
        MAILERS = {"default": parse_email_url(EMAIL_URL)}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Loopback <loopback@localhost>")
# Where people reach the inbox: the links in the e-mails start with it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

# Retention (contract 8), applied by `purge_data`: a DURATION, or 0 to keep forever; the format
# is checked by config/checks.py.
RETAIN_WEBHOOK_PAYLOADS = os.environ.get("RETAIN_WEBHOOK_PAYLOADS", "").strip() or "30d"
RETAIN_NOTIFICATIONS = os.environ.get("RETAIN_NOTIFICATIONS", "").strip() or "0"
RETAIN_EXECUTIONS = os.environ.get("RETAIN_EXECUTIONS", "").strip() or "0"
# The key of the digests that erasure records keep instead of visitor ids; unset, a key derived
# from SECRET_KEY (and SECRET_KEY_FALLBACKS, so a record stays findable across a key rotation).
ERASURE_DIGEST_KEY = os.environ.get("ERASURE_DIGEST_KEY", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and times on the server's pages: one format, in UTC and saying so (config/locale_formats).
FORMAT_MODULE_PATH = ["config.locale_formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Bodies of the JSON APIs are capped at 64 KiB (contract section 0).
API_MAX_BODY_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# CORS: only the public widget routes are open to other origins, without credentials.
CORS_URLS_REGEX = r"^/v1/public/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False

# Django's database sessions and model backend, each with its hot lookup compiled once.
SESSION_ENGINE = "config.accounts.sessions"
AUTHENTICATION_BACKENDS = ["config.accounts.backends.ModelBackend"]

# Production-safe defaults whenever DEBUG is off.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a load balancer that terminates TLS and appends the caller to X-Forwarded-For.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Per-address rate limits: the balancer's forwarded hop when behind one, never an error when the
# address is unknown.
RATELIMIT_IP_META_KEY = "config.api.client_ip.client_ip"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", default=0)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    # A view that does not say who may call it serves nobody (config.api.views' bases say it).
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.DenyAll"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsing.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "config.api.handlers.drf_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loopback API",
    "DESCRIPTION": API_DESCRIPTION,
    "TAGS": TAGS,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventStatusEnum": "config.outbound.models.WebhookEvent.Status",
        "WebhookReplayStatusEnum": [("failed", "Failed"), ("delivered", "Delivered")],
    },
}

# JSON lines on standard error; the request id rides on every line a request produces.
# Checked here, not by a system check: Django configures logging before any check can run.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.api.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "config.api.logging.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": sys.stderr,
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Our middleware writes one line per request; Django's own request lines would repeat it
        # (and django.server would print the query string).
        "django.request": {"level": "ERROR", "propagate": True},
        "django.server": {"level": "WARNING", "propagate": True},
    },
}
