"""Settings shared by every run. Everything that differs between runs comes from the environment."""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=None)
# The one client-IP policy (rate limits, allauth's included, and the consent ledger's IP hash):
# the number of proxies in front that each append to X-Forwarded-For. 0: REMOTE_ADDR is the client.
# Behind one TLS-terminating proxy, 1: the address that proxy appended, which a client cannot forge.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1
# Where people reach the portal: every link in a mail is built from it (https in production).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

DJANGO_APPS = [
    # Before the admin: its admin classes show a field per language.
    "modeltranslation",
    "accounts.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "phonenumber_field",
    "django_celery_beat",
    "csp",
    "simple_history",
    "ninja",  # the API's docs page from the package's own static files (api.api)
]
LOCAL_APPS = [
    "dsar",
    "accounts",
    "consent",
    "notifications",
    "ops",
    "desk",
    "review",
    "api",
    "datastores",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "workpex_portal.middleware.QueryStringGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before anything acts for the signed-in person: an expired session is ended first.
    "accounts.middleware.SessionTimeoutMiddleware",
    "consent.middleware.GlobalPrivacyControlMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "workpex_portal.urls"
WSGI_APPLICATION = "workpex_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consent.context_processors.cookie_consent",
                "consent.context_processors.policy_notice",
            ],
        },
    },
]


def database_from_env(**default) -> dict:
    """The database of DATABASE_URL with the options every process needs (production reads it
    with no default: a missing URL fails at start)."""
    database = env.db("DATABASE_URL", **default)
    database["ATOMIC_REQUESTS"] = True
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (web, worker, beat) share the file: wait for locks instead of
        # failing; BEGIN IMMEDIATE makes the job claims take turns (dsar/claims.py, dsar.E005).
        database.setdefault("OPTIONS", {}).update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    if database["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
        "DATABASE_JIT", default=False
    ):
        # PostgreSQL compiles a query to machine code once its estimated cost passes
        # jit_above_cost. The consent gate's per-recipient subqueries look costly to the planner,
        # and compiling took longer than running them (2-3 s of a 4 s query at 100k recipients:
        # bench/NOTES.md).
        database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    return database


