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
    for key in ("REDIS_URL", "CACHE_REDIS_URL"):
        if urlsplit(settings[key]).scheme not in {"redis", "rediss", "unix"}:
            raise ConfigError(f"{key} must be a redis:// URL")
