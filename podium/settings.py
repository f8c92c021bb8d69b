"""Podium settings, read from the environment in this one place.

With nothing configured Podium runs on SQLite, a file-system Celery broker and a file cache
under ``var/``: the zero-setup demo. ``PODIUM_ENV=production`` turns on every production check
and refuses to start when a required setting is missing. ``.env.example`` lists every variable.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PODIUM_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


PODIUM_ENV = env("PODIUM_ENV", "development")
if PODIUM_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("PODIUM_ENV must be 'development' or 'production'")
PRODUCTION = PODIUM_ENV == "production"

DEBUG = env_bool("PODIUM_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("PODIUM_DEBUG must be off in production")


def _development_secret_key() -> str:
    """A random key kept in var/ so that sessions survive a restart of the demo."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("PODIUM_SECRET_KEY")
if SECRET_KEY is None:
    if PRODUCTION:
        raise ImproperlyConfigured("PODIUM_SECRET_KEY is required in production")
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list(
    "PODIUM_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("PODIUM_ALLOWED_HOSTS is required in production")

# The canonical address of this installation: feeds, sitemaps and cross-posts link to it.
PODIUM_BASE_URL = env("PODIUM_BASE_URL", "http://localhost:8000").rstrip("/")
# The website check (accounts.websites) refuses every address that is not public; tests that
# stand in a local server for an institution's website turn loopback on. Never in production.
PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK = env_bool("PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK", False)
if PRODUCTION and PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK must be off in production")
# The authority of the feeds' permanent item ids (RFC 4151 tag URIs): a domain the operator
# owns, optionally with the date it was owned ("podium.example.org,2026-01-01"). Fixed into each
# post when it is first published, so a later change of host or of this value re-issues nothing.
PODIUM_TAG_AUTHORITY = env(
    "PODIUM_TAG_AUTHORITY", urlsplit(PODIUM_BASE_URL).hostname or "localhost"
).strip()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's files for the self-hosted API docs page (static files only, no models).
    "drf_spectacular_sidecar",
    # A second factor for reviewers and administrators (accounts.second_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "accounts",
    "feeds",
    "crossposting",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Serves anonymous public pages from the server cache before anything can touch a session.
    "accounts.publicread.PublicCacheMiddleware",
    # A request id for the audit log (and the response's X-Request-ID).
    "accounts.audit.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "podium.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Resolves the institution from the URL, opens the tenant transaction, checks membership.
    "accounts.middleware.TenantMiddleware",
    # Chooses the language: ?lang= and the institution on public pages, the user elsewhere.
    "accounts.middleware.LanguageMiddleware",
]

ROOT_URLCONF = "podium.urls"
WSGI_APPLICATION = "podium.wsgi.application"
ASGI_APPLICATION = "podium.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "podium" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                # Review count, emergency stop and reviewers' comments on member pages.
                "moderation.context_processors.moderation",
            ],
        },
    },
    # The public pages (feeds/jinja2/): the busiest read path, rendered by Jinja2
    # (feeds.public.jinja).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "feeds.public.jinja.environment"},
    },
]

