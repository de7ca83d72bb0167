"""Settings shared by every environment. Everything configurable comes from the
environment (see README's table and .env.example); nothing secret lives here."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF

from tavern import embedded
from tavern.task_queues import celery_queue_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# An empty variable means "the default" (.env.example lists every one, empty). Left in
# place, django-environ would read "" (a failed int(), a throttle rate of "" that turns
# throttling off) and so would the plain os.environ readers (TAVERN_VAR_DIR): forget it.
for _name in [name for name, value in os.environ.items() if value == ""]:
    del os.environ[_name]

VAR_DIR = embedded.var_dir()

DEBUG = env.bool("DEBUG", default=False)


def _development_secret_key() -> str:
    """A key generated once per checkout, for development and tests only."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()


def _development_field_key() -> str:
    from cryptography.fernet import Fernet

    path = VAR_DIR / "field_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


# Fernet keys for provider API keys at rest; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [_development_field_key()]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "tavern.apps.TavernConfig",
    "accounts",
    "characters",
    "chats",
    "marketplace",
    "community",
    "extensions",
    "media.apps.MediaConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "django_celery_results",
    "csp",
    "axes",
    "corsheaders",
    "django_prometheus",
]

MIDDLEWARE = [
    # Request counts and latencies by view, from the first middleware to the last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "tavern.request_context.RequestIdMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tavern.request_context.UserContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "tavern.urls"
WSGI_APPLICATION = "tavern.wsgi.application"
ASGI_APPLICATION = "tavern.asgi.application"
SITE_ID = 1

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
                "tavern.context_processors.site",
            ],
        },
    },
]

# ---------------------------------------------------------------- data stores


def _connection_settings(database: dict[str, Any]) -> dict[str, Any]:
    """The same connection options for the primary and its replica."""
    # Kept connections: a chat turn makes several short database calls from worker threads.
    database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    # Fuzzy name search: a typo ("Serafina") still finds "Seraphina" through the trigram index.
    database.setdefault("OPTIONS", {})["options"] = (
        "-c pg_trgm.word_similarity_threshold=0.4 -c hnsw.ef_search=100"
    )
    return database


if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": _connection_settings(env.db("DATABASE_URL"))}
else:
    DATABASES = {"default": _connection_settings(embedded.postgres_database_settings())}
# A streaming replica of the primary: only reads inside `reading_from_replica()` go there,
# outside any transaction (tavern/db_router.py); writes and migrations never do.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = _connection_settings(env.db("DATABASE_REPLICA_URL"))
DATABASE_ROUTERS = ["tavern.db_router.PrimaryReplicaRouter"]
# The alias `reading_from_replica()` reads from; empty: there is none, every read is the primary's.
DATABASE_READ_REPLICA = "replica" if "replica" in DATABASES else ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="") or embedded.redis_url()
REDIS_KEY_PREFIX = "tavern"  # our own keys (quotas, live replies, trending); the cache has its own

CACHES = {
    "default": {
        "BACKEND": "tavern.cache.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tavern",
        "TIMEOUT": 300,
    }
}

# No CHANNEL_LAYERS: sockets hear live events on tavern.realtime.bus (one Redis Pub/Sub
# channel per chat or user, delivered in-process first), never through a channel layer.

# ---------------------------------------------------------------- Celery


def _celery_broker_url(redis_url: str) -> str:
    # kombu names Unix-socket Redis "redis+socket://"
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or _celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# One queue per kind of work (chat, embeddings, jobs, default), so a flood of one kind
# never starves another: tavern/task_queues.py routes the tasks, README tells how to run
# a worker per queue.
_QUEUES = celery_queue_settings()
CELERY_TASK_DEFAULT_QUEUE = _QUEUES["CELERY_TASK_DEFAULT_QUEUE"]
CELERY_TASK_QUEUES = _QUEUES["CELERY_TASK_QUEUES"]
CELERY_TASK_ROUTES = _QUEUES["CELERY_TASK_ROUTES"]

# ---------------------------------------------------------------- auth

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # accounts/lockout.py: a locked-out address or account checks no password, on any path
    "accounts.lockout.AddressLockoutBackend",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Failed sign-ins are limited by accounts/lockout.py for every way in, not by allauth.
