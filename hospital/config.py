"""Configuration read from the environment (12-factor).

Nothing here touches the network or the clock at import time; values are read
when a config object is built by :func:`load_config`.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """Raised by :func:`validate` when the configuration cannot work."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def redis_db_url(url: str, db: int) -> str:
    """Return ``url`` pointing at Redis database number ``db``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs (Heroku still hands out ``postgres://``)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Base settings; every value can be overridden from the environment."""

    ENV_NAME = "development"
    TESTING = False
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE / 'hospital.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = "redis://127.0.0.1:6379/0"
    # The cache lives in its own Redis database (REDIS_URL's db + 1 unless set).
    CACHE_REDIS_URL: str | None = None
    CACHE_TYPE = "RedisCache"
    CACHE_KEY_PREFIX = "hospital:cache:"
    CACHE_DEFAULT_TIMEOUT = 300
    REDIS_SOCKET_TIMEOUT = 0.5
    # Cache lifetimes in seconds (hospital/cache.py). Each is stretched by up to
    # CACHE_TTL_JITTER (10%) so that keys written together do not expire together.
    CACHE_TTL_DOCTORS = 300
    CACHE_TTL_DOCTOR = 3600
    CACHE_TTL_PATIENT = 3600
    CACHE_TTL_SLOTS = 60
    CACHE_TTL_APPOINTMENTS = 300
    CACHE_TTL_JITTER = 0.1
    CACHE_RETRY_AFTER = 5.0  # Redis unreachable: serve from the database, try Redis again after this
    CACHE_LOCK_WAIT = 0.2    # a hot key being rebuilt elsewhere: wait this long, then read the database
    CACHE_LOCK_TTL = 2.0     # a rebuild lock left by a dead process expires after this
    CACHE_SCAN_COUNT = 10000  # keys per SCAN step of a pattern delete (fewer round trips, each ~1 ms)
    # Scoped pattern deletes (one doctor's slots:<id>:*, one patient's pages, doctors:*) go
    # through an index of the keys written for that pattern instead of a SCAN of the whole
    # cache: the cost follows the keys removed, not the cache's size. False: SCAN them all.
    CACHE_PATTERN_INDEX = True
    CACHE_INACTIVE_AFTER = 600  # a user's cached pages are dropped after this long without a request
    RQ_QUEUE = "hospital"
    ASYNC_MODE = "gevent"
    SOCKETIO_ALLOWED_ORIGINS: list[str] | str | None = None
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Hospital <no-reply@hospital.local>"
    # Emails go out from RQ jobs only (hospital.jobs.emails); tests use a real SMTP sink, so never suppress.
    MAIL_SUPPRESS_SEND = False
    MAIL_TIMEOUT = 10.0  # seconds for SMTP connect and each command; a timeout is retried
    # Delays in seconds before the 2nd, 3rd… attempt: len + 1 attempts in all (RQ Retry).
    EMAIL_RETRY_INTERVALS = [30, 120]
    # A row still queued this long after it was due is re-enqueued by the sweep (Redis was down).
    EMAIL_SWEEP_GRACE = 60
    # A row "sending" this long belongs to a killed worker: the sweep puts it back in the queue.
    EMAIL_STALE_SENDING = 600
    DAILY_SUMMARY_HOUR = 7  # clinic-local hour of the admins' daily summary
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"  # links in emails (jobs have no request to take it from)
    DEV_MAILBOX_DIR = str(INSTANCE / "mail")  # where `make run`'s SMTP sink writes .eml files
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_ATTEMPTS_LIMIT = "5 per 15 minutes"
    API_TOKEN_MAX_AGE = 3600
    DEFAULT_CLINIC_TIMEZONE = "Europe/London"
    # flask-smorest / OpenAPI
    API_TITLE = "Hospital API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}
            }
        }
    }


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = "dev-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class ProductionConfig(Config):
    ENV_NAME = "production"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
    ASYNC_MODE = "threading"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
    # Cheap password hashing: tests create many accounts. Never in production.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}

