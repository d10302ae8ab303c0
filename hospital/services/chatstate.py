"""Chat state kept in Redis: who has a chat open right now, and each user's message rate.

Both are shared by every web process (Redis) and both can be lost without
harm: presence is rebuilt as clients join again, and a lost rate window only
lets a few more messages through. Redis trouble never blocks a message: the
rate limit then lets it pass and presence says "away" (so a notification is
stored rather than nothing).
"""
from __future__ import annotations

import functools
import logging
import time
import uuid

import redis
from flask import current_app

log = logging.getLogger(__name__)

PREFIX = "hospital:chat:"
# A joined client counts as present this long after its last join (chat.js joins
# again every minute), so a process that dies with clients attached stops
# hiding them from notifications within two minutes.
PRESENCE_TTL = 120.0
DEFAULT_RATE = (10, 10.0)  # messages per seconds, per user

# Sliding-window log: drop entries older than the window, refuse when full,
# otherwise record this message. One round trip, atomic across processes.
_RATE_SCRIPT = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tostring(oldest[2] + window - now)}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return {1, '0'}
"""


@functools.cache
def _client(url: str, timeout: float) -> redis.Redis:
    """One connection pool per process and URL (``from_url`` per call would open a pool each time)."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


@functools.cache
def _rate_script(connection: redis.Redis):
    """The rate script, sent once and then run by its hash (EVALSHA)."""
    return connection.register_script(_RATE_SCRIPT)


def client() -> redis.Redis:
    config = current_app.config
    return _client(config["REDIS_URL"], config["REDIS_SOCKET_TIMEOUT"] * 4)


def rate_limit() -> tuple[int, float]:
    """``CHAT_RATE_LIMIT`` as (messages, seconds); default 10 per 10 seconds."""
    messages, seconds = current_app.config.get("CHAT_RATE_LIMIT", DEFAULT_RATE)
    return int(messages), float(seconds)


def take_message_slot(user_id: int, now: float | None = None) -> float:
    """Count one message for ``user_id``; 0.0 when allowed, else seconds until a slot frees up."""
    limit, window = rate_limit()
    now = time.time() if now is None else now
    try:
        allowed, wait = _rate_script(client())(keys=[f"{PREFIX}rate:{user_id}"],
                                               args=[now, window, limit, f"{now}:{uuid.uuid4().hex[:8]}"])
    except redis.RedisError:
        log.warning("chat rate limit unavailable (Redis); letting the message through", exc_info=True)
        return 0.0
    return 0.0 if int(allowed) else max(0.1, float(wait))


def _presence_key(appointment_id: int, user_id: int) -> str:
    return f"{PREFIX}present:{appointment_id}:{user_id}"


def enter(appointment_id: int, user_id: int, sid: str) -> None:
    """Mark connection ``sid`` of ``user_id`` as having this chat open (refreshes the expiry)."""
    key = _presence_key(appointment_id, user_id)
    try:
        pipe = client().pipeline(transaction=False)
        pipe.zadd(key, {sid: time.time() + PRESENCE_TTL})
        pipe.expire(key, int(PRESENCE_TTL) + 5)
        pipe.execute()
    except redis.RedisError:
        log.warning("chat presence not recorded (Redis)", exc_info=True)


def leave(appointment_id: int, user_id: int, sid: str) -> None:
    try:
        client().zrem(_presence_key(appointment_id, user_id), sid)
    except redis.RedisError:
        log.warning("chat presence not cleared (Redis)", exc_info=True)


def is_present(appointment_id: int, user_id: int) -> bool:
    """Whether any connection of ``user_id`` has this chat open now (False when unsure)."""
    try:
        return client().zcount(_presence_key(appointment_id, user_id), time.time(), "+inf") > 0
    except redis.RedisError:
        return False