ACCOUNT_RATE_LIMITS = {"login_failed": False, "signup": "20/h/ip"}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# A new password signs every other device out (accounts/forms.py).
ACCOUNT_FORMS = {
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
}
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
# Google and Discord appear only when their credentials are configured.
for _provider in ("google", "discord"):
    _client_id = env.str(f"{_provider.upper()}_CLIENT_ID", default="")
    _secret = env.str(f"{_provider.upper()}_CLIENT_SECRET", default="")
    if _client_id and _secret:
        INSTALLED_APPS.append(f"allauth.socialaccount.providers.{_provider}")
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": _secret, "key": ""}],
            "SCOPE": ["profile", "email"] if _provider == "google" else ["identify", "email"],
        }

# `/metrics` (tavern/metrics_endpoint.py): off unless one is set; either lets a scraper in.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# Who may speak for the client in X-Forwarded-For (tavern/client_ip.py): none by default.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
LOGIN_FAILURES_PER_IP = env.str("LOGIN_FAILURES_PER_IP", default="30/15m")
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_ACCOUNT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "accounts.lockout.account_identifier"
AXES_CLIENT_IP_CALLABLE = "tavern.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Axes counts per account only; per address is accounts/lockout.py's own moving window
# (a different, higher limit: one office or phone network shares an address).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tavern <noreply@tavern.local>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# ---------------------------------------------------------------- API

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "tavern.api.parsers.CheckedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "tavern.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "tavern.api.throttling.AnonThrottle",
        "tavern.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "auth": env.str("API_THROTTLE_AUTH", default="20/min"),
    },
    "EXCEPTION_HANDLER": "tavern.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME", default=14 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,  # the token view sends user_logged_in, which updates it
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a digest of the password hash: a password change or reset ends them all.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tavern API",
    "DESCRIPTION": "Characters, chats and community of Tavern. Authenticate with a JWT "
    "(POST /api/v1/auth/token/) or a personal API key, both as `Authorization: Bearer ...`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tavern.api.schema_errors.error_responses_add",
    ],
}

# Browser apps on other origins that may call the API (tokens, never cookies): none by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|v1)/.*$"
CORS_ALLOW_CREDENTIALS = False

