"""The one settings module: every deployment difference comes from the environment.

With no environment at all (besides DEBUG=true, which the Makefile sets), the project runs on
a SQLite file with Celery tasks executed inline. Every variable is listed in `.env.example`.
"""

import datetime
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from desmigratif.env import env_bool, env_int, env_list, env_str
from desmigratif.static_headers import add_static_headers

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    # Development only: sessions signed with it are worthless outside this machine.
    SECRET_KEY = "insecure-development-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "import_export",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "accounts",
    "villages",
    "migrants",
    "pillars",
    "dashboards",
    "reports",
]

MIDDLEWARE = [
    # The request's id on every log line written while it runs, and in the access log through
    # its response header, static files and redirects included (desmigratif.logs).
    "desmigratif.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files, served by the application itself (compressed, cached for a year once
    # hashed); it answers /static/ before the middleware below runs (desmigratif.static_headers).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "desmigratif.headers.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "desmigratif.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "desmigratif.middleware.SessionLimitMiddleware",
    "desmigratif.middleware.MfaRequiredMiddleware",
    "desmigratif.rls.RowLevelSecurityMiddleware",
    # A form sent twice (a double click) is saved once (after CSRF and the user are known).
    "desmigratif.submit_once.SubmitOnceMiddleware",
]

ROOT_URLCONF = "desmigratif.urls"
WSGI_APPLICATION = "desmigratif.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
            "libraries": {"submit_once": "desmigratif.submit_once"},
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / env_str("SQLITE_PATH", "db.sqlite3"),
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, shared between processes when Redis is configured) -----------------
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.ScopedAuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[SI-Desmigratif] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SI-Desmigratif"
# Coordinators, province, ministry users and superusers must set up an authenticator app before
# anything else (desmigratif.middleware.MfaRequiredMiddleware); `make run` turns it off.
MFA_REQUIRED = env_bool("MFA_REQUIRED", True)
# Mails on a changed password, an authenticator added or removed, new recovery codes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Exports, role changes and bulk deletes ask for the password again (accounts.reauth); one
# confirmation lasts this long.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("REAUTHENTICATION_MINUTES", 5) * 60
# Rate limits live in the cache (Redis when CACHE_URL is set, shared by all processes). Failed
# sign-ins are limited per address, and per account only within one minute: a stranger typing
# an officer's name slows the officer down, and a minute after the attempts stop it is over
# (no lock-out to be lifted by an administrator, unlike django-axes' defaults). The limits per
# address leave room for a training room of officers behind one office address.
# RATE_LIMIT_IP_FACTOR multiplies the per-address limits (the "/ip" ones) and nothing else: the
# load run (bench/load) sets it, since all its users sign in from 127.0.0.1. Always 1 in
# production.
RATE_LIMIT_IP_FACTOR = env_int("RATE_LIMIT_IP_FACTOR", 1)


def _per_ip_scaled(limits: str) -> str:
    scaled = []
    for limit in limits.split(","):
        amount, rest = limit.split("/", 1)
        factor = RATE_LIMIT_IP_FACTOR if rest.endswith("/ip") else 1
        scaled.append(f"{int(amount) * factor}/{rest}")
    return ",".join(scaled)


ACCOUNT_RATE_LIMITS = {
    "login": _per_ip_scaled("60/m/ip"),
    "login_failed": _per_ip_scaled("20/m/ip,100/h/ip,5/m/key"),
    "reset_password": _per_ip_scaled("20/m/ip,5/m/key"),
    "reset_password_from_key": _per_ip_scaled("20/m/ip"),
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
# Behind the reverse proxy the client's address is the proxy's last X-Forwarded-For entry.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0
)

# --- Sessions: they end on inactivity, at an absolute limit and when the browser closes -------
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
# Counted from the session's last write, which desmigratif.middleware.SessionLimitMiddleware
# renews at most once a minute (rather than SESSION_SAVE_EVERY_REQUEST's write per page).
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
ACCOUNT_SESSION_REMEMBER = False
# Signed out this long after signing in, however active (desmigratif.middleware).
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)

# --- E-mail: console by default, SMTP when EMAIL_HOST is set --------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SI-Desmigratif <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Jakarta"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / env_str("STATIC_ROOT", "staticfiles")
MEDIA_ROOT = BASE_DIR / env_str("MEDIA_ROOT", "media")
# Production serves files named by their content's hash (`app.3f2a1c.css`, cached for a year) and
# their gzip and Brotli copies, listed in a manifest that `collectstatic` writes (the Docker
# image runs it at build). Development and the tests keep the plain storage: no collectstatic
# needed, and a file edited is served as it is.
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
WHITENOISE_ADD_HEADERS_FUNCTION = add_static_headers
# Read at start-up rather than from the runtime DEBUG (which the test runner turns off): in
# development and the tests WhiteNoise finds the files where they are, without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Same origin only, like every other response (Cross-Origin-Resource-Policy).
WHITENOISE_ALLOW_ALL_ORIGINS = False

