"""Amparo settings: one file, every deployment-specific value from the environment.

The defaults make a checkout run on a laptop (DEBUG, SQLite, a file-backed Celery
broker, e-mail printed to the console). Production sets ``DEBUG=0`` and must then
provide a real ``SECRET_KEY``; see the README's production section.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from amparo import env
from kernel.crypto import parse_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.string("AMPARO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.boolean("DEBUG", False)

_DEV_SECRET = "insecure-development-key-only-for-debug-runs-of-amparo"
SECRET_KEY = env.string("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("With DEBUG off, SECRET_KEY must be set to a random value of 50+ characters.")

ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "kernel",
    "accounts",
    "casework",
    "funds",
    "reports",
    "amparo.apps.AmparoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "django_htmx",
    "guardian",
    "django_celery_beat",
]
if DEBUG:
    INSTALLED_APPS.append("demo")  # seed_demo and its stories: development only

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    "accounts.middleware.NoStoreForSignedInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A read whose access-log row cannot be written is answered with a 503, never the data.
    "kernel.readlog.ReadNotLoggedMiddleware",
    # Axes must come last: it turns a lock-out raised during authentication into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "amparo.urls"
WSGI_APPLICATION = "amparo.wsgi.application"

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
        },
    },
]
# Form widgets, labels and error lists are drawn by Jinja2 from Django's own Jinja2 copies of its
# form templates (the same markup): Django's template engine spends ~0.1 ms on every widget, and
# a case page draws some 60 of them in 22 forms. Pages themselves stay Django templates.
FORM_RENDERER = "django.forms.renderers.Jinja2"

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections (seconds a connection is kept for the next request of the same process):
# a new PostgreSQL connection per request costs several milliseconds (TLS, authentication), more
# than a whole small page. Each connection is checked before a request reuses it
# (CONN_HEALTH_CHECKS), so one cut meanwhile (a restart, pg_terminate_backend) is replaced, not
# failed on. SQLite opens a file: nothing to keep.
_postgres = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DATABASE_CONN_MAX_AGE", 60 if _postgres else 0, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the Celery worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", "locmemcache://amparo")}

# --- Accounts, sign-in, MFA -------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # allauth's backend, loading each request's user with its role and whether an authenticator
    # is enrolled in one query (a signed-in page's fixed cost is two: the session and the user).
    "accounts.backends.StaffAuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "account_login"

# Reverse proxies we run in front of the app. The one client-IP reader (kernel.client_ip),
# used by axes, allauth, the donor-code limits and the access log, takes the client from
# X-Forwarded-For only this many hops from the right; 0 means REMOTE_ADDR alone counts.
PROXY_COUNT = env.integer("PROXY_COUNT", 0, minimum=0)
# allauth's own reader is replaced by the adapter's get_client_ip; set here too so that any
# allauth code path still reading the setting agrees with it.
ALLAUTH_TRUSTED_PROXY_COUNT = PROXY_COUNT

ACCOUNT_ADAPTER = "accounts.adapters.StaffAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Amparo] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_RATE_LIMITS = {
    # allauth keys failed sign-ins by e-mail alone, which would let anyone lock a colleague
    # out. Axes throttles by e-mail + IP; here we only cap each IP.
    "login_failed": "20/m/ip,60/15m/ip",
}
MFA_ADAPTER = "accounts.adapters.StaffMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.string("MFA_TOTP_ISSUER", "Amparo")
MFA_RECOVERY_CODE_COUNT = 10
# allauth refuses MFA to unverified addresses to stop sign-up squatting; there is no
# sign-up here (administrators invite), and the invitation link itself proves the address.
MFA_ALLOW_UNVERIFIED_EMAIL = True

AXES_ENABLED = env.boolean("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.throttling.username_from_request"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "kernel.client_ip.client_ip"

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous visitors get nothing

# --- Sessions and security headers ------------------------------------------------------

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 30 * 60  # idle timeout: the cookie is renewed on every request
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_MAX_AGE = 12 * 60 * 60  # enforced by accounts.middleware.SessionLifetimeMiddleware
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

HTTPS = env.boolean("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", HTTPS)
if env.boolean("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No page uses a device or a powerful browser feature: deny them all, for us and for any frame.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# The language choice is a cookie too: only over HTTPS in production, never readable by scripts.
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

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
        "frame-ancestors": [NONE],
    },
}

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.string("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    # Uploaded files are private: they are served only through permission-checked views.
    "default": {
        # Every file is encrypted on disk with the field keys (kernel/storage.py).
        "BACKEND": "kernel.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": env.string("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DOCUMENT_MAX_BYTES = env.integer("DOCUMENT_MAX_MB", 20, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Personal data at rest (see SECURITY.md) ---------------------------------------------

# AES-256-GCM keys for personal fields and private files, newest first: the first encrypts,
# every one decrypts. Rotate by putting a new key in front, running `manage.py reencrypt`,
# then removing the old one. `manage.py new_encryption_key` prints a fresh key.
FIELD_ENCRYPTION_KEYS = parse_keys(env.string("FIELD_ENCRYPTION_KEYS", ""))
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("With DEBUG off, FIELD_ENCRYPTION_KEYS must be set (manage.py new_encryption_key).")
    # Development only: a key derived from the development SECRET_KEY.
    FIELD_ENCRYPTION_KEYS = [hashlib.sha256(f"amparo.field-encryption.dev:{SECRET_KEY}".encode()).digest()]
# Keyed hashes (blind indexes) of A-numbers, names and dates of birth, for exact look-ups and
# duplicate detection without decrypting. A key of its own, with its fingerprint stored in the
# database: the app refuses to start under another key (`manage.py reindex_identities` re-keys).
BLIND_INDEX_KEY = env.string("BLIND_INDEX_KEY", "")
if not DEBUG and len(BLIND_INDEX_KEY) < 32:
    raise ImproperlyConfigured("With DEBUG off, BLIND_INDEX_KEY must be set to a random value of 32+ characters.")
if BLIND_INDEX_KEY and BLIND_INDEX_KEY == SECRET_KEY:
    raise ImproperlyConfigured("BLIND_INDEX_KEY must not be the SECRET_KEY.")

# --- E-mail -----------------------------------------------------------------------------

_email = env.email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
for _key in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL"):
    if _email.get(_key) is not None:
        globals()[_key] = _email[_key]
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Amparo <no-reply@amparo.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env.string("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured("With DEBUG off, SITE_URL must be set (used in e-mailed links).")

# --- Celery -----------------------------------------------------------------------------

CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}  # the Redis ones: the redis block below
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery-queue"
    # Every folder is given: kombu's defaults are relative to the working directory, and its
    # control folder (exchange bindings, the worker's remote-control mailbox) would otherwise
    # land in the checkout. kombu expects them to exist: amparo.celery creates them when the app
    # is configured, in the web process and the worker alike.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# Reminders come from a daily scan, never from tasks scheduled days ahead.
# The workload page's hearings in 14 days and overdue deadlines are recounted this often (active
# cases and cases as lead are recounted at every assignment change).
WORKLOAD_RECOUNT_MINUTES = env.integer("WORKLOAD_RECOUNT_MINUTES", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "casework-caseload-recount": {
        "task": "casework.tasks.caseload_recount",
        "schedule": timedelta(minutes=WORKLOAD_RECOUNT_MINUTES),
    },
    "casework-daily-reminders": {
        "task": "casework.tasks.scan_reminders",
        "schedule": crontab(hour=env.integer("REMINDER_HOUR", 6, minimum=0), minute=30),
    },
    # The safety net for Stripe events whose processing task was lost or gave up.
    "funds-requeue-stale-stripe-events": {
        "task": "funds.tasks.requeue_stale_stripe_events",
        "schedule": crontab(minute="*/15"),
    },
    # Report files are kept REPORT_RETENTION_DAYS; their runs and hashes stay for verification.
    "reports-delete-expired-files": {
        "task": "reports.tasks.delete_expired_reports",
        "schedule": crontab(hour=3, minute=15),
    },
    # Personal data of cases closed more than RETENTION_CLOSED_CASE_DAYS ago is erased.
    "casework-retention-erase": {
        "task": "casework.tasks.retention_erase",
        "schedule": crontab(hour=3, minute=45),
    },
}
# Seven years after closing by default (a common period for lawyers' client files; check your
# state bar's rule). `manage.py retention --dry-run` lists what the next run would erase.
RETENTION_CLOSED_CASE_DAYS = env.integer("RETENTION_CLOSED_CASE_DAYS", 7 * 365, minimum=30)
REPORT_RETENTION_DAYS = env.integer("REPORT_RETENTION_DAYS", 30, minimum=1)
# Long PDFs are rendered in parallel processes, which a prefork worker's (daemonic) children
# cannot start: report tasks go to their own queue, served by a thread-pool worker.
CELERY_TASK_ROUTES = {"reports.tasks.generate_report": {"queue": "reports"}}

# --- Donations and Stripe --------------------------------------------------------------

# The demo's Stripe sandbox (demo/stripe_sandbox/, `manage.py stripe_sandbox`, started by `make demo`):
# a stand-in for Stripe on this machine with a hosted payment page for test cards, which sends
# signed webhooks as Stripe does. On by default with DEBUG when no STRIPE_SECRET_KEY is given;
# refused with DEBUG off, where donations go to Stripe itself.
STRIPE_SANDBOX = env.boolean("STRIPE_SANDBOX", DEBUG and env.raw("STRIPE_SECRET_KEY", None) is None)
STRIPE_SANDBOX_PORT = env.integer("STRIPE_SANDBOX_PORT", 12111, minimum=1)
if STRIPE_SANDBOX and not DEBUG:
    raise ImproperlyConfigured(
        "STRIPE_SANDBOX is the demo's stand-in for Stripe and needs DEBUG=1; with DEBUG off, unset it "
        "and set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET from your Stripe account."
    )
STRIPE_SECRET_KEY = env.string("STRIPE_SECRET_KEY", "sk_test_demo_not_a_real_key" if DEBUG else "")
# Comma-separated: during a rotation both the old and the new signing secret are accepted.
STRIPE_WEBHOOK_SECRETS = env.string_list("STRIPE_WEBHOOK_SECRET", ["whsec_demo_not_a_real_secret"] if DEBUG else [])
_STRIPE = f"http://127.0.0.1:{STRIPE_SANDBOX_PORT}" if STRIPE_SANDBOX else "https://api.stripe.com"
STRIPE_API_BASE = env.string("STRIPE_API_BASE", _STRIPE).rstrip("/")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
DONATION_MIN_CENTS = env.integer("DONATION_MIN_CENTS", 500, minimum=50)
DONATION_MAX_CENTS = env.integer("DONATION_MAX_CENTS", 2_500_000, minimum=100)
DONATION_PRESETS_CENTS = [2500, 5000, 10000, 25000, 50000]
DONATION_CURRENCY = "usd"
# Stripe's US card pricing, used to gross up "cover the fee": 2.9 % + 30 cents.
STRIPE_FEE_PERCENT_BASIS_POINTS = env.integer("STRIPE_FEE_BASIS_POINTS", 290, minimum=0)
STRIPE_FEE_FIXED_CENTS = env.integer("STRIPE_FEE_FIXED_CENTS", 30, minimum=0)
FUND_LEGAL_NAME = env.string("FUND_LEGAL_NAME", "Amparo Legal Defense Fund (demo)")
FUND_ADDRESS = env.string("FUND_ADDRESS", "123 Example Street, Suite 4, Anytown, ST 00000")
FUND_TAX_ID = env.string("FUND_TAX_ID", "00-0000000")
FUNDS_SEND_RECEIPTS = env.boolean("FUNDS_SEND_RECEIPTS", True)
PDF_PAGE_SIZE = env.choice("PDF_PAGE_SIZE", "letter", {"letter", "A4"})

# --- Logging: never personal data; ids only -------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # kernel/logs.py: UTC times with Z, control characters escaped, tracebacks without exception
    # messages; "plain" is one line per record, "json" one object per line (LOG_FORMAT below).
    "formatters": {
        "plain": {
            "()": "kernel.logs.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [request=%(request_id)s user=%(user_id)s"
            " ip=%(client_ip)s] %(message)s",
        },
        "json": {"()": "kernel.logs.JsonFormatter"},
    },
    "filters": {
        "celery_task_errors": {"()": "kernel.logs.RedactCeleryTaskErrors"},
        # Who and where (kernel/request_context.py): the request id, the user's id, the client's address.
        "request_context": {"()": "kernel.request_context.RequestContextFilter"},
        "refusals_logged_elsewhere": {"()": "kernel.request_context.RefusalsLoggedElsewhere"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["celery_task_errors", "request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Its "Not Found: /path" warnings for 403, 404 and 429 say less than amparo.security's line.
        "django.request": {"filters": ["refusals_logged_elsewhere"]},
        # PDF rendering is chatty at INFO (dozens of lines per page).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# (logging block)
# Each request gets an id (the proxy's X-Request-ID when well formed), sent back in X-Request-ID and
# put on every log line with the user's id and the client's address; every 403, 404 and 429 is a
# WARNING line on amparo.security (kernel/request_context.py). First after SecurityMiddleware, so the
# lines of every later middleware carry it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "kernel.request_context.RequestContextMiddleware",
)
# "plain" (one line per record; a traceback's further lines start with "  | ") or "json" (one
# object per line, for a log processor).
LOG_FORMAT = env.choice("LOG_FORMAT", "plain", {"plain", "json"})
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # type: ignore[index]  # dicts, as written above
# Where a copy of every line goes besides the console, so the log lives outside this machine
# (ASVS 16.4.3): "host:port" (UDP syslog) or the path of a local syslog socket ("/dev/log").
# Empty: the console only.
LOG_SYSLOG_ADDRESS = env.string("LOG_SYSLOG_ADDRESS", "").strip()
if LOG_SYSLOG_ADDRESS:
    _syslog_host, _colon, _syslog_port = LOG_SYSLOG_ADDRESS.rpartition(":")
    if LOG_SYSLOG_ADDRESS.startswith("/"):
        _syslog_address: str | tuple[str, int] = LOG_SYSLOG_ADDRESS
    elif _syslog_host and _syslog_port.isdigit() and 0 < int(_syslog_port) < 65536:
        _syslog_address = (_syslog_host.strip("[]"), int(_syslog_port))
    else:
        raise ImproperlyConfigured(
            f"LOG_SYSLOG_ADDRESS={LOG_SYSLOG_ADDRESS!r} must be host:port (UDP) or the path of a socket."
        )
    LOGGING["handlers"]["syslog"] = {  # type: ignore[index]  # see above
        "class": "logging.handlers.SysLogHandler",
        "address": _syslog_address,
        "formatter": LOG_FORMAT,
        "filters": ["celery_task_errors", "request_context"],
    }
    LOGGING["root"]["handlers"].append("syslog")  # type: ignore[index]  # see above

# --- Limits on everything guessable (issue 10) ----------------------------------------

# Every limit below counts in the "default" cache (CACHE_URL): in production a Redis that all
# web processes share (`manage.py check --deploy` warns about a per-process cache), keyed by the
# one proxy-aware client IP (kernel.client_ip).

# Authenticator codes (accounts.throttling, through allauth's MFA forms): wrong codes per account
# and address, and per account from all the addresses it has not signed in from lately, in
# cool-off windows. Like the password rule (axes), the real user is never locked out for good.
MFA_FORMS = {
    "authenticate": "accounts.mfa.StaffAuthenticateForm",
    "reauthenticate": "accounts.mfa.StaffReauthenticateForm",
}
MFA_CODE_FAILURE_LIMIT = env.integer("MFA_CODE_FAILURE_LIMIT", 5, minimum=1)
MFA_CODE_NEW_ADDRESS_FAILURE_LIMIT = env.integer("MFA_CODE_NEW_ADDRESS_FAILURE_LIMIT", 10, minimum=1)
MFA_CODE_COOLOFF = timedelta(minutes=env.integer("MFA_CODE_COOLOFF_MINUTES", 15, minimum=1))
MFA_CODE_KNOWN_ADDRESS_DAYS = env.integer("MFA_CODE_KNOWN_ADDRESS_DAYS", 90, minimum=1)

# Stripe Checkout Sessions started from /give/ (funds.services.checkout), per client address and
# for everyone together, per hour: card testers are stopped before they reach Stripe.
DONATION_CHECKOUTS_PER_IP_PER_HOUR = env.integer("DONATION_CHECKOUTS_PER_IP_PER_HOUR", 10, minimum=1)
DONATION_CHECKOUTS_PER_HOUR = env.integer("DONATION_CHECKOUTS_PER_HOUR", 300, minimum=1)

# (limits block)

# --- Admin, uploads, webhooks (issue 10) ----------------------------------------------

# (admin block)

# --- Search and look-ups (issue 10) ---------------------------------------------------

# A search's words never travel in a URL: the form is POSTed, the words are kept in the session
# (encrypted) under a random token, and the results page carries only ``?s=<token>``. A token lasts
# this long (and no longer than the session).
SEARCH_TOKEN_SECONDS = env.integer("SEARCH_TOKEN_SECONDS", 30 * 60, minimum=60)
# The live duplicate check at intake (an A-number, or a name and a birth date) tells whether a
# person is registered: at most this many look-ups per user per window, counted in the shared cache.
INTAKE_LOOKUPS_PER_WINDOW = env.integer("INTAKE_LOOKUPS_PER_WINDOW", 30, minimum=1)
INTAKE_LOOKUP_WINDOW_SECONDS = env.integer("INTAKE_LOOKUP_WINDOW_SECONDS", 5 * 60, minimum=10)

# (search block)

# --- Oversight: read alerts (issue 10) --------------------------------------------------

# The hourly scan of the access log (casework.services.oversight.read_alerts_scan) alerts the
# administrators when, in 24 hours, an account viewed more than this many cases it was never
# assigned to and did not register (supervising attorneys, who read every case, have their own,
# higher limit), or made more than this many exports and downloads.
READ_ALERT_UNASSIGNED_CASES = env.integer("READ_ALERT_UNASSIGNED_CASES", 25, minimum=1)
READ_ALERT_SUPERVISOR_CASES = env.integer("READ_ALERT_SUPERVISOR_CASES", 150, minimum=1)
READ_ALERT_EXPORTS = env.integer("READ_ALERT_EXPORTS", 10, minimum=1)
CELERY_BEAT_SCHEDULE["read-alerts"] = {
    "task": "casework.tasks.read_alerts_scan",
    "schedule": crontab(minute=5),
}

# (oversight block)

# --- Passwords and authenticators (ASVS review) ----------------------------------------

# What a new password must pass (accounts/passwords.py lists the rules and the context words):
# 10 characters or more and no maximum; not common, nor a common one with digits or punctuation
# around it; no word tied to Amparo, the fund, a role or the person's e-mail address; not in a
# known breach. No composition rules (ASVS 6.2.5): Django's NumericPasswordValidator is left out.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "accounts.passwords.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.ContextWordsValidator"},
    {"NAME": "accounts.passwords.BreachedPasswordValidator"},
]
# Words refused in passwords beyond the built-in list (comma-separated: the city, the building).
PASSWORD_CONTEXT_WORDS = env.string_list("PASSWORD_CONTEXT_WORDS", [])
# The Pwned Passwords range API that new passwords are checked against (k-anonymity: only the first
# 5 hex digits of the password's SHA-1 are sent), or a self-hosted mirror of it; empty turns the
# check off (the default with DEBUG on). When it cannot be reached the check falls back to the
# common-password list and logs a warning.
PWNED_PASSWORDS_API_URL = env.string(
    "PWNED_PASSWORDS_API_URL", "" if DEBUG else "https://api.pwnedpasswords.com/range/"
).strip()
if PWNED_PASSWORDS_API_URL and (
    not PWNED_PASSWORDS_API_URL.startswith(("https://", "http://")) or not PWNED_PASSWORDS_API_URL.endswith("/")
):
    raise ImproperlyConfigured(
        "PWNED_PASSWORDS_API_URL must be an http(s) URL ending in '/' (the hash prefix is appended), or empty."
    )

# (passwords block)

# --- Sessions (ASVS review) -------------------------------------------------------------

# Staff sessions: a re-authentication gets a new session key, StaffSession rows follow key
# changes, a password change ends the other sessions, signing out sends Clear-Site-Data
# (accounts.middleware.StaffSessionMiddleware). It comes before SessionLifetimeMiddleware, whose
# 12-hour sign-out it must see.
MIDDLEWARE.insert(
    MIDDLEWARE.index("accounts.middleware.SessionLifetimeMiddleware"), "accounts.middleware.StaffSessionMiddleware"
)
# Signed-in pages learn the idle limit and the time left before the 12-hour limit, so that
# static/js/session-expiry.js can clear a page left open once the session is over.
TEMPLATES[0]["OPTIONS"]["context_processors"].append(  # type: ignore[index]  # a list, as written above
    "accounts.context_processors.session_expiry"
)
# A donor-portal session ends this long after the donor signed in with the e-mailed code,
# however active (funds/donor_session.py); the 30-minute idle limit (SESSION_COOKIE_AGE) applies too.
DONOR_SESSION_ABSOLUTE_SECONDS = env.integer("DONOR_SESSION_ABSOLUTE_SECONDS", 2 * 60 * 60, minimum=60)

# (sessions block)

# --- Limits on expensive work one account may ask for (ASVS review) ---------------------

# Report runs (reports/services.py): at most this many waiting or running per person, and this many
# asked for per hour; past either the page answers 429 and says when to come back.
REPORT_RUNS_PER_USER_ACTIVE = env.integer("REPORT_RUNS_PER_USER_ACTIVE", 3, minimum=1)
REPORT_RUNS_PER_USER_HOUR = env.integer("REPORT_RUNS_PER_USER_HOUR", 20, minimum=1)
# Annual statement PDFs a signed-in donor may have rendered per hour (funds/limits.py).
DONOR_STATEMENTS_PER_HOUR = env.integer("DONOR_STATEMENTS_PER_HOUR", 10, minimum=1)

# --- Uploads (ASVS review) --------------------------------------------------------------

# (uploads block)
# Uploads are refused by their declared size before they are read (kernel.upload_limits, 413 or 411),
# then judged by content and scanned for malware before they are stored (kernel.uploads, kernel.malware).
# The verification page reads a report file only to hash it (reports/forms.py's VERIFY_MAX_BYTES).
REPORT_VERIFY_MAX_BYTES = 50 * 1024 * 1024
# Room for a form's other fields and the multipart framing beside its file.
UPLOAD_FORM_MARGIN_BYTES = 1024 * 1024
# The largest multipart body a page takes: a case document or payment attachment plus the margin,
# and per URL name the pages that take larger files.
UPLOAD_REQUEST_MAX_BYTES = DOCUMENT_MAX_BYTES + UPLOAD_FORM_MARGIN_BYTES
UPLOAD_REQUEST_MAX_BYTES_BY_URL = {"reports:verify": REPORT_VERIFY_MAX_BYTES + UPLOAD_FORM_MARGIN_BYTES}
MIDDLEWARE.insert(
    MIDDLEWARE.index("kernel.request_context.RequestContextMiddleware") + 1,
    "kernel.upload_limits.UploadLimitMiddleware",
)
# Documents and attachments (personal data, stored encrypted) stay in memory while they are checked,
# never written in the clear to a temporary file: at most one request limit per upload in progress.
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_REQUEST_MAX_BYTES
# clamd, which every uploaded file is streamed to (INSTREAM) before it is stored: tcp://host:3310 or
# unix:///run/clamav/clamd.ctl; "off" runs without a scan (the deploy check warns); empty (no scan)
# only with DEBUG on, else the deploy check fails. clamd's StreamMaxLength must be at least DOCUMENT_MAX_MB.
UPLOAD_SCANNER_URL = env.string("UPLOAD_SCANNER_URL", "").strip()
from kernel.malware import parse_scanner_url  # noqa: E402 - kept inside the uploads block

try:
    parse_scanner_url(UPLOAD_SCANNER_URL)
except ValueError as _exc:
    raise ImproperlyConfigured(f"UPLOAD_SCANNER_URL: {_exc}.") from _exc
# The whole exchange with the scanner (connect, send, verdict); past it the upload is refused.
UPLOAD_SCANNER_TIMEOUT_SECONDS = env.integer("UPLOAD_SCANNER_TIMEOUT_SECONDS", 30, minimum=1)

# --- Browser and transport rules (ASVS review) --------------------------------------------

# (frontend block)

# Cookie names with the __Host- prefix over HTTPS: the browser then accepts them only with Secure,
# Path=/ and no Domain, so no sibling host or plain-http page can set or shadow them (ASVS 3.3.3).
# Over plain http (tests, the local demo) browsers refuse __Host- cookies: the plain names then.
# The CSRF token reaches scripts through <meta name="csrf-token"> (static/js/amparo.js), never
# the cookie, which stays HttpOnly: the name change does not touch the page's scripts.
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
LANGUAGE_COOKIE_NAME = "__Host-django_language" if HTTPS else "django_language"
# Flash messages (which can name a case) live in the server-side session, never in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Where Stripe's API may send a donor to pay (ASVS 3.7.2): a Checkout Session's URL on any other
# host is refused (funds.services.checkout.checkout_url_allowed). http:// only for 127.0.0.1 or
# localhost, with DEBUG on or when listed here (the tests' fake Stripe).
STRIPE_CHECKOUT_HOSTS = [host.lower() for host in env.string_list("STRIPE_CHECKOUT_HOSTS", ["checkout.stripe.com"])]
_LOCAL_CHECKOUT_HOSTS = [host for host in ("127.0.0.1", "localhost") if DEBUG or host in STRIPE_CHECKOUT_HOSTS]

# CSP: no <base> at all; forms post only to us. The donation form's answer is a 303 to Stripe
# Checkout, and Chromium checks a redirect after a form POST against form-action too: the
# checkout hosts are listed (https only, except a local fake Stripe).
CONTENT_SECURITY_POLICY["DIRECTIVES"]["base-uri"] = [NONE]
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
    SELF,
    *(f"https://{host}" for host in STRIPE_CHECKOUT_HOSTS),
    *(f"http://{host}:*" for host in _LOCAL_CHECKOUT_HOSTS),
]
# Static files are answered by WhiteNoise before django-csp runs: they get a policy of their own
# (nothing runs, no framing) and nosniff from kernel.static_headers. WhiteNoise wants the function
# itself, not its dotted path; imported here to keep this block in one place.
from kernel.static_headers import add_static_headers  # noqa: E402

WHITENOISE_ADD_HEADERS_FUNCTION = add_static_headers

# HTTP to HTTPS redirects are for browsers. Machines get an answer, not a 301: Stripe's webhook
# (signed), the health check, and the calendar feed, which refuses plain http itself (403) so that
# its secret token is not sent twice (casework.views.calendar.calendar_feed).
SECURE_REDIRECT_EXEMPT = [r"^stripe/webhook/$", r"^healthz$", r"^calendar/[^/]+\.ics$"]

# --- TLS to the back ends, the Stripe client, key rotation (ASVS review) ------------------

# `manage.py check --deploy` (amparo/checks.py) warns about a PostgreSQL, Redis or SMTP server off
# this machine reached without verified TLS, and refuses an http:// Stripe or site address.
# Earlier SECRET_KEYs (comma-separated), still accepted but never used to sign, so that a new key can
# be rolled out without signing everyone out: sessions, password-reset and invitation links and
# signed values made under an old key stay valid until it is removed (after PASSWORD_RESET_TIMEOUT).
SECRET_KEY_FALLBACKS = env.string_list("SECRET_KEY_FALLBACKS", [])
for _number, _fallback in enumerate(SECRET_KEY_FALLBACKS, start=1):
    if len(_fallback) < 50:
        raise ImproperlyConfigured(f"SECRET_KEY_FALLBACKS: key number {_number} is shorter than 50 characters.")
    if _fallback == SECRET_KEY:
        raise ImproperlyConfigured(f"SECRET_KEY_FALLBACKS: key number {_number} is the SECRET_KEY itself.")
# Seconds the Stripe client waits to connect and for each read (the library's default is 80); it
# never follows a redirect (funds.stripe_gateway).
STRIPE_TIMEOUT_SECONDS = env.integer("STRIPE_TIMEOUT_SECONDS", 10, minimum=1)
# Check ids an operator has decided to accept (comma-separated), e.g. amparo.W006 where the code is
# deployed as a git checkout on purpose.
SILENCED_SYSTEM_CHECKS = env.string_list("SILENCED_SYSTEM_CHECKS", [])

# (deploy block)

# --- resilience: the outbox ---
# Work to do after a commit is an outbox row (kernel.enqueue); the commit hook sends it and this
# sweep sends what the broker refused at that moment. After a failed send a process leaves its
# messages to the sweep for OUTBOX_BACKOFF_SECONDS. Sent rows are kept OUTBOX_KEEP_DAYS.
OUTBOX_BACKOFF_SECONDS = env.integer("OUTBOX_BACKOFF_SECONDS", 15, minimum=0)
OUTBOX_KEEP_DAYS = env.integer("OUTBOX_KEEP_DAYS", 7, minimum=1)
CELERY_BEAT_SCHEDULE["kernel-outbox-sweep"] = {"task": "kernel.tasks.outbox_sweep", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["kernel-submission-keys-expire"] = {
    "task": "kernel.tasks.submission_keys_expire",
    "schedule": crontab(hour=4, minute=5),
}
# A form's one-time key is remembered this long: a retry or a second tab within it shows the first result.
SUBMISSION_KEY_DAYS = env.integer("SUBMISSION_KEY_DAYS", 7, minimum=1)

# --- resilience: refunds ---
# A refund committed as "requested" that Stripe never answered (the web process died before it
# asked, or Stripe could not be reached) is asked again, under the same idempotency key, once it is
# REFUND_RETRY_AFTER_MINUTES old; after REFUND_MAX_ATTEMPTS tries in all (the first is the web
# request's), or as soon as Stripe says it cannot refund, it is marked failed and its amount is free
# again (funds.services.checkout.refunds_retry_stale). Finance sees failed refunds on its home page.
REFUND_RETRY_AFTER_MINUTES = env.integer("REFUND_RETRY_AFTER_MINUTES", 5, minimum=1)
REFUND_MAX_ATTEMPTS = env.integer("REFUND_MAX_ATTEMPTS", 5, minimum=1)
CELERY_BEAT_SCHEDULE["funds-retry-stale-refunds"] = {
    "task": "funds.tasks.retry_stale_refunds",
    "schedule": crontab(minute="*/5"),
}
# The same net for receipts: a paid donation whose receipt was never sent (its task lost, or out
# of retries) is queued again (funds.services.receipts.receipts_requeue_unsent).
CELERY_BEAT_SCHEDULE["funds-requeue-unsent-receipts"] = {
    "task": "funds.tasks.requeue_unsent_receipts",
    "schedule": crontab(minute="7-59/15"),
}

# --- resilience: unconfirmed ---
# A session save that meets a dead connection after the view committed is tried once more on a
# fresh one (kernel.sessions); a view that loses its connection answers "we could not confirm
# this was saved" with what was typed, never the 500 page (kernel.unconfirmed).
SESSION_ENGINE = "kernel.sessions"
MIDDLEWARE.insert(
    MIDDLEWARE.index("kernel.readlog.ReadNotLoggedMiddleware"), "kernel.unconfirmed.UnconfirmedMiddleware"
)

# --- resilience: tasks ---
# Report runs survive a killed worker and a database blip (reports.services): a worker claiming a
# run takes a lease of REPORT_RUN_LEASE_SECONDS, renewed by its heartbeat as the progress moves; a
# run waiting REPORT_RUN_QUEUED_LEASE_SECONDS with no worker taking it up, or running past its lease
# (its worker died), is stuck. The sweep (every 5 minutes) sends a stuck run again, at most
# REPORT_RUN_MAX_REQUEUES times, and fails it once REPORT_RUN_MAX_ATTEMPTS workers were lost on it;
# asking again for a stuck report starts a new run.
REPORT_RUN_LEASE_SECONDS = env.integer("REPORT_RUN_LEASE_SECONDS", 300, minimum=1)
REPORT_RUN_QUEUED_LEASE_SECONDS = env.integer("REPORT_RUN_QUEUED_LEASE_SECONDS", 15 * 60, minimum=1)
REPORT_RUN_MAX_ATTEMPTS = env.integer("REPORT_RUN_MAX_ATTEMPTS", 3, minimum=1)
REPORT_RUN_MAX_REQUEUES = env.integer("REPORT_RUN_MAX_REQUEUES", 3, minimum=0)
# The rule: a report's hard time limit stays below the broker's visibility timeout (1800 s, the
# Redis block), or Redis would hand a report still being produced to a second worker. A prefork
# worker enforces both limits; a thread-pool worker cannot, so the run's heartbeat stops a run at
# the soft limit itself (reports.services).
REPORT_SOFT_TIME_LIMIT_SECONDS = 18 * 60
REPORT_TIME_LIMIT_SECONDS = 20 * 60
# Drills and fault tests only (bench/drills, tests/faults): each progress step of a report waits this
# long, so that a small report takes seconds and a worker can be killed in the middle of it.
REPORT_STEP_DELAY_MS = env.integer("REPORT_STEP_DELAY_MS", 0, minimum=0)
CELERY_BEAT_SCHEDULE["reports-sweep-stuck-runs"] = {
    "task": "reports.tasks.sweep_stuck_runs",
    "schedule": crontab(minute="2-59/5"),
}

# --- resilience: backup ---
# Files in private storage that no row references (an upload whose transaction rolled back, a write
# cut short by a crash) are counted weekly and logged; `manage.py orphaned_files --delete` removes them
# (kernel/storage.py). `manage.py verify_restore` runs each of KEY_CHECKS (functions that raise
# ImproperlyConfigured when the configured keys do not fit the stored data), by name, so the kernel's
# command stays generic; the same check guards the web application and the workers at start-up.
CELERY_BEAT_SCHEDULE["kernel-orphaned-files-check"] = {
    "task": "kernel.tasks.orphaned_files_check",
    "schedule": crontab(day_of_week="sun", hour=3, minute=40),
}
KEY_CHECKS = ["casework.services.keys.keys_verify"]

# --- resilience: redis ---
# A hung Redis (stopped by SIGSTOP, a dead NAT entry, a failover) accepts connections and never
# answers: without timeouts every request that touches it waits for ever. Each wait below is
# bounded (milliseconds, from the environment), so the site keeps answering while Redis does not.
#
# The broker (kombu's Redis transport). A send gives up after one retry on a fresh connection (the
# retry heals a pooled connection that a Redis restart closed): a hung Redis costs the request about
# two socket timeouts, and the outbox (kernel.enqueue) keeps the message for its sweep. The socket
# timeout must stay above the worker's 1-second BRPOP, which it also bounds.
CELERY_BROKER_SOCKET_TIMEOUT_MS = env.integer("CELERY_BROKER_SOCKET_TIMEOUT_MS", 1500, minimum=1100)
CELERY_BROKER_CONNECT_TIMEOUT_MS = env.integer("CELERY_BROKER_CONNECT_TIMEOUT_MS", 1000, minimum=100)
# How long Redis keeps a message a worker took but has not acknowledged (tasks acknowledge late)
# before it hands it to another worker: a worker killed in the middle of a task has it redone after
# this long. The rule: it must exceed the longest hard time limit of any task (the reports',
# REPORT_TIME_LIMIT_SECONDS, the tasks block) and the longest retry countdown (600 s,
# kernel.retry), or Redis would give a task still running, or still waiting for its retry, to a
# second worker. Start-up refuses a value that breaks the rule.
CELERY_VISIBILITY_TIMEOUT_SECONDS = env.integer("CELERY_VISIBILITY_TIMEOUT_SECONDS", 1800, minimum=60)
_longest_task_seconds = max(REPORT_TIME_LIMIT_SECONDS, 600)
if _longest_task_seconds >= CELERY_VISIBILITY_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT_SECONDS={CELERY_VISIBILITY_TIMEOUT_SECONDS} must exceed the longest task's "
        f"hard time limit or retry countdown ({_longest_task_seconds} s)."
    )
# Options of every transport live in one dict; each transport reads only its own (the filesystem
# folders above, these for Redis), so a test or a process pointed at Redis later still gets them.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT_MS / 1000,
    "socket_connect_timeout": CELERY_BROKER_CONNECT_TIMEOUT_MS / 1000,
    "socket_keepalive": True,
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # A connection is tried once (kombu's default is for ever); redis-py's pool itself replaces a
    # pooled connection that a Redis restart closed.
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT_MS / 1000
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# No result backend: every task ignores its result (CELERY_TASK_IGNORE_RESULT), so nothing waits on
# Redis for results.
#
# The cache (CACHE_URL, a Redis of its own or another database number than the broker's) holds only
# the limits' counts and short-lived memories. Reads and writes wait at most CACHE_SOCKET_TIMEOUT_MS;
# while Redis does not answer, kernel.cache.FailOpenRedisCache counts in each process instead (for
# CACHE_FAIL_OPEN_SECONDS before it asks Redis again), so sign-in keeps working: the limits then
# count per process, and no password or code is checked any less.
CACHE_SOCKET_TIMEOUT_MS = env.integer("CACHE_SOCKET_TIMEOUT_MS", 500, minimum=50)
CACHE_CONNECT_TIMEOUT_MS = env.integer("CACHE_CONNECT_TIMEOUT_MS", 500, minimum=50)
CACHE_FAIL_OPEN_SECONDS = env.integer("CACHE_FAIL_OPEN_SECONDS", 10, minimum=1)
REDIS_CACHE_OPTIONS = {
    "socket_timeout": CACHE_SOCKET_TIMEOUT_MS / 1000,
    "socket_connect_timeout": CACHE_CONNECT_TIMEOUT_MS / 1000,
    "FAIL_OPEN_SECONDS": CACHE_FAIL_OPEN_SECONDS,
}
for _cache in CACHES.values():
    if _cache["BACKEND"] in {"django.core.cache.backends.redis.RedisCache", "kernel.cache.FailOpenRedisCache"}:
        _cache["BACKEND"] = "kernel.cache.FailOpenRedisCache"
        _cache["OPTIONS"] = {**REDIS_CACHE_OPTIONS, **_cache.get("OPTIONS", {})}
# /healthz waits at most this long for the broker's PING (it answers within a second in all).
HEALTHZ_BROKER_TIMEOUT_MS = env.integer("HEALTHZ_BROKER_TIMEOUT_MS", 400, minimum=50)

# --- storage: s3 ---
# Private files (documents, attachments, receipts, report files) on this machine's disk
# (PRIVATE_MEDIA_ROOT, the default) or, for web and worker processes on several machines, in an
# S3-compatible bucket (PRIVATE_STORAGE=s3). Either way every file is sealed with the field keys
# and served only by the permission-checked views (kernel/storage.py): objects are private, no ACL
# is sent and no signed URL is ever made. A hung store costs a request at most about
# S3_MAX_ATTEMPTS * (S3_CONNECT_TIMEOUT_SECONDS + S3_READ_TIMEOUT_SECONDS) per call, then the
# upload is refused as "not stored" (a 400) and a task retries.
from urllib.parse import urlsplit  # noqa: E402 - kept inside the storage block

PRIVATE_STORAGE = env.choice("PRIVATE_STORAGE", "filesystem", {"filesystem", "s3"})
if PRIVATE_STORAGE == "s3":
    S3_BUCKET = env.string("S3_BUCKET", "").strip()
    if not S3_BUCKET:
        raise ImproperlyConfigured("PRIVATE_STORAGE=s3 needs S3_BUCKET: the name of the (private) bucket.")
    _s3_access_key = env.string("S3_ACCESS_KEY_ID", "").strip()
    _s3_secret_key = env.string("S3_SECRET_ACCESS_KEY", "").strip()
    if bool(_s3_access_key) != bool(_s3_secret_key):
        raise ImproperlyConfigured(
            "Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or S3_SECRET_ACCESS_KEY_FILE), or neither "
            "(then the standard AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile or instance role apply)."
        )
    _s3_sse = env.choice("S3_SERVER_SIDE_ENCRYPTION", "", {"", "AES256", "aws:kms"})
    _s3_kms_key = env.string("S3_KMS_KEY_ID", "").strip()
    if _s3_kms_key and _s3_sse != "aws:kms":
        raise ImproperlyConfigured("S3_KMS_KEY_ID is set: it needs S3_SERVER_SIDE_ENCRYPTION=aws:kms.")
    _s3_object_parameters = {"ServerSideEncryption": _s3_sse} if _s3_sse else {}
    if _s3_kms_key:
        _s3_object_parameters["SSEKMSKeyId"] = _s3_kms_key
    _s3_endpoint = env.string("S3_ENDPOINT_URL", "").strip()
    if _s3_endpoint and urlsplit(_s3_endpoint).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(f"S3_ENDPOINT_URL={_s3_endpoint!r} is not an http(s):// address.")
    _s3_addressing = env.choice("S3_ADDRESSING_STYLE", "", {"", "auto", "path", "virtual"})
    STORAGES = {
        **STORAGES,
        "default": {
            "BACKEND": "kernel.storage.EncryptedS3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                "endpoint_url": _s3_endpoint or None,
                "region_name": env.string("S3_REGION", "").strip() or None,
                "access_key": _s3_access_key or None,
                "secret_key": _s3_secret_key or None,
                "location": env.string("S3_PREFIX", "").strip().strip("/"),
                "addressing_style": _s3_addressing or None,
                "object_parameters": _s3_object_parameters,
                "default_acl": None,
                "connect_timeout": env.integer("S3_CONNECT_TIMEOUT_SECONDS", 2, minimum=1),
                "read_timeout": env.integer("S3_READ_TIMEOUT_SECONDS", 5, minimum=1),
                "max_attempts": env.integer("S3_MAX_ATTEMPTS", 2, minimum=1),
                "conditional_writes": env.boolean("S3_CONDITIONAL_WRITES", True),
            },
        },
    }

# --- scale: session ---
# A session row whose data did not change is written at most this often to renew its expiry
# (kernel.sessions): the idle limit is SESSION_COOKIE_AGE minus at most this much.
SESSION_RENEW_SECONDS = env.integer("SESSION_RENEW_SECONDS", 60, minimum=0)

# --- scale: finance ---
# The ledger's full self-check (every posting re-summed, ~0.6 s at 800,000 postings) runs in the
# worker, not on each page view; the finance and audit pages show its result and call it stale
# after an hour (``funds.selectors.LEDGER_CHECK_STALE_AFTER``).
CELERY_BEAT_SCHEDULE["funds-ledger-check"] = {
    "task": "funds.tasks.ledger_check",
    "schedule": crontab(minute="4-59/10"),
}