DATABASES = {"default": database_from_env(default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"

# Internationalisation: the user's own language and time zone win over the defaults.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
# Texts people read that live in the database (consent purposes, cookie categories, partners'
# descriptions) have a column per language (django-modeltranslation, registered in each app's
# translation.py); officers fill every language, and a missing one falls back to English.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and built files (exports, photos, scans) hold personal data: they live outside any
# public URL and are served by views that check who is asking. Here on the local disk
# (MEDIA_ROOT); production keeps them in shared object storage (`object_storage`, docs/storage.md).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Workpex Privacy <privacy@workpex.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that stops answering must not hold a worker (and its claimed rows) for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Cookies: never readable by scripts, not sent on cross-site requests other than top-level links
# (Secure and the __Host- prefix in production.py). A signed-in session ends after
# ACCOUNTS_SESSION_IDLE_TIMEOUT_SECONDS without a request and
# ACCOUNTS_SESSION_ABSOLUTE_TIMEOUT_SECONDS after the login
# (accounts.middleware.SessionTimeoutMiddleware); the cookie and the stored session
# expire with the absolute limit too. Django and allauth give the session a new key at login.
ACCOUNTS_SESSION_IDLE_TIMEOUT_SECONDS = env.int(
    "ACCOUNTS_SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60
)
ACCOUNTS_SESSION_ABSOLUTE_TIMEOUT_SECONDS = env.int(
    "ACCOUNTS_SESSION_ABSOLUTE_TIMEOUT_SECONDS", default=12 * 60 * 60
)
SESSION_COOKIE_AGE = ACCOUNTS_SESSION_ABSOLUTE_TIMEOUT_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every response: scripts, styles, fonts and images only
# from our own origin (no inline script or style, so no nonce is needed), never framed, forms
# post only to us. The one exception is the home page's social widgets, which add the networks'
# origins to that one response once the person accepted them (workpex_portal.views.home).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): every powerful browser feature is off; the
# portal uses none of them.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# django-allauth: accounts, verified email, rate limits, MFA.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "add_email": "accounts.forms.AddEmailForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Workpex] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
# The portal's own limits (dsar/ratelimits.py, over the `limits` library), in allauth's notation.
PORTAL_RATE_LIMIT_STORAGE = env("RATE_LIMIT_STORAGE_URL", default="memory://")
PORTAL_RATE_LIMITS = {
    # Filing a privacy request (dsar/filing_limits.py).
    # Floods only: one person opening the same kind of request again and again (the key is the
    # person and the kind), and email-only filings from one IP for many addresses. A person's
    # first request of each kind, and filing again what is open (joined), are never refused.
    "dsar_request": "3/h/key",
    "dsar_request_ip": "20/h/ip",
    # The public "report a child's data" form (accounts.views.child_report).
    "child_report": "10/h/ip,5/h/key",
    # consent: one-click unsubscribe per link (not per IP: RFC 8058 posts come from mailbox
    # providers' servers, a few addresses for millions of people; links are signed), the public
    # forms, and the emailed preferences link (per IP and per address).
    "unsubscribe": "10/m/key",
    "consent_form": "30/h/ip",
    "preferences_link": "10/h/ip,3/h/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Workpex Privacy Portal"
MFA_TOTP_TOLERANCE = 1  # accept the previous and next 30-second code: phones drift

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

PHONENUMBER_DEFAULT_REGION = None
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"

# Celery: messages only wake the work; the rows hold it (see design.md).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True


def payment_token_dev_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY, for local and test settings only."""
    import base64
    import hashlib

    digest = hashlib.sha256(b"workpex-payment-token-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def object_storage() -> dict:
    """The default storage in an S3-compatible bucket, from the STORAGE_* variables (a missing
    STORAGE_BUCKET fails at start). Objects are private: every download goes through a portal
    view that checks who is asking, never a public or presigned URL. Without the keys, boto3
    finds credentials its usual way (AWS_* variables, an instance or task role)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("STORAGE_BUCKET"),
            "endpoint_url": env("STORAGE_ENDPOINT_URL", default=None),
            "region_name": env("STORAGE_REGION", default=None),
            "access_key": env("STORAGE_ACCESS_KEY_ID", default=None),
            "secret_key": env("STORAGE_SECRET_ACCESS_KEY", default=None),
            "location": env("STORAGE_PREFIX", default=""),
            # An empty STORAGE_DEFAULT_ACL sends none (buckets with ACLs disabled refuse them).
            "default_acl": env("STORAGE_DEFAULT_ACL", default="private") or None,
            "addressing_style": env("STORAGE_ADDRESSING_STYLE", default=None),
            # url() is never used for these files; should anything call it, it gets a signed
            # link that expires in minutes, not a public address.
            "querystring_auth": True,
            "querystring_expire": 300,
            # A new file never replaces another of the same name (the local disk's behaviour):
            # a replaced photo's old file is deleted after the commit, by its own name.
            "file_overwrite": False,
            # Should an object ever be reached directly (a leaked signed link), a browser saves
            # it instead of rendering the HTML report on the bucket's origin.
            "object_parameters": {"ContentDisposition": "attachment"},
            # A download is spooled to a temporary file past this size, not held in memory.
            "max_memory_size": FILE_UPLOAD_MAX_MEMORY_SIZE,
        },
    }


def filesystem_broker_options(folder: Path) -> dict:
    """Kombu's filesystem transport: processes on one machine share a folder instead of a server."""
    folder = Path(str(folder))
    for sub in ("queue", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Every handler carries the card-number filter: no full card number reaches a log line.
    "filters": {"card_numbers": {"()": "dsar.cardnumbers.CardNumberLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["card_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Our own apps' settings (read through each app's app_settings module).
ACCOUNTS_MINIMUM_AGE = 16
# A sign-up answers no sooner than this (seconds), so an address that already has an account
# (nothing is created) cannot be told from a new one by timing. Keep it above the slowest normal
# sign-up (a password hash, ~0.2 s here, plus the writes).
ACCOUNTS_SIGNUP_MIN_SECONDS = env.float("ACCOUNTS_SIGNUP_MIN_SECONDS", default=0.6)
ACCOUNTS_PHOTO_MAX_BYTES = 5 * 1024 * 1024
ACCOUNTS_PHOTO_MAX_PIXELS = 4096
# Payments: the processor adapter (the test-mode one needs no network and takes test cards only)
# and the MultiFernet keys of stored payment tokens, comma-separated, newest first. Production
# has no default (system check accounts.E001); local and test settings derive one from SECRET_KEY.
ACCOUNTS_PAYMENT_PROCESSOR = env(
    "ACCOUNTS_PAYMENT_PROCESSOR", default="accounts.payments.TestModeProcessor"
)
PAYMENT_TOKEN_KEYS = env.list("PAYMENT_TOKEN_KEYS", default=[])
# Connected data stores (docs/datastores.md): MultiFernet keys of the stored connection URLs,
# comma-separated, newest first (local and test settings derive one from SECRET_KEY), and the
# key of the `hmac` masking strategy (empty: derived from SECRET_KEY).
DATASTORES_CREDENTIAL_KEYS = env.list("DATASTORES_CREDENTIAL_KEYS", default=[])
DATASTORES_HMAC_KEY = env("DATASTORES_HMAC_KEY", default="")
# Hands portability packages to the integrations (GDPR Art. 20(2)); the default has no network.
ACCOUNTS_INTEGRATION_ADAPTER = env(
    "ACCOUNTS_INTEGRATION_ADAPTER", default="accounts.integrations.TestModeIntegrationAdapter"
)
# The longest need-to-know window support staff may open on a person's data, in minutes.
ACCOUNTS_STAFF_ACCESS_MAX_MINUTES = env.int("ACCOUNTS_STAFF_ACCESS_MAX_MINUTES", default=240)
OPS_HEARTBEAT_MAX_AGE_SECONDS = env.int("OPS_HEARTBEAT_MAX_AGE_SECONDS", default=120)
DEFAULT_EXCEPTION_REPORTER_FILTER = "dsar.cardnumbers.CardNumberExceptionReporterFilter"
CSRF_FAILURE_VIEW = "workpex_portal.views.csrf_failure"
SESSION_ENGINE = "accounts.sessions"

# Recipients of personal data told about rectification, erasure and restriction (GDPR Art. 19).
# `adapter` empty: an officer contacts the recipient by hand from the request's admin page.
# `holds`: what the provider received (registry fields or models); a correction is passed on
# only to providers that hold the corrected field.
DSAR_SERVICE_PROVIDERS = [
    {
        "key": "email-delivery",
        "name": "Email delivery provider",
        "adapter": "dsar.recipients.MailAdapter",
        "contact": env("DSAR_EMAIL_PROVIDER_CONTACT", default="privacy@mail-provider.example"),
        # Addresses, and the name or username our mails greet people with.
        "holds": [
            "accounts.User.email",
            "accounts.User.full_name",
            "accounts.User.username",
            "account.EmailAddress",
        ],
    },
    {
        "key": "payment-processor",
        "name": "Payment processor",
        "adapter": "",
        "holds": [
            "accounts.User.email",
            "accounts.User.full_name",
            "accounts.Invoice",
            "accounts.PaymentMethod",
        ],
    },
]

# Webhooks out (docs/webhooks.md): the Fernet keys of the endpoints' secrets (comma-separated,
# newest first; empty derives one from SECRET_KEY), whether endpoints may be on private or
# loopback addresses, the HTTP timeout, and the retries with their backoff.
DSAR_WEBHOOK_SECRET_KEYS = env.list("WEBHOOK_SECRET_KEYS", default=[])
DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
DSAR_WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
DSAR_WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=15)
DSAR_WEBHOOK_BACKOFF_SECONDS = env.int("WEBHOOK_BACKOFF_SECONDS", default=30)
DSAR_WEBHOOK_BACKOFF_MAX_SECONDS = env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=6 * 3600)

# The controller, as consent receipts (and records of processing) name it. The defaults are
# placeholders: production refuses them (consent.E004), so set the real ones.
PRIVACY_CONTROLLER = {
    "name": env("CONTROLLER_NAME", default="Workpex"),
    "contact": env("CONTROLLER_CONTACT", default="Workpex privacy team"),
    "email": env("CONTROLLER_EMAIL", default="privacy@workpex.example"),
    "phone": env("CONTROLLER_PHONE", default="+1 555 0100"),
    "url": env("CONTROLLER_URL", default="https://www.workpex.com"),
    # The entity's identifier in receipts (ISO/IEC TS 27560 "entity id"): a URL or other IRI.
    "entity_id": env("CONTROLLER_ENTITY_ID", default="https://www.workpex.com"),
    "address": {
        "streetAddress": env("CONTROLLER_STREET", default="1 Example Street"),
        "addressLocality": env("CONTROLLER_LOCALITY", default="Example City"),
        "postalCode": env("CONTROLLER_POSTAL_CODE", default="00000"),
        "addressRegion": env("CONTROLLER_REGION", default=""),
        "addressCountry": env("CONTROLLER_COUNTRY", default="US"),
    },
    # Records of processing, GDPR Art. 30(1)(a): the data protection officer and the
    # representative in the Union (Art. 27), where there are any (empty: none designated).
    "dpo": env("CONTROLLER_DPO", default=""),
    "dpo_email": env("CONTROLLER_DPO_EMAIL", default=""),
    "representative": env("CONTROLLER_REPRESENTATIVE", default=""),
}

# Consent (read through consent/app_settings.py).
# The key that signs consent receipts (PEM of an EC P-256 private key; `\n` for newlines is
# fine). Empty derives one from SECRET_KEY (embedded default); production requires it
# (consent.E005). Retired public keys stay published at /.well-known/jwks.json (comma-separated
# PEMs are awkward in the environment, so give them as a JSON list).
CONSENT_RECEIPT_SIGNING_KEY = env("CONSENT_RECEIPT_SIGNING_KEY", default="")
CONSENT_RECEIPT_RETIRED_PUBLIC_KEYS = env.json("CONSENT_RECEIPT_RETIRED_PUBLIC_KEYS", default=[])
# Where consent records are stored (ISO 3166 codes, or EU), as receipts state it.
CONSENT_RECEIPT_STORAGE_LOCATIONS = env.list("CONSENT_RECEIPT_STORAGE_LOCATIONS", default=["EU"])
# Key of the HMAC that pseudonymises IP addresses in the consent ledger; empty derives one from
# SECRET_KEY (changing SECRET_KEY then changes the hashes of new rows).
CONSENT_IP_HASH_KEY = env("CONSENT_IP_HASH_KEY", default="")
# How long an unsubscribe link in a mail keeps working.
CONSENT_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS = env.int(
    "CONSENT_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS", default=365
)
# Policy-change notices: rows per batch, and how long a batch may stay claimed before the sweep
# decides its worker died and hands it out again.
CONSENT_NOTICE_BATCH_SIZE = env.int("CONSENT_NOTICE_BATCH_SIZE", default=100)
CONSENT_NOTICE_BATCHES_PER_TASK = env.int("CONSENT_NOTICE_BATCHES_PER_TASK", default=20)
CONSENT_NOTICE_STUCK_AFTER_SECONDS = env.int("CONSENT_NOTICE_STUCK_AFTER_SECONDS", default=600)
# How long a notice the mail server does not take is retried (at least 72 hours, check
# consent.E003), and the longest wait between two tries.
CONSENT_NOTICE_RETRY_FOR_HOURS = env.int("CONSENT_NOTICE_RETRY_FOR_HOURS", default=72)
CONSENT_NOTICE_BACKOFF_MAX_SECONDS = env.int("CONSENT_NOTICE_BACKOFF_MAX_SECONDS", default=3600)
# Under-16 removals: how long a removal may stay running before the sweep resumes it.
ACCOUNTS_CHILD_REMOVAL_STUCK_AFTER_SECONDS = env.int(
    "ACCOUNTS_CHILD_REMOVAL_STUCK_AFTER_SECONDS", default=900
)