# --- Security (production values; DEBUG relaxes only what a local http server needs) --------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Permissions-Policy, Cross-Origin-Resource-Policy and `Cache-Control: no-store` for signed-in
# users come from desmigratif.headers.SecurityHeadersMiddleware.

if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): everything from our own origin, nothing inline, the
# Django admin included. Scripts are static files; data for them travels in `json_script`
# elements or data- attributes; styles are classes. Two package templates that had inline code
# are replaced in templates/admin/ (django-celery-beat, django-import-export).
# tests/security/test_headers.py walks every page each role reaches and fails on inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Without a broker the tasks run inline, in the request: the local demo needs no service.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL) or None
CELERY_RESULT_EXPIRES = 24 * 3600
# A process that sends tasks listens for their results on Redis too; with Redis down, Celery's
# default retries that connection 20 times a second apart, and a page hung for 20 s. Nothing
# waits for a result (the job tables hold the outcome): one quick retry is enough.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, so a worker that dies mid-task leaves it to be
# delivered again; the tasks themselves are idempotent (they claim their job row).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "desmigratif")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
# Longer than the longest task, or Redis hands a running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A task whose worker died (SIGKILL, OOM) goes back to the queue; the job table bounds the tries.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Modules whose tasks a worker must know even before anything imports them.
CELERY_IMPORTS = ["reports.schedules", "reports.tasks", "dashboards.tasks", "migrants.privacy"]

# --- Imports (limits are settings: a regency may need bigger files) -------------------------
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 20) * 1024 * 1024
IMPORT_MAX_UNCOMPRESSED = env_int("IMPORT_MAX_UNCOMPRESSED_MB", 200) * 1024 * 1024
IMPORT_MAX_ZIP_RATIO = 100
IMPORT_MAX_ZIP_MEMBERS = 200
EXPORT_XLSX_MAX_ROWS = env_int("EXPORT_XLSX_MAX_ROWS", 20_000)

# --- Scope and paging -----------------------------------------------------------------------
PAGE_SIZE = env_int("PAGE_SIZE", 50)
# A pillar is active in a village when it has any activity within this many days.
PILLAR_ACTIVE_DAYS = env_int("PILLAR_ACTIVE_DAYS", 90)
HEALTH_WORKER_TIMEOUT = float(env_int("HEALTH_WORKER_TIMEOUT_MS", 1000)) / 1000

# Logs go to standard error, for systemd's journal or Docker to keep. `json` (the default without
# DEBUG) writes one JSON object per line with the request's or task's id (desmigratif.logs);
# `plain` one readable line.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "desmigratif.logs.JsonFormatter"},
    },
    "filters": {
        "context": {"()": "desmigratif.logs.RequestContext"},
        # No full NIK reaches a log (UU 27/2022): 16-digit numbers are masked on the way out.
        "redact_nik": {"()": "desmigratif.redact.RedactNik"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact_nik"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers (its console, the runserver request line) would write past
        # the filter: these loggers hand their records to the root's handler instead.
        "django": {"level": "INFO", "propagate": True},
        "django.server": {"level": "INFO", "propagate": True},
        # SQL with its parameters (NIKs among them) is never logged.
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint and fontTools log every font and CSS detail at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}


# --- Dashboards and reports (issue 6) ----------------------------------------------------------

# The dashboards read summary tables that a Celery task rebuilds this often (minutes).
SUMMARY_REFRESH_MINUTES = env_int("SUMMARY_REFRESH_MINUTES", 15)
# A village without a report or any pillar activity for this many days is listed as silent.
SILENT_VILLAGE_DAYS = env_int("SILENT_VILLAGE_DAYS", 60)
# Report files are removed this many days after they were built.
REPORT_KEEP_DAYS = env_int("REPORT_KEEP_DAYS", 30)
# A report job may run this long before the reaper re-queues it; it fails after this many tries.
REPORT_TIME_LIMIT = env_int("REPORT_TIME_LIMIT", 20 * 60)
REPORT_MAX_ATTEMPTS = env_int("REPORT_MAX_ATTEMPTS", 3)

# The address of the site in links sent by e-mail (scheduled reports), e.g.
# https://desmigratif.kemnaker.go.id
SITE_URL = env_str("SITE_URL", "")

# --- The API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's tokens, refused while the owner lacks the MFA their role needs.
        "accounts.mfa.MfaTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_RATE", "600/hour")},
}
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(days=env_int("API_TOKEN_DAYS", 90)),
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SI-Desmigratif API",
    "DESCRIPTION": "Read-only access to the Desmigratif indicators, villages and report jobs, "
    "scoped to the token owner's area.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


# --- Personal data (issue 7) ------------------------------------------------------------------

# A deleted record, with no activity for this many years, is emptied of personal data by the
# retention task (migrants.privacy), which leaves a tombstone. docs/privacy.md explains it.
RETENTION_YEARS = env_int("RETENTION_YEARS", 10)
