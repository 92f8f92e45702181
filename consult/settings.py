"""Settings for consult, read from environment variables (see README "Configuration")."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only-key")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (a long random string) or run with DEBUG=true for development."
        ) from error

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crispy_forms",
    "crispy_forms_gds",
    "django_tasks",
    "django_tasks_db",
    "consult.consultations",
    "consult.responses",
    "consult.analysis",
    "consult.exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, which serves static files precompressed; before everything that
    # writes the body. Public pages only: see consult/compression.py.
    "consult.compression.PublicPageGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "consult.i18n.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "consult.routing.ReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "consult.urls"
WSGI_APPLICATION = "consult.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "consult" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consult.context_processors.service",
                "consult.context_processors.languages",
            ],
        },
    },
]

# SQLite by default, tuned for concurrent writers: WAL lets readers run beside the
# writer, the busy timeout makes writers queue instead of failing, and IMMEDIATE
# transactions take the write lock up front so two writers never deadlock. Each
# connection may cache SQLITE_CACHE_MB of pages (SQLite's own default is 2 MB, far too
# little for the answer indexes of a large consultation).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA cache_size=-{env.int('SQLITE_CACHE_MB', default=64) * 1024};"
        ),
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
# Connections outlive a request (each server thread keeps its own): opening one costs a
# PostgreSQL handshake, or SQLite's file open, PRAGMAs and a WAL check on close, which
# took more time than a whole journey page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# A read replica for the analysts' workspace, downloads and API (consult/routing.py);
# after an analyst's change, their reads stay on the primary for REPLICA_LAG_SECONDS.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **DATABASES["default"],
        **env.db("DATABASE_REPLICA_URL"),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["consult.routing.ReplicaRouter"]
REPLICA_LAG_SECONDS = env.int("REPLICA_LAG_SECONDS", default=30)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# username, that account cannot sign in for an hour. Client addresses are not stored:
# lockout is by username only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(hours=env.int("AXES_COOLOFF_HOURS", default=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_CLIENT_IP_CALLABLE = "consult.analysis.access.no_client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "analysis/locked_out.html"
# axes.W006 asks to lock by client address too. Locking by username alone already stops
# password guessing against an account, whatever the client; storing addresses is what
# this service promises not to do.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Two-factor authentication: analysts and data controllers sign in with a password and
# a code from an authenticator app (TOTP, django-otp); `manage.py enrol_totp` sets it up.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=True)
LOGIN_URL = "analysis:login"
LOGIN_REDIRECT_URL = "analysis:index"
LOGOUT_REDIRECT_URL = "analysis:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The public journey is offered in English and in the languages of TRANSLATIONS;
# definition files are written in LANGUAGE_CODE and carry translations into the others
# (docs/definitions.md). A third language is one more code in TRANSLATIONS, a locale
# folder and a block in each definition: no code changes. Each is named in its own
# language, as Django knows it.
LANGUAGE_CODE = "en"
_translations = env.list("TRANSLATIONS", default=["cy"])
if unknown := [
    code
    for code in _translations
    if "name_local" not in LANG_INFO.get(code, {}) or code.split("-")[0] == LANGUAGE_CODE
]:
    raise ImproperlyConfigured(
        f"TRANSLATIONS: {', '.join(unknown)} is not a language code Django knows (such as "
        f"cy, ga or zh-hans), other than {LANGUAGE_CODE} and its variants"
    )
LANGUAGES = [(code, LANG_INFO[code]["name_local"]) for code in [LANGUAGE_CODE, *_translations]]
LOCALE_PATHS = [BASE_DIR / "consult" / "locale"]
# English dates as the UK writes and reads them, not Django's American en (consult/formats).
FORMAT_MODULE_PATH = ["consult.formats"]
# The language switch's choice (consult/i18n.py) is kept for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "consult" / "static",
    BASE_DIR / "build" / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Supporting documents that organisations attach to their responses (docs/security.md):
# kept in a private folder that no URL maps to, outside the web root and the static
# files; analysts download them through the workspace. Larger files are refused, and
# the upload handler stops taking a file's bytes once it passes the limit.
DOCUMENTS_ROOT = Path(env.str("DOCUMENTS_ROOT", default=str(BASE_DIR / "private" / "documents")))
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
if DOCUMENTS_ROOT.resolve().is_relative_to(Path(STATIC_ROOT).resolve()) or any(
    DOCUMENTS_ROOT.resolve().is_relative_to(Path(folder).resolve())
    for folder in (BASE_DIR / "consult" / "static", BASE_DIR / "build" / "static")
):
    raise ImproperlyConfigured("DOCUMENTS_ROOT must not be inside a folder of static files.")
FILE_UPLOAD_HANDLERS = [
    "consult.responses.documents.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# EMAIL_URL: consolemail:// (default, prints mail), smtp+tls://user:password@host:587, ...
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="consultations@localhost")

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# Long work asked for from the workspace (theme suggestions) is queued in the database and
# run by a worker process: `manage.py db_worker` (docs/architecture.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# The default name is translated (consult/locale); a name set here is shown as it is.
SERVICE_NAME = env.str(
    "SERVICE_NAME", default=gettext_noop("Have your say: parliamentary consultations")
)
OTP_TOTP_ISSUER = SERVICE_NAME  # the name authenticator apps show beside the code

# The cache holds rate-limit counters (and nothing else that must last). One process:
# local memory. Several processes or nodes: Redis, shared, via REDIS_URL; sessions are
# then read from Redis too, and written through to the database (which keeps them).
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
SESSION_ENGINE = f"django.contrib.sessions.backends.{'cached_db' if REDIS_URL else 'db'}"
# Abuse of the public form (docs/security.md): per-client limits, counted under a keyed
# hash of the address that changes every day, and submissions faster than a person.
RESPONSE_STARTS_PER_HOUR = env.int("RESPONSE_STARTS_PER_HOUR", default=30)
RESPONSE_SUBMISSIONS_PER_HOUR = env.int("RESPONSE_SUBMISSIONS_PER_HOUR", default=30)
FASTEST_HUMAN_SECONDS = env.int("FASTEST_HUMAN_SECONDS", default=30)
RATELIMIT_VIEW = "consult.responses.views.rate_limited"

# How long the private link in a receipt email keeps working.
RECEIPT_LINK_MAX_AGE_DAYS = env.int("RECEIPT_LINK_MAX_AGE_DAYS", default=730)
# Retention (manage.py purge_personal_data): names and email addresses are deleted this
# long after a consultation closes; drafts never sent, this long after their last change.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=365)
DRAFT_RETENTION_DAYS = env.int("DRAFT_RETENTION_DAYS", default=30)

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)

# Security headers and cookies (docs/security.md). In production every request is
# redirected to HTTPS and browsers are told to use nothing else.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
