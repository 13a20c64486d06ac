"""The service's Django settings, read from the environment with safe defaults.

``LSCB_SERVICE_PROJECT`` (else ``LSCB_NB_PROJECT``) names the project folder the
service runs on (``lscb-nb serve`` sets it); its ``.lscb-service/`` folder holds the
secret key (generated on first start, mode 600) and the SQLite database. Every variable is listed in
:data:`ENVIRONMENT` and in the README's "Running the online service".
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

# Every environment variable the service reads, with what it does (README lists them).
ENVIRONMENT: dict[str, str] = {
    "LSCB_SERVICE_PROJECT": "the project folder (set by lscb-nb serve --project)",
    "LSCB_SERVICE_SECRET_KEY": "Django's secret key (default: generated into the project)",
    "LSCB_SERVICE_DEBUG": "1 to turn Django's debug pages on (never in production)",
    "LSCB_SERVICE_ALLOWED_HOSTS": "comma-separated host names (default: loopback only)",
    "LSCB_SERVICE_INSECURE_COOKIES": "1 to send cookies over plain HTTP to other hosts",
    "LSCB_SERVICE_IDLE_MINUTES": "sign out after this many idle minutes (default 30)",
    "LSCB_SERVICE_ABSOLUTE_HOURS": "sign out this many hours after sign-in (default 12)",
    "LSCB_SERVICE_BEHIND_PROXY": "1 behind a reverse proxy that sets X-Forwarded-Proto",
    "DATABASE_URL": "postgresql://user:password@host:5432/name for a shared database",
}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


PROJECT_DIR = Path(
    os.environ.get("LSCB_SERVICE_PROJECT") or os.environ.get("LSCB_NB_PROJECT") or Path.cwd()
).resolve()
STATE_DIR = PROJECT_DIR / ".lscb-service"


def _secret_key() -> str:
    """The key from the environment, else the project's own, generated once (mode 600)."""
    if os.environ.get("LSCB_SERVICE_SECRET_KEY"):
        return os.environ["LSCB_SERVICE_SECRET_KEY"]
    path = STATE_DIR / "secret_key"
    if not path.exists():
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            return path.read_text(encoding="utf-8").strip()
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text(encoding="utf-8").strip()


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        parts = urlparse(url)
        if parts.scheme not in {"postgres", "postgresql"}:
            raise ValueError(
                f"DATABASE_URL: only postgresql://... is supported, not {parts.scheme}"
            )
        return {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": unquote(parts.path.lstrip("/")),
                "USER": unquote(parts.username or ""),
                "PASSWORD": unquote(parts.password or ""),
                "HOST": parts.hostname or "",
                "PORT": str(parts.port or ""),
                "CONN_MAX_AGE": 60,
            }
        }
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": STATE_DIR / "service.sqlite3",
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the
                # write lock at BEGIN, so two uploads queue instead of failing midway.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }


SECRET_KEY = _secret_key()
DEBUG = _flag("LSCB_SERVICE_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LSCB_SERVICE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "lscb_nb.service.accounts",
    "lscb_nb.service.collection",
    "lscb_nb.service.audit",
    "lscb_nb.service.api",
    "lscb_nb.service.pages",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "lscb_nb.service.accounts.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "lscb_nb.service.accounts.sessions.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
ROOT_URLCONF = "lscb_nb.service.urls"
WSGI_APPLICATION = "lscb_nb.service.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Accounts: Argon2 first; axes before Django's backend so every attempt is counted.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# OWASP ASVS 5.0 chapter 6 (6.2): at least 15 characters when there is no second
# factor (the recommended length; 8 is the floor), at least 64 allowed (we allow 256),
# common and context-specific passwords refused, no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 15},
    },
    {"NAME": "lscb_nb.service.accounts.passwords.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "lscb_nb.service.accounts.passwords.PaddedCommonPasswordValidator"},
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Locked per account (ASVS 6.3): partnerships' staff share a council's outgoing IP
# address, so locking by address would lock out a whole council after five typos.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the credential our sign-in passes
AXES_LOCKOUT_CALLABLE = "lscb_nb.service.accounts.views.locked_out"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "LSCB dataset service"
LOGIN_URL = "/sign-in/"

# Sessions: idle and absolute timeouts (SessionTimeoutMiddleware, its clock injectable).
SERVICE_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("LSCB_SERVICE_IDLE_MINUTES", "30")))
SERVICE_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("LSCB_SERVICE_ABSOLUTE_HOURS", "12")))
SERVICE_CLOCK = None  # None: the real UTC clock; tests set a callable
SESSION_COOKIE_AGE = int(SERVICE_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Cookies and headers: secure by default (browsers treat http://localhost as secure).
_secure = not _flag("LSCB_SERVICE_INSECURE_COOKIES")
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if _flag("LSCB_SERVICE_BEHIND_PROXY") else None
)

# Uploads: Django keeps at most this much in memory before spooling to a temp file;
# the request as a whole is capped at the toolkit's unpacked-size limit.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
SERVICE_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Rows, cells, columns and unpacked bytes a file may hold: None is the toolkit's own
# limits (lscb_nb.core.inputfiles.DEFAULT_LIMITS), the same as `lscb-nb ingest`.
SERVICE_READ_LIMITS = None

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_TZ = True
USE_I18N = False
STATIC_URL = "/static/"
# GOV.UK Frontend's built files, vendored by scripts/vendor_govuk_frontend.py, and the
# service's own, served by WhiteNoise straight from the package (no CDN, no collectstatic).
STATIC_ROOT = Path(__file__).resolve().parent / "static"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