# Database: the application connects as a role that owns no table (row-level security applies
# to it); migrations run through the "owner" alias when DATABASE_OWNER_URL is set.
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'podium.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
DATABASE_OWNER_URL = env("DATABASE_OWNER_URL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that sends nothing (podium/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "podium.postgresql"
    # psycopg prepares a statement once a connection has run it this often (Django's default:
    # never), but only on cursors that bind values on the server: the public pages' compiled
    # reads (feeds.public.queries) use one, so their plans are kept; Django's own cursors bind
    # on the client and never prepare.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
    # And the server keeps one generic plan of each prepared read. Left to choose, it planned
    # a read afresh on every run while a plan with the values filled in looked cheaper: a
    # profile's posts (author_id = %s) cost 1.4 to 2.4 ms of planning a request for a plan
    # of the same shape as the generic one (index on institution and author, 0.3 ms to run).
    # Only prepared statements have plans to keep: Django's own queries are not affected.
    _options = DATABASES["default"]["OPTIONS"]
    _options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_generic_plan"
if DATABASE_OWNER_URL:
    DATABASES["owner"] = dj_database_url.parse(DATABASE_OWNER_URL)
    # In tests the owner alias shares the test database; conftest migrates it as the owner.
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if PRODUCTION and DATABASES["default"]["ENGINE"] != "podium.postgresql":
    raise ImproperlyConfigured("Production needs PostgreSQL: set DATABASE_URL=postgres://...")
# The role the application connects as; migrations grant it table privileges, nothing more.
DATABASE_APP_ROLE = DATABASES["default"].get("USER") or ""

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.auth.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("PODIUM_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# The project's own static files (podium/ is not an app): stylesheet, API docs script.
STATICFILES_DIRS = [BASE_DIR / "podium" / "static"]
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from the finders here
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("PODIUM_MEDIA_ROOT", str(VAR_DIR / "media")))
# Outside production Django serves uploaded media itself; in production the proxy does.
PODIUM_SERVE_MEDIA = env_bool("PODIUM_SERVE_MEDIA", not PRODUCTION)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Redis carries the cache and the Celery broker when configured; otherwise both use var/.
REDIS_URL = env("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("Production needs Redis: set REDIS_URL=redis://...")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("PODIUM_CACHE_PREFIX", "podium"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }

# Public read path: seconds a browser or shared cache may keep an anonymous page; the two
# together are held to at most 60 s (accounts.publicread.browser_lifetime), so a correction
# or retraction reaches every reader within a minute.
PODIUM_PUBLIC_MAX_AGE = int(env("PODIUM_PUBLIC_MAX_AGE", "30"))
PODIUM_PUBLIC_STALE_WHILE_REVALIDATE = int(env("PODIUM_PUBLIC_STALE_WHILE_REVALIDATE", "30"))
# Seconds the server keeps a rendered anonymous page; 0 switches the server cache off.
PODIUM_PUBLIC_CACHE_SECONDS = int(env("PODIUM_PUBLIC_CACHE_SECONDS", "3600"))
# Seconds a member page kept by accounts.pagecache (the review queue) may be shown again while
# nothing in the institution changed: the most it can miss of what changes without an audit
# event. 0 switches it off.
PODIUM_MEMBER_PAGE_CACHE_SECONDS = int(env("PODIUM_MEMBER_PAGE_CACHE_SECONDS", "30"))

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task unless this
# is set: a new PostgreSQL connection (and server process) per delivery cost more than the rest
# of its database work. Connections are kept as Django keeps them between requests
# (CONN_MAX_AGE, health checks; ``podium.celery`` closes broken or old ones after each task),
# and the fixup still closes them after this many tasks.
CELERY_DB_REUSE_MAX = 10_000
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# Cross-posting: keys that encrypt network credentials (AES-256-GCM). Comma-separated urlsafe
# base64 of 32 bytes each; the first encrypts, all decrypt (rotate by putting a new key first).
PODIUM_CREDENTIALS_KEYS = env_list("PODIUM_CREDENTIALS_KEYS", [])
if PRODUCTION and not PODIUM_CREDENTIALS_KEYS:
    raise ImproperlyConfigured("PODIUM_CREDENTIALS_KEYS is required in production")
# Seconds a worker holds a claimed delivery; after that the sweeper treats the send as unknown.
PODIUM_DELIVERY_LEASE_SECONDS = int(env("PODIUM_DELIVERY_LEASE_SECONDS", "90"))
# Tries of one delivery before it fails for good.
PODIUM_DELIVERY_MAX_ATTEMPTS = int(env("PODIUM_DELIVERY_MAX_ATTEMPTS", "8"))
# First back-off in seconds after a failed try; it doubles with each try (with jitter).
PODIUM_DELIVERY_BACKOFF_SECONDS = float(env("PODIUM_DELIVERY_BACKOFF_SECONDS", "2"))
# Seconds after which the sweeper presumes a delivery's broker message lost and sends another.
PODIUM_DELIVERY_REENQUEUE_SECONDS = int(env("PODIUM_DELIVERY_REENQUEUE_SECONDS", "300"))
# Seconds each network call may take (connect, read); a slow network never holds a worker long.
PODIUM_NETWORK_TIMEOUT = float(env("PODIUM_NETWORK_TIMEOUT", "10"))
# Connecting network accounts (crossposting.connect). The operator's OAuth apps on X, LinkedIn
# and Threads (the Threads app id, not the Meta app id): a network without a client id cannot be
# connected, and its connect button says so. Mastodon apps are registered per instance.
PODIUM_X_CLIENT_ID = env("PODIUM_X_CLIENT_ID", "")
PODIUM_X_CLIENT_SECRET = env("PODIUM_X_CLIENT_SECRET", "")
PODIUM_LINKEDIN_CLIENT_ID = env("PODIUM_LINKEDIN_CLIENT_ID", "")
PODIUM_LINKEDIN_CLIENT_SECRET = env("PODIUM_LINKEDIN_CLIENT_SECRET", "")
PODIUM_THREADS_CLIENT_ID = env("PODIUM_THREADS_CLIENT_ID", "")
PODIUM_THREADS_CLIENT_SECRET = env("PODIUM_THREADS_CLIENT_SECRET", "")
# Where each network authorises and answers (tests point them at local fakes).
PODIUM_X_AUTHORIZE_URL = env("PODIUM_X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize")
PODIUM_X_API_URL = env("PODIUM_X_API_URL", "https://api.x.com").rstrip("/")
PODIUM_LINKEDIN_OAUTH_URL = env("PODIUM_LINKEDIN_OAUTH_URL", "https://www.linkedin.com").rstrip("/")
PODIUM_LINKEDIN_API_URL = env("PODIUM_LINKEDIN_API_URL", "https://api.linkedin.com").rstrip("/")
PODIUM_THREADS_AUTHORIZE_URL = env(
    "PODIUM_THREADS_AUTHORIZE_URL", "https://threads.net/oauth/authorize"
)
PODIUM_THREADS_API_URL = env("PODIUM_THREADS_API_URL", "https://graph.threads.net").rstrip("/")
# The Bluesky server asked when the member names none (Bluesky-hosted accounts).
PODIUM_BLUESKY_PDS_URL = env("PODIUM_BLUESKY_PDS_URL", "https://bsky.social").rstrip("/")
# Lookups of typed addresses (webhooks, website checks, network servers) only for loopback names:
# the test suite and the servers it starts switch this on (accounts.outbound).
PODIUM_RESOLVE_LOOPBACK_ONLY = env_bool("PODIUM_RESOLVE_LOOPBACK_ONLY", False)
# Instance and server addresses members type may be loopback http (local fakes in tests only).
PODIUM_CONNECT_ALLOW_LOOPBACK = env_bool("PODIUM_CONNECT_ALLOW_LOOPBACK", False)
if PRODUCTION and PODIUM_CONNECT_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("PODIUM_CONNECT_ALLOW_LOOPBACK must be off in production")
# Owners of LinkedIn accounts are reminded this many days before the 60-day permission ends;
# Threads tokens are refreshed when they end within this many days.
PODIUM_LINKEDIN_REMINDER_DAYS = int(env("PODIUM_LINKEDIN_REMINDER_DAYS", "7"))
PODIUM_THREADS_REFRESH_DAYS = int(env("PODIUM_THREADS_REFRESH_DAYS", "7"))

# Webhooks (accounts.webhooks). Sending to loopback, private or link-local addresses is refused
# unless PODIUM_WEBHOOKS_ALLOW_PRIVATE is on (an installation whose receivers are on its LAN).
PODIUM_WEBHOOKS_ALLOW_PRIVATE = env_bool("PODIUM_WEBHOOKS_ALLOW_PRIVATE", False)
PODIUM_WEBHOOKS_TIMEOUT = float(env("PODIUM_WEBHOOKS_TIMEOUT", "10"))
PODIUM_WEBHOOKS_MAX_ATTEMPTS = int(env("PODIUM_WEBHOOKS_MAX_ATTEMPTS", "10"))
# The first retry waits about this long; each further one twice as long (at most six hours).
PODIUM_WEBHOOKS_BACKOFF_SECONDS = float(env("PODIUM_WEBHOOKS_BACKOFF_SECONDS", "30"))
# An endpoint is switched off after this many failed attempts in a row over at least this long.
PODIUM_WEBHOOKS_DISABLE_AFTER_FAILURES = int(env("PODIUM_WEBHOOKS_DISABLE_AFTER_FAILURES", "15"))
PODIUM_WEBHOOKS_DISABLE_AFTER_HOURS = float(env("PODIUM_WEBHOOKS_DISABLE_AFTER_HOURS", "24"))
# Idempotency-Key records are kept at least this long.
PODIUM_IDEMPOTENCY_HOURS = int(env("PODIUM_IDEMPOTENCY_HOURS", "24"))

# Second factor: how long a code counts as fresh for decisions, overrides, role changes and
# lifting a pause (seconds); the name authenticator apps show.
PODIUM_SECOND_FACTOR_MAX_AGE = int(env("PODIUM_SECOND_FACTOR_MAX_AGE", "900"))
OTP_TOTP_ISSUER = "Podium"
# Passkeys: the relying party is the host the person is on (accounts.second_factor.PasskeyHelper);
# a passkey is a second factor after the password, never a way around it.
OTP_WEBAUTHN_HELPER_CLASS = "accounts.second_factor.PasskeyHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Podium"
# What django-otp-webauthn's checks expect; the helper derives both from the request's host, which
# ALLOWED_HOSTS has already checked (the same as these in production).
OTP_WEBAUTHN_RP_ID = urlsplit(PODIUM_BASE_URL).hostname or "localhost"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [PODIUM_BASE_URL]

EMAIL_BACKEND = env("PODIUM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("PODIUM_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("PODIUM_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("PODIUM_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("PODIUM_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("PODIUM_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env("PODIUM_FROM_EMAIL", "Podium <podium@localhost>")

# Django's database sessions; the store compiles its read once (accounts.sessions).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_NAME = "podium_session"
CSRF_COOKIE_NAME = "podium_csrf"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env_list("PODIUM_CSRF_TRUSTED_ORIGINS", [])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("PODIUM_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("PODIUM_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_AGE = 60 * 60 * 12

# Content Security Policy: nothing from third parties, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "accounts.api.parsers.JSONParser",
        "accounts.api.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["accounts.api.validation.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "accounts.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttling.AnonymousRateThrottle",
        "accounts.api.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("PODIUM_API_ANON_RATE", "60/minute"),
        "user": env("PODIUM_API_USER_RATE", "1200/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Podium API",
    "DESCRIPTION": "Everything the Podium web UI does, for integrations. "
    "Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The generator introspects models outside any institution (it only calls .none()); the
    # fail-closed tenant managers would raise there.
    "DEFAULT_QUERY_MANAGER": "unscoped",
    # Request bodies reject unknown fields; the schema says so (additionalProperties: false).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.api.schema.reject_unknown_fields",
        "accounts.api.idempotency.document_idempotency",
        "accounts.api.conditional.document_conditional_requests",
        "accounts.api.throttling.document_rate_limits",
        # Last: every error response of every operation is a Problem (application/problem+json).
        "accounts.api.schema.document_problems",
    ],
    # One name per choice set, whatever the field is called (locale and language share one).
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "accounts.models.Language",
        "RoleEnum": "accounts.models.Role",
        "ScopeEnum": "accounts.models.Scope",
        "InstitutionKindEnum": "accounts.models.Institution.Kind",
        "MembershipStatusEnum": "accounts.models.Membership.Status",
        "PostLanguageEnum": "feeds.models.POST_LANGUAGES",
        "WebhookEventStateEnum": "accounts.models.WebhookEvent.State",
        "PostStateEnum": "feeds.models.PostState",
        "DeliveryStateEnum": "crossposting.models.DeliveryState",
        "DeliveryKindEnum": "crossposting.models.DeliveryKind",
        "TermKindEnum": "moderation.models.TermKind",
        "NetworkEnum": "crossposting.models.Network",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("PODIUM_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
