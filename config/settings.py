"""The one settings module. Every option is read from the environment (or `.env`).

Each variable is documented in `.env.example`; defaults give the embedded setup that
`make run` uses: SQLite for the app database, the SDE in its own SQLite file, and a cache and
Celery broker that need no server.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Where the embedded default keeps its files (app database, SDE, cache, broker queue).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
# Made here, so that the first command of a fresh clone (`migrate`) finds it: SQLite does not
# create the folder of its database file.
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS (production): redirect http to https, secure-only cookies, HSTS. Off for `make run`
# on http://localhost. Behind a TLS-terminating proxy also set SECURE_PROXY_SSL_HEADER=true
# (the proxy must set X-Forwarded-Proto). `manage.py check --deploy` is clean with HTTPS=true.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally: the docs work offline
    "csp",
    "sde",
    "market",
    "profit",
    "appraisal",
    "characters",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "characters.provider",  # the EVE SSO v2 provider for allauth (characters/provider/)
    "axes",  # failed admin logins: lockout per client and per user name (docs/protection.md)
]

MIDDLEWARE = [
    "config.requestid.RequestIdMiddleware",  # first: every later log line carries the id
    "config.metrics.MetricsMiddleware",
    "config.protection.RequestSizeMiddleware",
    "config.protection.RateLimitMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sde.middleware.SdeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: turns a lockout into its answer
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
                "sde.context_processors.sde_build",
                "market.context_processors.market",
            ],
        },
    },
]

# --- Databases -----------------------------------------------------------------------------
# `default` is the app's own database (users, sessions, admin log): PostgreSQL in production,
# an SQLite file by default. `sde` is the Static Data Export, a separate SQLite file in the
# Fuzzwork layout, opened read-only and never migrated (see sde/router.py).
SDE_PATH = Path(env.str("SDE_PATH", default=str(VAR_DIR / "sde.sqlite")))

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'app.sqlite3'}"),
    "sde": {
        "ENGINE": "django.db.backends.sqlite3",
        # Django opens SQLite with uri=True, so mode=ro makes every SDE connection read-only.
        "NAME": f"file:{SDE_PATH}?mode=ro",
        # A fresh connection per request, so an SDE swapped in by sde_install is seen at once.
        "CONN_MAX_AGE": 0,
    },
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASE_ROUTERS = ["sde.router.SdeRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# sde_install refuses a download that decompresses past this many bytes (the full dump is
# about half a GiB).
SDE_MAX_BYTES = env.int("SDE_MAX_BYTES", default=4 * 1024**3)
# Where `sde_install` downloads from when no --url is given.
SDE_DEFAULT_URL = env.str(
    "SDE_DEFAULT_URL", default="https://www.fuzzwork.co.uk/dump/sqlite-latest.sqlite.bz2"
)

# --- Cache and Celery ----------------------------------------------------------------------
# With REDIS_URL both use Redis; without it, a file cache and a file-system broker under
# VAR_DIR, which need no server and are still shared by the web, worker and beat processes.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="evetrade"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"  # messages whole before they are seen
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
# The queue web and beat send to and workers take from ("celery"); a separate deployment
# sharing one Redis database uses its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A cold shutdown (SIGQUIT: what bin/run-all sends the worker on Ctrl-C) gives running tasks
# this many seconds, then cancels them; being acknowledged late, their messages go back to
# the queue with the ones the worker had reserved. SIGTERM stays a warm shutdown (it waits).
# With the file broker the rest of a cold shutdown takes Celery about 6 s (its polling
# loops), so the grace is short enough for the whole stop to stay under 10 s.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=1.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Checks which regions are due (Expires plus jitter); not a refresh cron.
    "market-dispatch-due-refreshes": {
        "task": "market.tasks.dispatch_due_refreshes",
        "schedule": 10.0,
    },
    "market-refresh-prices": {"task": "market.tasks.refresh_prices", "schedule": 600.0},
    # ESI's public list of structures with a market (it caches it an hour).
    "market-public-structures": {
        "task": "market.tasks.learn_public_structures",
        "schedule": 6 * 3600.0,
    },
    # Checks which characters' data is due (ESI's Expires); each refresh takes its own lock.
    # Average daily volumes (30 days of history) per hub type, within the history budget.
    "profit-daily-volumes": {
        "task": "profit.volume_tasks.dispatch_daily_volumes",
        "schedule": 300.0,
    },
    "characters-dispatch-due": {
        "task": "characters.tasks.dispatch_due_characters",
        "schedule": 30.0,
    },
    # The markets members share (docs/structures.md), each when ESI's cache of it expired.
    "characters-shared-structures": {
        "task": "characters.tasks.refresh_shared_structures",
        "schedule": 60.0,
    },
    # Stored appraisals past their expiry (docs/appraisal.md).
    "appraisal-forget-expired": {"task": "appraisal.tasks.forget_expired", "schedule": 3600.0},
}

# The shared store (store/): Redis with REDIS_URL, else files under VAR_DIR/store.
STORE_KEY_PREFIX = env.str("STORE_KEY_PREFIX", default="evetrade")

# --- ESI (esi/) ----------------------------------------------------------------------------
ESI_BASE_URL = env.str("ESI_BASE_URL", default="https://esi.evetech.net").rstrip("/")
# Who to contact about this installation's traffic; CCP asks for it in the User-Agent.
ESI_CONTACT = env.str("ESI_CONTACT", default="admin@localhost")
# Where the code of this installation lives, also in the User-Agent.
ESI_PROJECT_URL = env.str("ESI_PROJECT_URL", default="")
# A call never sleeps longer than this for a rate limit; past it, it fails with the resume time.
ESI_MAX_PAUSE = env.float("ESI_MAX_PAUSE", default=30.0)
ESI_COMPATIBILITY_DATE = env.str("ESI_COMPATIBILITY_DATE", default="2026-08-04")
ESI_TIMEOUT = env.float("ESI_TIMEOUT", default=10.0)
ESI_MAX_CONCURRENCY = env.int("ESI_MAX_CONCURRENCY", default=8)
ESI_MAX_RETRIES = env.int("ESI_MAX_RETRIES", default=4)
ESI_BACKOFF_BASE = env.float("ESI_BACKOFF_BASE", default=0.5)
ESI_BACKOFF_MAX = env.float("ESI_BACKOFF_MAX", default=8.0)
# Daily downtime (UTC, HH:MM-HH:MM): no call is made inside it.
ESI_DOWNTIME = env.str("ESI_DOWNTIME", default="11:00-11:15")
# Pause every call when this few errors remain in ESI's error budget.
ESI_ERROR_LIMIT_FLOOR = env.int("ESI_ERROR_LIMIT_FLOOR", default=10)
# Structure markets (characters/structures.py): a run of the pool (one a minute) stops after
# this many 403s, and asks nothing while this few errors (or fewer) remain in ESI's budget.
ESI_STRUCTURE_REFUSALS_PER_RUN = env.int("ESI_STRUCTURE_REFUSALS_PER_RUN", default=10)
ESI_STRUCTURE_ERROR_FLOOR = env.int("ESI_STRUCTURE_ERROR_FLOOR", default=50)
# Pause a rate-limit group when this fraction of its token bucket remains.
ESI_RATELIMIT_FLOOR = env.float("ESI_RATELIMIT_FLOOR", default=0.05)
# Circuit breaker: open after this many failed calls in a row, probe again after this long.
ESI_CIRCUIT_FAILURES = env.int("ESI_CIRCUIT_FAILURES", default=5)
ESI_CIRCUIT_RESET = env.float("ESI_CIRCUIT_RESET", default=60.0)

# --- Market snapshots (market/) ------------------------------------------------------------
# The five trade hubs' regions, and the global PLEX market (19000001): since July 2025 PLEX
# trades only there, and the regional books hold none (market/plex.py).
MARKET_REGIONS = env.list(
    "MARKET_REGIONS",
    cast=int,
    default=[10000002, 10000043, 10000032, 10000030, 10000042, 19000001],
)
# Seconds added at random to ESI's Expires before the next refresh.
MARKET_REFRESH_JITTER = env.float("MARKET_REFRESH_JITTER", default=20.0)
# A snapshot is stale this many seconds after its Expires passed without a newer one.
MARKET_STALE_GRACE = env.float("MARKET_STALE_GRACE", default=600.0)
# How long a replaced snapshot generation stays readable (permalinks replay it meanwhile).
MARKET_SNAPSHOT_KEEP = env.float("MARKET_SNAPSHOT_KEEP", default=7200.0)
# A refresh lock expires after this long if its worker dies.
MARKET_REFRESH_LOCK_TTL = env.float("MARKET_REFRESH_LOCK_TTL", default=300.0)
# Publish the generated demo market when ESI cannot be reached and nothing was ever published.
MARKET_DEMO_FALLBACK = env.bool("MARKET_DEMO_FALLBACK", default=True)
# Each process reads the known structures (names, shared books, owners' broker fees) again
# after this many seconds (at once after a change it made itself).
MARKET_STRUCTURES_TTL = env.float("MARKET_STRUCTURES_TTL", default=30.0)
# A shared structure's book is no longer merged into its region's market this many seconds
# after its Expires passed without a newer one (the pool could not read it meanwhile).
MARKET_STRUCTURE_BOOK_MAX_AGE = env.float("MARKET_STRUCTURE_BOOK_MAX_AGE", default=3600.0)

# --- Auth, i18n, static --------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "config.protection.AdminLoginAttemptsBackend",  # first: refuses a locked-out admin login
    "django.contrib.auth.backends.ModelBackend",  # staff passwords for the admin
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- EVE SSO and characters (characters/, docs/sso.md) ---------------------------------------
# The SSO's base URL; endpoints and keys are read from its metadata document. Development
# points it at the stand-in (`python -m standin.sso`).
SSO_BASE_URL = env.str("SSO_BASE_URL", default="https://login.eveonline.com").rstrip("/")
# The EVE application (https://developers.eveonline.com). Login is off while the id is unset.
EVE_CLIENT_ID = env.str("EVE_CLIENT_ID", default="")
EVE_CLIENT_SECRET = env.str("EVE_CLIENT_SECRET", default="")
# The callback URL registered with the application; empty: built from the request
# (https://<host>/accounts/eveonline/login/callback/).
EVE_CALLBACK_URL = env.str("EVE_CALLBACK_URL", default="")
# Fernet keys encrypting tokens at rest: the first encrypts, all decrypt (rotation; see
# characters/crypto.py). Empty: one key derived from SECRET_KEY (check --deploy warns).
TOKEN_KEYS = env.list("TOKEN_KEYS", default=[])

LOGIN_URL = "eve-login"
LOGIN_REDIRECT_URL = "/"
# allauth: EVE SSO is the only way in for users (staff keep their admin password); no email.
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # a login starts with a POST (CSRF-protected)
SOCIALACCOUNT_STORE_TOKENS = False  # tokens live encrypted in characters.CharacterToken
SOCIALACCOUNT_ADAPTER = "characters.provider.adapter.SocialAccountAdapter"
# The app (client id and secret) comes from EVE_CLIENT_ID/SECRET at request time
# (characters/provider/adapter.py), never from the database.
SOCIALACCOUNT_PROVIDERS = {
    "eveonline": {
        "OAUTH_PKCE_ENABLED": True,
        "SCOPE": [],  # logging in asks for no scope; features ask for theirs
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# --- REST framework and OpenAPI ------------------------------------------------------------
REST_FRAMEWORK = {
    # drf-spectacular's, with no lock on the endpoints anyone may call (config/schema.py).
    "DEFAULT_SCHEMA_CLASS": "config.schema.PublicAwareSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "config.renderers.JSONRenderer",  # DRF's output, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "sde.api.exceptions.json_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EVE market profit calculator API",
    "DESCRIPTION": "Item catalogue, market snapshots and profit calculations for EVE Online.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# One JSON object a line, each with the request id (docs/observability.md); LOG_FORMAT=text
# for a human at a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.requestid.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if LOG_FORMAT == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING too

# --- Operations (docs/observability.md, docs/protection.md) --------------------------------
# Reverse proxies in front of gunicorn that append to X-Forwarded-For (0: none).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
# /metrics answers these networks, or a request with "Authorization: Bearer METRICS_TOKEN".
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Tokens per client (an address; IPv6 by its /64) per window, each rule one allowance for
# every path prefix it names (first matching rule wins): name:prefix|prefix:tokens/seconds.
# The profit pages and the profit API share one. RATE_LIMIT_ENABLED=false for load tests
# from one address.
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMITS = env.list(
    "RATE_LIMITS",
    default=[
        "profit:/profit/|/api/v1/profit/|/appraisal|/api/v1/appraisals|/a/:120/60",
        "api:/api/:300/60",
        "accounts:/accounts/:30/60",
    ],
)
# What a request costs in tokens (config/protection.py request_cost): `request` for most;
# an appraisal (a POST) `appraisal`; a hauling page or API answer `hauling`, plus `region`
# per whole region among its places (from and to), plus `list` in list mode; a CSV `csv`
# more. A cost above a rule's tokens is charged as the rule's tokens.
# RATE_LIMIT_COSTS=hauling=5,csv=10 changes some of them.
RATE_LIMIT_COSTS = {
    "request": 1,
    "appraisal": 3,
    "hauling": 2,
    "region": 2,
    "list": 2,
    "csv": 5,
    **env.dict("RATE_LIMIT_COSTS", cast={"value": int}, default={}),
}
# ESI allows 300 market history calls a minute per IP, shared by the volume fill and the
# people opening history: one client may make at most this many of them a minute (answers
# ESI still has cached cost nothing); past it, 429 with Retry-After.
RATE_LIMIT_HISTORY_CALLS = env.int("RATE_LIMIT_HISTORY_CALLS", default=20)
# Failed admin logins (django-axes, admin site only): after ADMIN_LOGIN_FAILURE_LIMIT
# failures from one client address, or for one user name from anywhere, admin logins
# (that address's, that name's) are refused with 429 for ADMIN_LOGIN_COOLOFF_MINUTES after
# the last failure. `python manage.py axes_reset` lifts every lockout.
AXES_ENABLED = env.bool("ADMIN_LOGIN_LOCKOUT", default=True)
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on every management command's stderr
AXES_DISABLE_ACCESS_LOG = True  # failures are recorded; successful logins need no table
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip"  # behind TRUSTED_PROXIES, like the limits
AXES_LOCKOUT_CALLABLE = "config.protection.admin_lockout"
# Content-Security-Policy (config/csp.py): scripts and styles from this site only, images
# also from CCP's image server; the SSO's origin is added to form-action per request.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https://images.evetech.net"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Request bodies: the API takes small JSON; larger bodies are refused with 413.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- Appraisals (appraisal/, docs/appraisal.md) ---------------------------------------------
# Lines (or structured items) appraised at once, and how long a stored appraisal is kept by
# default and at most (days).
APPRAISAL_MAX_LINES = env.int("APPRAISAL_MAX_LINES", default=20_000)
APPRAISAL_DAYS = env.int("APPRAISAL_DAYS", default=30)
APPRAISAL_MAX_DAYS = env.int("APPRAISAL_MAX_DAYS", default=365)

# --- Profit (profit/) ----------------------------------------------------------------------
# Broker fee an Upwell structure's owner charges, percent, when a request names none (the
# SCC surcharge of the fee schedule is added on top; see docs/profit-fees.md).
PROFIT_STRUCTURE_BROKER_FEE = env.float("PROFIT_STRUCTURE_BROKER_FEE", default=1.0)
# The hauling board's hauler: cargo hold (packaged m3) and the ISK it may spend per trip.
PROFIT_BOARD_CARGO_M3 = env.float("PROFIT_BOARD_CARGO_M3", default=60_000.0)
PROFIT_BOARD_BUDGET = env.float("PROFIT_BOARD_BUDGET", default=500_000_000.0)
# Rows kept on each opportunity board, and how often an open page asks whether they changed.
PROFIT_BOARD_SIZE = env.int("PROFIT_BOARD_SIZE", default=50)
PROFIT_BOARD_POLL_MS = env.int("PROFIT_BOARD_POLL_MS", default=15_000)
# Seconds a read page one web process rendered stays in the shared store for the others
# (config/page_cache.py): long enough for every process to meet a popular page, short enough
# that a crawl of every item page holds at most a minute of renders there. 0: no sharing.
PAGE_SHARED_TTL = env.float("PAGE_SHARED_TTL", default=60.0)
# Profit answers each web process keeps (least recently used first out), bounded by count and
# by the rows they hold (a region-to-region haul is thousands of rows). A row is kept as
# columns, about 200 bytes: 100,000 rows are some 20 MB a process. A search keeps what it
# found (trades or routes), which each question ranks anew (docs/profit-engine.md).
PROFIT_COMPUTED_KEEP = env.int("PROFIT_COMPUTED_KEEP", default=1024)
PROFIT_COMPUTED_ROWS = env.int("PROFIT_COMPUTED_ROWS", default=100_000)
# --- PROFIT_* limits: bounded work per request (docs/protection.md) -----------------------
# (source, destination) stations a hauling search may expand to (a region counts its
# stations with orders): one region to one region is at most 449 x 449 NPC stations plus
# structures; more is a 400.
PROFIT_MAX_PLACE_PAIRS = env.int("PROFIT_MAX_PLACE_PAIRS", default=360_000)
# Ranked rows one list answer offers (JSON pages and the CSV of every row); past it the
# answer says it was cut (`truncated`, X-Truncated, the CSV's last line).
PROFIT_MAX_ROWS = env.int("PROFIT_MAX_ROWS", default=20_000)
# Seconds a computation may spend building a CSV of every row; then it stops with a last
# line that says so.
PROFIT_TIME_BUDGET = env.float("PROFIT_TIME_BUDGET", default=8.0)
# Heavy computations (scans, the calculator) at once per process; one more waits at most
# PROFIT_HEAVY_WAIT s, then gets 503 with Retry-After PROFIT_HEAVY_RETRY_AFTER s.
PROFIT_HEAVY_SLOTS = env.int(
    "PROFIT_HEAVY_SLOTS", default=max(1, env.int("GUNICORN_THREADS", default=1) // 2)
)
PROFIT_HEAVY_WAIT = env.float("PROFIT_HEAVY_WAIT", default=0.1)
PROFIT_HEAVY_RETRY_AFTER = env.int("PROFIT_HEAVY_RETRY_AFTER", default=2)
