"""The RQ connection and queue, built from the app's config."""
from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue


def redis_connection(url: str | None = None) -> Redis:
    url = url or current_app.config["REDIS_URL"]
    return Redis.from_url(url, socket_connect_timeout=current_app.config["REDIS_SOCKET_TIMEOUT"] * 4)


def get_queue(connection: Redis | None = None) -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=connection or redis_connection())


def enqueue(func, *args, **kwargs):
    return get_queue().enqueue(func, *args, **kwargs)