# Environment variable -> (config key, parser)
ENV_KEYS = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", normalise_database_url),
    "REDIS_URL": ("REDIS_URL", str),
    "CACHE_REDIS_URL": ("CACHE_REDIS_URL", str),
    "ASYNC_MODE": ("ASYNC_MODE", str),
    "SOCKETIO_ALLOWED_ORIGINS": ("SOCKETIO_ALLOWED_ORIGINS", lambda v: [o.strip() for o in v.split(",") if o.strip()]),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_USE_SSL": ("MAIL_USE_SSL", _bool),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_DEFAULT_SENDER": ("MAIL_DEFAULT_SENDER", str),
    "RQ_QUEUE": ("RQ_QUEUE", str),
    "MAIL_TIMEOUT": ("MAIL_TIMEOUT", float),
    "EMAIL_RETRY_INTERVALS": ("EMAIL_RETRY_INTERVALS", lambda v: [int(x) for x in v.split(",") if x.strip()]),
    "DAILY_SUMMARY_HOUR": ("DAILY_SUMMARY_HOUR", int),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "DEFAULT_CLINIC_TIMEZONE": ("DEFAULT_CLINIC_TIMEZONE", str),
}


def load_config(name: str | None = None, environ: dict | None = None) -> dict:
    """Build a settings dict from a named config class plus the environment."""
    env = os.environ if environ is None else environ
    name = name or env.get("HOSPITAL_ENV") or "development"
    if name not in CONFIGS:
        raise ConfigError(f"HOSPITAL_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    cls = CONFIGS[name]
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    for var, (key, parse) in ENV_KEYS.items():
        if env.get(var):
            settings[key] = parse(env[var])
    return settings


def finalise(settings: dict) -> dict:
    """Derive dependent values (cache and limiter URLs) and validate."""
    redis_url = settings["REDIS_URL"]
    if not settings.get("CACHE_REDIS_URL"):
        base_db = int((urlsplit(redis_url).path or "/0").lstrip("/") or 0)
        settings["CACHE_REDIS_URL"] = redis_db_url(redis_url, base_db + 1)
    settings.setdefault("CACHE_OPTIONS", {
        "socket_timeout": settings["REDIS_SOCKET_TIMEOUT"],
        "socket_connect_timeout": settings["REDIS_SOCKET_TIMEOUT"],
    })
    if not settings.get("RATELIMIT_STORAGE_URI"):
        settings["RATELIMIT_STORAGE_URI"] = redis_url
    settings.setdefault("RATELIMIT_STORAGE_OPTIONS", {
        "socket_timeout": settings["REDIS_SOCKET_TIMEOUT"],
        "socket_connect_timeout": settings["REDIS_SOCKET_TIMEOUT"],
    })
    validate(settings)
    return settings


def validate(settings: dict) -> None:
    """Refuse settings that cannot work, with a message saying what to set."""
    if not settings.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY is not set: production refuses to start without one")
    if settings["ENV_NAME"] == "production" and settings["SECRET_KEY"] in {"dev-only-not-secret", "test-secret"}:
        raise ConfigError("SECRET_KEY is a development value; set a real one in production")
    if settings["ASYNC_MODE"] not in {"gevent", "eventlet", "threading"}:
        raise ConfigError("ASYNC_MODE must be gevent, eventlet or threading")
    intervals = settings.get("EMAIL_RETRY_INTERVALS") or []
    if not all(isinstance(i, int) and i > 0 for i in intervals):
        raise ConfigError("EMAIL_RETRY_INTERVALS must be positive whole seconds, e.g. 30,120")
    if not 0 <= settings.get("DAILY_SUMMARY_HOUR", 7) <= 23:
        raise ConfigError("DAILY_SUMMARY_HOUR must be 0 to 23")
    for key in ("REDIS_URL", "CACHE_REDIS_URL"):
        if urlsplit(settings[key]).scheme not in {"redis", "rediss", "unix"}:
            raise ConfigError(f"{key} must be a redis:// URL")