# ---------------------------------------------------------------- i18n, files

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=2 * 1024 * 1024)
CHAT_IMPORT_MAX_BYTES = env.int("CHAT_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
PRESET_MAX_BYTES = 1024 * 1024

# Request bodies are refused before they are read. The web server (tavern/http_server.py)
# answers 413 to any body over MAX_REQUEST_BODY_BYTES: a little above the largest upload
# accepted, a SillyTavern chat of CHAT_IMPORT_MAX_BYTES. Below it, each endpoint has its own
# limit (tavern/http_limits.py): REQUEST_BODY_LIMIT_DEFAULT unless it takes uploads.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=52 * 1024 * 1024)
REQUEST_BODY_LIMIT_DEFAULT = env.int("REQUEST_BODY_LIMIT_DEFAULT", default=1024 * 1024)

if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
    # Files nobody downloads (a background job's upload, until the job ends): another prefix
    # of the same private bucket.
    _private_storage = {**_default_storage, "OPTIONS": {**_default_storage["OPTIONS"], "location": "private"}}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    # Outside MEDIA_ROOT: nothing serving media (DEBUG's URLs, a web server) ever serves them.
    _private_storage = {"BACKEND": "tavern.storage.PrivateFileSystemStorage"}
PRIVATE_FILES_ROOT = VAR_DIR / "private"
STORAGES = {
    "default": _default_storage,
    "private": _private_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# manage.py backup / restore (tavern/backups/): where archives go, and how many of them
# `backup` keeps there (it deletes the oldest it made beyond that; 0 keeps all). Never
# inside MEDIA_ROOT, where they would be served: `backup` refuses that.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default="") or VAR_DIR / "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)

# ---------------------------------------------------------------- security

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Requests to URLs that users give (model connections) refuse loopback, private,
# link-local, multicast, reserved and cloud metadata addresses (tavern/outbound/).
# Private networks (a local Ollama, llama.cpp, KoboldCpp) are allowed when this is on;
# unset, it follows DEBUG, read when used (production forces DEBUG off).
OUTBOUND_ALLOW_PRIVATE_NETWORKS: bool | None = env.bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", default=None)
# Host names (exact), IP addresses and CIDR networks always allowed, e.g. "ollama,10.0.5.0/24".
OUTBOUND_ALLOWED_HOSTS: list[str] = env.list("OUTBOUND_ALLOWED_HOSTS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# ---------------------------------------------------------------- logging

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "tavern.request_context.RequestContextFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
        "axes": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------- Tavern

API_KEY_PREFIX = "tvn_"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "tavern-demo"  # noqa: S105 - the documented demo login, only created by seed_demo
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "tavern-admin"  # noqa: S105 - created only when DEBUG is on
# What an import may bring, whatever the way in (API, page, background job, command):
# a card or world file (and all a CHARX unpacks to), a chat file and its messages, the
# entries of one lorebook. Per-field limits live beside the services (<app>/limits.py).
CARD_MAX_BYTES = env.int("CARD_MAX_BYTES", default=20 * 1024 * 1024)
CHAT_IMPORT_MAX_MESSAGES = env.int("CHAT_IMPORT_MAX_MESSAGES", default=200_000)
LOREBOOK_MAX_ENTRIES = env.int("LOREBOOK_MAX_ENTRIES", default=10_000)
# Imports up to these sizes are done in the request (201); bigger ones become background
# jobs (202 and a job to poll), so no request spends a minute importing.
IMPORT_SYNC_MAX_BYTES = env.int("IMPORT_SYNC_MAX_BYTES", default=1024 * 1024)
IMPORT_SYNC_MAX_LOREBOOK_ENTRIES = env.int("IMPORT_SYNC_MAX_LOREBOOK_ENTRIES", default=500)
IMPORT_SYNC_MAX_CHAT_MESSAGES = env.int("IMPORT_SYNC_MAX_CHAT_MESSAGES", default=2_000)
TAVERN_EMBEDDINGS = {
    "provider": env.str("EMBEDDINGS_PROVIDER", default="local"),
    "base_url": env.str("EMBEDDINGS_BASE_URL", default=""),
    "api_key": env.str("EMBEDDINGS_API_KEY", default=""),
    "model": env.str("EMBEDDINGS_MODEL", default="text-embedding-3-small"),
}
# Per subscription tier: generations a minute and tokens a day (0 = unlimited).
TAVERN_TIER_LIMITS = {
    "free": {
        "messages_per_minute": env.int("LIMIT_FREE_PER_MINUTE", default=20),
        "tokens_per_day": env.int("LIMIT_FREE_TOKENS_PER_DAY", default=300_000),
    },
    "plus": {"messages_per_minute": 60, "tokens_per_day": 3_000_000},
    "pro": {"messages_per_minute": 120, "tokens_per_day": 0},
}
# How long a staff user's logged access to one private chat lasts (accounts.AuditEntry).
PRIVATE_CONTENT_ACCESS_MINUTES = env.int("PRIVATE_CONTENT_ACCESS_MINUTES", default=30)
# The offline demo provider's pace (tokens a second); 0 streams at once.
OFFLINE_TOKENS_PER_SECOND = env.int("OFFLINE_TOKENS_PER_SECOND", default=30)
# Sockets one user may hold open at once, over every process (tavern/realtime/socket_limits.py).
WEBSOCKETS_PER_USER = env.int("WEBSOCKETS_PER_USER", default=20)
# Streamed tokens closer together than this travel to sockets as one event. 0.01 s: a token
# at 50 a second goes alone (30 chats on one process: p50 added delay 1 ms, against 17 ms
# at 0.03 s); a faster provider's tokens travel a few to an event.
TOKEN_BATCH_SECONDS = env.float("TOKEN_BATCH_SECONDS", default=0.01)
CELERY_BEAT_SCHEDULE = {
    "characters-embed-stale": {"task": "characters.embed_stale", "schedule": 15 * 60},
    "jobs-resend-queued": {"task": "tavern.jobs_resend_queued", "schedule": 5 * 60},
}
