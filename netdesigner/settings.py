"""Settings, all read from the environment here, with laptop defaults (SQLite, Redis on loopback)."""

import os
import socket
from pathlib import Path

import dj_database_url
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "netdesigner-insecure-development-key-change-me"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",  # so /api/docs renders Swagger UI from the project's own static files, not a CDN
    "topology",
]

MIDDLEWARE = [
    "topology.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "topology.api_guard.ApiGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "netdesigner.urls"
ASGI_APPLICATION = "netdesigner.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{os.environ.get('SQLITE_PATH', BASE_DIR / 'db.sqlite3')}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and the tests write to one file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
    # Tests share the database with real subprocesses (daphne, the Celery worker): a file, not :memory:.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / "test-db.sqlite3")),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login throttling first; ModelBackend stays for the sessions it logged in (they name their backend).
AUTHENTICATION_BACKENDS = ["topology.throttle.ThrottledModelBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_build"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"] if (BASE_DIR / "frontend" / "dist").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/labs/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        # Pub/sub: one Redis message per event per web process, fanned out locally to its sockets (the
        # core layer queues one message per socket; bench/STREAM.md measured 1.5x the web server's CPU).
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # socket_timeout None: redis-py 8 defaults to 5 s, which kills the layer's blocking BZPOPMIN
        # (every idle websocket consumer crashed after 5 s; django/channels_redis#422).
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}], "capacity": 1500, "expiry": 30},
    }
}

# Celery: JSON only, never pickle (the worker is root).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Delivery, on purpose (docs/ARCHITECTURE.md "Jobs and the broker"): the Job row is the truth and a
# message only wakes a worker, so a message delivered twice is harmless (a job runs only from
# `queued`) and one lost is sent again from the row. acks_late: a message whose worker died before
# claiming its job comes back. Not on a lost worker process (the job is failed at once instead: its
# kernel work may be half done). The visibility timeout bounds how late an unacknowledged message
# comes back (300 s instead of the transport's 3,600); a redelivery of a long job that is still
# running is skipped, and a stale write is superseded.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("NETDESIGNER_VISIBILITY_TIMEOUT", "300"))}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"

# The worker host this process is (its queues are named for it); labs deploy onto a worker host.
WORKER_HOST = os.environ.get("NETDESIGNER_WORKER_HOST", socket.gethostname())
# `celery -A netdesigner worker` consumes the same queues as `manage.py worker` (topology.jobs.queue
# names them; a test checks they agree): kernel writes and reads apart, so writes never wait behind reads.
CELERY_TASK_QUEUES = [Queue(f"host.{WORKER_HOST}.write"), Queue(f"host.{WORKER_HOST}.read"), Queue("default")]
CELERY_WORKER_CONCURRENCY = int(os.environ.get("NETDESIGNER_WORKER_CONCURRENCY", "4"))

# Engine limits (topology-v1: default 2,000 nodes and links).
NETDESIGNER_MAX_NODES = int(os.environ.get("NETDESIGNER_MAX_NODES", "2000"))
NETDESIGNER_MAX_LINKS = int(os.environ.get("NETDESIGNER_MAX_LINKS", "2000"))
# Per user (a lab counts against its owner): labs in the kernel at once, and the namespaces they make.
# 0 means no limit. An apply over either answers 409 naming the quota (topology/services/quotas.py).
NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER = int(os.environ.get("NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER", "0"))
NETDESIGNER_MAX_NAMESPACES_PER_USER = int(os.environ.get("NETDESIGNER_MAX_NAMESPACES_PER_USER", "0"))

# The unprivileged host uid (and gid) that is root inside each lab's user namespace (the terminal's shells).
NETDESIGNER_SANDBOX_UID = int(os.environ.get("NETDESIGNER_SANDBOX_UID", "424242"))
# Jobs (topology/jobs/, topology/locks.py). Lab locks: "" = /run/netdesigner/<key of this install's
# database>, so two installs on one machine never share one.
NETDESIGNER_LOCK_DIR = os.environ.get("NETDESIGNER_LOCK_DIR", "")
# Seconds an apply/destroy waits for its lab (held by a running one) before it fails saying so.
NETDESIGNER_LAB_WAIT = float(os.environ.get("NETDESIGNER_LAB_WAIT", "600"))
# Finished jobs older than this are deleted by the worker (0: kept for ever).
NETDESIGNER_JOB_RETENTION_DAYS = float(os.environ.get("NETDESIGNER_JOB_RETENTION_DAYS", "14"))
# Pings one user may have queued or running at once (more: 429).
NETDESIGNER_MAX_PINGS_PER_USER = int(os.environ.get("NETDESIGNER_MAX_PINGS_PER_USER", "3"))
# Terminals (topology/terminal/): seconds without a key before a session closes; sessions a user may
# have open at once, on all hosts together.
NETDESIGNER_TERMINAL_IDLE_SECONDS = float(os.environ.get("NETDESIGNER_TERMINAL_IDLE_SECONDS", "900"))
NETDESIGNER_TERMINAL_SESSIONS_PER_USER = int(os.environ.get("NETDESIGNER_TERMINAL_SESSIONS_PER_USER", "4"))
# Packet captures (topology/captures.py): where the worker writes the pcaps and the web tier reads them
# (one directory both see), the bytes of frames one capture may keep, and the cap on the whole store.
NETDESIGNER_CAPTURE_DIR = os.environ.get("NETDESIGNER_CAPTURE_DIR", str(BASE_DIR / "captures"))
NETDESIGNER_CAPTURE_MAX_BYTES = int(os.environ.get("NETDESIGNER_CAPTURE_MAX_BYTES", str(16 * 1024 * 1024)))
NETDESIGNER_CAPTURE_STORE_BYTES = int(os.environ.get("NETDESIGNER_CAPTURE_STORE_BYTES", str(512 * 1024 * 1024)))
# Request body limit: bigger /api/ bodies get a JSON 413 before anything parses them.
NETDESIGNER_MAX_BODY_BYTES = int(os.environ.get("NETDESIGNER_MAX_BODY_BYTES", str(2_621_440)))
DATA_UPLOAD_MAX_MEMORY_SIZE = NETDESIGNER_MAX_BODY_BYTES

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

from .security_settings import *  # noqa: E402,F403  (HTTPS, proxies, throttling, tokens, quotas)
