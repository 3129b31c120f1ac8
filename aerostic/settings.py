"""Aerostic settings: every value from the environment (see README "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from aerostic.core.config import (
    ai_chat_defaults,
    alert_thresholds,
    development_secrets,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_url,
    production_email_url,
    refuse_public_hosts_in_development,
    refuse_sandbox_in_production,
    replica_database,
    require_in_production,
    s3_media_storage,
)
from aerostic.core.crypto import parse_key_ring
from aerostic.core.db_session import with_session_limits
from aerostic.core.error_tracking import init_error_tracking
from aerostic.core.logging import logging_config
from aerostic.settings_constants import (  # noqa: F401
    MIGRATION_MODULES,
    SPECTACULAR_SETTINGS,
    WAFFLE_ENABLE_ADMIN_PAGES,
    WAFFLE_FLAG_MODEL,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# A local .env (git-ignored) may hold overrides; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env_choice("DJANGO_ENV", ["development", "staging", "production"], "development")
IS_PRODUCTION = DJANGO_ENV == "production"
# Staging has production's hardening (IS_DEPLOYED) on its own data; IS_PRODUCTION: no sandbox, no banner.
IS_DEPLOYED = DJANGO_ENV != "development"

if IS_DEPLOYED:
    require_in_production(
        ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "META_APP_SECRET", "ALLOWED_HOSTS"],
        environment=DJANGO_ENV,
    )
    _dev_secrets: dict[str, str] = {}
else:
    _dev_secrets = development_secrets(Path(env_str("DEV_SECRETS_FILE", str(BASE_DIR / ".data" / "dev-secrets.json"))))


def _secret(name: str) -> str:
    return env_str(name) or _dev_secrets.get(name, "")


DEBUG = env_bool("DEBUG", default=not IS_DEPLOYED)
if IS_DEPLOYED and DEBUG:
    raise ImproperlyConfigured(f"DEBUG must be false when DJANGO_ENV={DJANGO_ENV}.")

SECRET_KEY = _secret("SECRET_KEY")
TOKEN_ENCRYPTION_KEYS = _secret("TOKEN_ENCRYPTION_KEYS")
parse_key_ring(TOKEN_ENCRYPTION_KEYS)  # a malformed key ring stops start-up, naming the variable
BLIND_INDEX_KEY = _secret("BLIND_INDEX_KEY")
META_APP_SECRET = _secret("META_APP_SECRET")
META_WEBHOOK_VERIFY_TOKEN = _secret("META_WEBHOOK_VERIFY_TOKEN")
META_APP_ID = env_str("META_APP_ID")
META_GRAPH_API_VERSION = env_str("META_GRAPH_API_VERSION", "v23.0")
META_GRAPH_BASE_URL = env_str("META_GRAPH_BASE_URL", "https://graph.facebook.com")
META_EMBEDDED_SIGNUP_CONFIG_ID = env_str("META_EMBEDDED_SIGNUP_CONFIG_ID")
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", default=not IS_PRODUCTION)
refuse_sandbox_in_production(IS_PRODUCTION, SANDBOX_ENABLED)
# Outside production these WABAs are refused unless ALLOW_PRODUCTION_WABA (never test on production).
PRODUCTION_WABA_IDS = env_list("PRODUCTION_WABA_IDS")
ALLOW_PRODUCTION_WABA = env_bool("ALLOW_PRODUCTION_WABA", False)
META_SANDBOX_URL = env_str("META_SANDBOX_URL", "http://127.0.0.1:8765").rstrip("/")
# Off lifts the per-number send rate of *sandbox* numbers only (benchmarks); real ones keep Meta's.
SANDBOX_RATE_LIMITS = env_bool("SANDBOX_RATE_LIMITS", default=True)
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Per client IP and minute: POSTs failing the signature check before 429 (signed ones never count).
WEBHOOK_RATE_PER_MINUTE = env_int("WEBHOOK_RATE_PER_MINUTE", 1000, minimum=1)
# A body must arrive within this many seconds (408), and a web worker reads at most this many at once (503).
WEBHOOK_BODY_TIMEOUT_SECONDS = env_int("WEBHOOK_BODY_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_MAX_CONCURRENT_READS = env_int("WEBHOOK_MAX_CONCURRENT_READS", 256, minimum=1)
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 30, minimum=1)
WEBHOOK_DRAINERS = env_int("WEBHOOK_DRAINERS", 2, minimum=1)
# Events a drainer processes in one transaction (webhooks/batches.py): this many or WEBHOOK_BATCH_MS.
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 500, minimum=1)
WEBHOOK_BATCH_MS = env_int("WEBHOOK_BATCH_MS", 1000, minimum=10)
# Postgres connections each web worker keeps for storing webhooks (whatsapp/webhooks/asgi.py).
WEBHOOK_INTAKE_DB_CONNECTIONS = env_int("WEBHOOK_INTAKE_DB_CONNECTIONS", 4, minimum=1)
# Group commit (whatsapp/webhooks/group_commit.py): concurrent deliveries stored in one INSERT + commit; a
# group goes when nothing else commits, at GROUP_MAX (ids fit one Redis call), or WINDOW_MS after its first.
WEBHOOK_GROUP_MAX = env_int("WEBHOOK_GROUP_MAX", 256, minimum=1, maximum=1000)
WEBHOOK_GROUP_WINDOW_MS = env_int("WEBHOOK_GROUP_WINDOW_MS", 2, minimum=0)
# Contacts: the largest CSV accepted for import (a clear error above it).
CONTACT_IMPORT_MAX_BYTES = env_int("CONTACT_IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
# An upload never run is deleted, and an import's error report cleared, this long after.
CONTACT_IMPORT_RETENTION_HOURS = env_int("CONTACT_IMPORT_RETENTION_HOURS", 72, minimum=1)
# Bytes past the import limit are kept neither in memory nor on disk (the first handler drops them).
FILE_UPLOAD_HANDLERS = [
    "contacts.importing.upload.UploadSizeCap",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Billing: a prepaid workspace below its credit limit cannot launch and its campaigns pause (off: no).
BILLING_ENFORCE_BALANCE = env_bool("BILLING_ENFORCE_BALANCE", default=True)
# Meta batches up to 1,000 updates in one POST: let request.body hold a whole webhook.
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BYTES + 1024
GRAPH_CONNECT_TIMEOUT_SECONDS = env_int("GRAPH_CONNECT_TIMEOUT_SECONDS", 3, minimum=1)
GRAPH_READ_TIMEOUT_SECONDS = env_int("GRAPH_READ_TIMEOUT_SECONDS", 8, minimum=1)
GRAPH_MAX_ATTEMPTS = env_int("GRAPH_MAX_ATTEMPTS", 3, minimum=1)
GRAPH_BACKOFF_BASE_SECONDS = 0.5
GRAPH_BACKOFF_CAP_SECONDS = 8.0
GRAPH_BREAKER_THRESHOLD = env_int("GRAPH_BREAKER_THRESHOLD", 5, minimum=1)
GRAPH_BREAKER_WINDOW_SECONDS = 60
GRAPH_BREAKER_COOLDOWN_SECONDS = env_int("GRAPH_BREAKER_COOLDOWN_SECONDS", 30, minimum=1)
# Per-workspace limits on templates (abuse: Meta judges the WABA by what it is sent for review).
TEMPLATE_CREATES_PER_HOUR = env_int("TEMPLATE_CREATES_PER_HOUR", 30, minimum=1)
TEMPLATE_CREATES_PER_DAY = env_int("TEMPLATE_CREATES_PER_DAY", 200, minimum=1)
TEMPLATE_SUBMITS_PER_HOUR = env_int("TEMPLATE_SUBMITS_PER_HOUR", 30, minimum=1)
TEMPLATE_SUBMITS_PER_DAY = env_int("TEMPLATE_SUBMITS_PER_DAY", 100, minimum=1)
# A person's live Graph checks (connection, validate, template sync): one per workspace and kind per this.
WHATSAPP_LIVE_CHECK_COOLDOWN_SECONDS = env_int("WHATSAPP_LIVE_CHECK_COOLDOWN_SECONDS", 30, minimum=1)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
if not IS_DEPLOYED:
    refuse_public_hosts_in_development(ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Proxies appending to X-Forwarded-For: the client is the N-th address from the right (0: ignored).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "aerostic.core.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "guardian",
    "axes",
    "auditlog",
    "django_htmx",
    "template_partials",
    "waffle",
    "aerostic.core",
    "accounts",
    "tenants",
    "compliance",
    "contacts",
    "whatsapp",
    "campaigns",
    "inbox",
    "billing",
    "aerostic.apps.FrameConfig",  # the project frame: seed_demo (it imports every app above)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aerostic.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "aerostic.core.middleware.AuditlogMiddleware",
    "tenants.middleware.TenantMiddleware",
    # Axes must be last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aerostic.urls"
WSGI_APPLICATION = "aerostic.wsgi.application"

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
                "tenants.context_processors.portal",
                "aerostic.core.context_processors.environment",
            ],
        },
    }
]

# --- Database: one Postgres for all tenants; the app role is subject to row-level security.
_database_url = env_url(
    "DATABASE_URL",
    schemes=("postgres", "postgresql", "pgsql"),
    hint="`make run` and `make test` start an embedded PostgreSQL and set it for you.",
)
DATABASES = {"default": environ.Env.db_url_config(_database_url)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env_bool("DB_POOL", False):
    # ASGI runs each request in a new thread whose persistent connection lingers: a pool per process.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env_int("DB_POOL_MAX_SIZE", 8, minimum=1),
        "timeout": 10,  # seconds a request waits for a free connection before it fails (a 500)
    }
# Long transactions are a no-go (aerostic/core/db_session.py); `migrate` lifts these; 0 is off.
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 30_000, minimum=0)
DB_WORKER_STATEMENT_TIMEOUT_MS = env_int("DB_WORKER_STATEMENT_TIMEOUT_MS", 300_000, minimum=0)
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000, minimum=0)
with_session_limits(DATABASES["default"], DB_STATEMENT_TIMEOUT_MS, DB_IDLE_IN_TRANSACTION_TIMEOUT_MS)
READYZ_LONG_TRANSACTION_SECONDS = env_int("READYZ_LONG_TRANSACTION_SECONDS", 60, minimum=1)
# /metrics: a bearer token, or a scraper in one of these networks (development: this machine).
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", [] if IS_DEPLOYED else ["127.0.0.0/8", "::1/128"])
# The backup job touches this file after each good dump (docs/operations.md; production_readiness).
BACKUP_STATUS_FILE, BACKUP_MAX_AGE_HOURS = env_str("BACKUP_STATUS_FILE"), env_int("BACKUP_MAX_AGE_HOURS", 26, minimum=1)
SENTRY_DSN, SENTRY_RELEASE = env_str("SENTRY_DSN"), env_str("SENTRY_RELEASE")
init_error_tracking(dsn=SENTRY_DSN, environment=DJANGO_ENV, release=SENTRY_RELEASE)  # events scrubbed first
# Alerts: the rules' thresholds (ALERT_<NAME>), and the platform's channels (workspaces add theirs).
ALERT_THRESHOLDS, AI_CHAT = alert_thresholds(), ai_chat_defaults()  # AI_CHAT: the AI's default chat model
ALERT_EMAILS = env_list("ALERT_EMAILS")
ALERT_SLACK_WEBHOOK_URL = env_str("ALERT_SLACK_WEBHOOK_URL")
# An optional read replica for the inbox's list, search and counts (aerostic.core.dbrouting).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = replica_database(DATABASES["default"])
DATABASE_ROUTERS = ["aerostic.core.dbrouting.PrimaryUnlessAskedRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (throttles, rate limits) and RQ queues.
REDIS_URL = env_url(
    "REDIS_URL",
    schemes=("redis", "rediss", "unix"),
    hint="`make run` and `make test` start an embedded Redis and set it for you.",
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "aerostic",
    }
}

# Queue names in priority order; the workers of the Procfile each listen to a group of them, in this order.
QUEUE_NAMES = ["webhooks", "sends", "campaigns", "ai", "default", "low"]
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in QUEUE_NAMES}
RQ_SHOW_ADMIN_LINK = True
# aerostic.core.jobs.enqueue_on_commit owns the after-commit rule; django-rq enqueues when told to.
RQ = {"COMMIT_MODE": "auto", "WORKER_CLASS": "aerostic.worker.SweepingWorker"}

# --- Accounts and sign-in.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7, minimum=1)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.axes.attempted_username"
AXES_VERBOSE = False
# Axes asks the project's one client-IP rule (aerostic/core/clientip.py), never django-ipware.
AXES_CLIENT_IP_CALLABLE = "aerostic.core.clientip.client_ip"
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous object permissions.
GUARDIAN_MONKEY_PATCH_USER = False

# --- E-mail: the console in development (links in the web log); staging and production need SMTP.
EMAIL_URL = (
    production_email_url("EMAIL_URL", environment=DJANGO_ENV) if IS_DEPLOYED else env_str("EMAIL_URL", "consolemail://")
)
vars().update(environ.Env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Aerostic <no-reply@aerostic.local>")

# --- API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first so an anonymous request gets 401 with WWW-Authenticate, not 403.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "aerostic.core.throttles.UserRateThrottle",
        "aerostic.core.throttles.TenantRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_USER_RATE", "120/min"),
        "tenant": env_str("API_TENANT_RATE", "600/min"),
        "auth": env_str("API_AUTH_RATE", "20/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "aerostic.core.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "aerostic.core.negotiation.BrowsableApiForSignedInUsers",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Our throttles use aerostic.core.clientip; this keeps DRF's get_ident from trusting a client header.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 5, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A password change kills every access token (refresh ones: accounts.services.user_tokens_revoke).
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
}

# --- Internationalisation.
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (vendored, served by WhiteNoise; no CDN at run time).
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / ".data" / "static")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_DEPLOYED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not IS_DEPLOYED

# --- Media (inbox attachments): private, streamed only by inbox:media after its checks (no MEDIA_URL).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
if env_choice("MEDIA_STORAGE", ["filesystem", "s3"], "filesystem") == "s3":
    STORAGES["default"] = s3_media_storage()

# --- Security headers. Production: HTTPS only, behind a TLS-terminating proxy.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=300)
CSRF_COOKIE_HTTPONLY = False  # htmx reads it through the meta tag, not the cookie; keep default.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_DEPLOYED:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:  # preloading binds the operator's whole domain: opt-in only
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Audit and retention.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 90, minimum=1)
AUDITLOG_INCLUDE_ALL_MODELS = False

# --- Logging: JSON lines; phone numbers masked, message bodies dropped (aerostic/core/logging.py).
LOG_LEVEL = env_choice("LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"], "INFO")
LOGGING = logging_config(LOG_LEVEL)
