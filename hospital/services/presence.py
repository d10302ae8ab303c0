"""Who is connected now: /notifications sockets counted in Redis, right across processes.

Each web process keeps its own connections in memory (sid -> user id) and
mirrors them into a Redis hash ``hospital:presence:<host>:<pid>`` of
user id -> open connections, listed in the set ``hospital:presence:procs``:

- a connect or disconnect updates the hash in one round trip;
- every :data:`REFRESH` seconds a background task rewrites the hash from memory
  and renews its :data:`TTL`, so a process that dies (or a Redis restart, or a
  flush) is forgotten or repaired within a minute — Redis holds nothing that
  cannot be rebuilt;
- :func:`connected` reads every live process's hash in one Lua call and counts
  distinct users (one person with three tabs is one user, three connections).
"""
from __future__ import annotations

import logging
import os
import socket
from collections import Counter

import redis

from ..extensions import socketio
from . import analytics_live

log = logging.getLogger(__name__)
PROCS_KEY = "hospital:presence:procs"
TTL = 60       # seconds a process's hash outlives its last refresh
REFRESH = 20   # seconds between refreshes

_local: dict[str, int] = {}  # sid -> user id, this process's connections
_proc = {"pid": None, "key": None, "refresher": False}

_LEFT = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
"""
# -> flat list of user id, connections, … over every process whose hash still exists
_COUNT = """
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local pairs_ = redis.call('HGETALL', key)
  if #pairs_ == 0 then redis.call('SREM', KEYS[1], key) end
  for i = 1, #pairs_ do out[#out + 1] = pairs_[i] end
end
return out
"""


def _key() -> str:
    """This process's hash (recomputed after a fork: gunicorn workers are children)."""
    if _proc["pid"] != os.getpid():
        _proc.update(pid=os.getpid(), key=f"hospital:presence:{socket.gethostname()}:{os.getpid()}", refresher=False)
        _local.clear()
    return _proc["key"]


def joined(sid: str, user_id: int) -> None:
    """A /notifications socket connected (called by its connect handler)."""
    key = _key()
    _local[sid] = user_id
    if analytics_live.usable():
        try:
            pipe = analytics_live.redis_client().pipeline(transaction=False)
            pipe.hincrby(key, user_id, 1).expire(key, TTL).sadd(PROCS_KEY, key)
            pipe.execute()
        except redis.RedisError as exc:
            analytics_live.failed("presence", exc)
    _start_refresher()
    analytics_live.announce({"presence"})


def left(sid: str) -> None:
    """A /notifications socket disconnected."""
    user_id = _local.pop(sid, None)
    if user_id is None:
        return
    if analytics_live.usable():
        try:
            analytics_live.redis_client().eval(_LEFT, 1, _key(), user_id)
        except redis.RedisError as exc:
            analytics_live.failed("presence", exc)
    analytics_live.announce({"presence"})


def _start_refresher() -> None:
    if not _proc["refresher"]:
        _proc["refresher"] = True
        socketio.start_background_task(_refresh_loop, analytics_live.redis_client(), _key())


def _refresh_loop(client: redis.Redis, key: str) -> None:
    while _proc["key"] == key:
        socketio.sleep(REFRESH)
        try:
            write_snapshot(client, key)
        except redis.RedisError as exc:
            log.warning("presence refresh failed: %s", exc)


def write_snapshot(client: redis.Redis, key: str) -> None:
    """Replace this process's hash with what it holds in memory, and renew its TTL."""
    counts = Counter(_local.values())
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    if counts:
        pipe.hset(key, mapping={str(user): n for user, n in counts.items()}).expire(key, TTL).sadd(PROCS_KEY, key)
    pipe.execute()


def connected() -> dict[str, int | None]:
    """``{"users": distinct signed-in users connected now, "connections": open sockets}``
    across every process; ``None`` values when Redis cannot be asked."""
    if not analytics_live.usable():
        return {"users": None, "connections": None}
    try:
        flat = analytics_live.redis_client().eval(_COUNT, 1, PROCS_KEY)
    except redis.RedisError as exc:
        analytics_live.failed("presence count", exc)
        return {"users": None, "connections": None}
    users = {flat[i] for i in range(0, len(flat), 2)}
    return {"users": len(users), "connections": sum(int(flat[i]) for i in range(1, len(flat), 2))}
