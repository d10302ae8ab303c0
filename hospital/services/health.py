"""Liveness of the services the app depends on."""
from __future__ import annotations

import redis
from sqlalchemy import text

from ..extensions import db


def database_ok() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
        return True, db.engine.dialect.name
    except Exception as exc:  # any driver error means "down"
        db.session.rollback()
        return False, type(exc).__name__


def redis_ok(url: str, timeout: float) -> tuple[bool, str]:
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
        return True, "ok"
    except redis.RedisError as exc:
        return False, type(exc).__name__
    finally:
        client.close()
