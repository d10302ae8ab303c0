"""Live analytics: the ``analytics_changed`` push to the ``/admin`` namespace, coalesced.

However many appointments, emails or connections change, admins' pages get at
most one push a second, across every web process and worker:

- :func:`announce` adds its reasons to a Redis set and tries to open a 1-second
  window (``SET NX``). The process that opens it pushes at once and keeps a
  timer (a greenlet under gevent, a thread elsewhere): each second it pushes
  what arrived meanwhile and keeps the window open, or closes it when nothing did.
- Both steps are Lua scripts, so no reason is lost between "window still open"
  and "window closed". If the timer's process dies the window expires by
  itself after a few seconds; pages also refresh once a minute as a safety net.

The payload is small (DESIGN §5.9): ``{"type": "analytics", "reasons": [...]}``
with reasons among ``appointments``, ``emails`` and ``presence``; the page turns
it into htmx requests for server-rendered fragments. Redis trouble never fails
the change that announced it (the push is at-most-once by design).
"""
from __future__ import annotations

import logging
import time

import redis
from flask import current_app, has_app_context

from ..extensions import socketio
from ..realtime import emit, role_room

log = logging.getLogger(__name__)
ADMIN = "/admin"
EVENT = "analytics_changed"
INTERVAL = 1.0          # seconds between pushes, at most one per interval
WINDOW_TTL_MS = 3000    # a window whose timer died closes by itself after this
BACKOFF = 5.0           # seconds without trying Redis after it failed
WINDOW_KEY = "hospital:analytics:window"
PENDING_KEY = "hospital:analytics:pending"

# KEYS: window, pending; ARGV: ttl, reasons… -> reasons to push now, or nil (a window is open)
_ANNOUNCE = """
for i = 2, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  local due = redis.call('SMEMBERS', KEYS[2])
  redis.call('DEL', KEYS[2])
  return due
end
return false
"""
# KEYS: window, pending; ARGV: ttl -> reasons that arrived during the window (window kept open), or {} (closed)
_TRAIL = """
local due = redis.call('SMEMBERS', KEYS[2])
if #due > 0 then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
  return due
end
redis.call('DEL', KEYS[1])
return {}
"""
_state = {"down_until": 0.0}


def redis_client() -> redis.Redis:
    """A Redis client with short timeouts, one per app (pushes must never hold up a commit)."""
    app = current_app._get_current_object()
    client = app.extensions.get("analytics_redis")
    if client is None:
        timeout = app.config["REDIS_SOCKET_TIMEOUT"]
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=timeout)
        app.extensions["analytics_redis"] = client
    return client


def usable() -> bool:
    """False for a few seconds after Redis failed (no long waits while it is down)."""
    return has_app_context() and time.monotonic() >= _state["down_until"]


def failed(what: str, exc: Exception) -> None:
    _state["down_until"] = time.monotonic() + BACKOFF
    log.warning("%s: Redis unavailable (%s); live analytics paused for %ss", what, exc, BACKOFF)


def announce(reasons) -> None:
    """Tell admins' pages that ``reasons`` changed (coalesced to one push a second)."""
    if not reasons or not usable():
        return
    client = redis_client()
    try:
        due = client.eval(_ANNOUNCE, 2, WINDOW_KEY, PENDING_KEY, WINDOW_TTL_MS, *sorted(reasons))
    except redis.RedisError as exc:
        failed("analytics announce", exc)
        return
    if due:
        _push(due)
        socketio.start_background_task(_trail, client)


def _trail(client: redis.Redis) -> None:
    """The window holder's timer: push what arrived each second until a quiet second."""
    while True:
        socketio.sleep(INTERVAL)
        try:
            due = client.eval(_TRAIL, 2, WINDOW_KEY, PENDING_KEY, WINDOW_TTL_MS)
        except redis.RedisError as exc:
            log.warning("analytics push timer stopped: %s", exc)
            return
        if not due:
            return
        _push(due)


def _push(reasons) -> None:
    names = sorted(r.decode() if isinstance(r, bytes) else str(r) for r in reasons)
    emit(EVENT, {"type": "analytics", "reasons": names}, role_room("admin"), namespace=ADMIN)
