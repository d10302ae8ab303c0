"""Redis plumbing under :mod:`hospital.cache`: a circuit breaker, hit/miss counts,
rebuild locks, guarded writes and pattern deletes.

It knows no key names: :mod:`hospital.cache` owns the key scheme and passes
keys without the prefix (``CACHE_KEY_PREFIX`` is added here). When Redis is
unreachable, a call costs at most one short socket timeout and then the breaker
answers "not cached" at once for ``CACHE_RETRY_AFTER`` seconds, so pages are
served from the database at normal speed; one probe per period brings caching
back by itself. Nothing here raises a Redis error to the caller.
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from collections import Counter, defaultdict
from typing import Callable

import redis

log = logging.getLogger("hospital.cache")
MISSING = object()  # "not in the cache" (a cached value is never None)
GUARD_TTL = 4 * 3600  # guard counters outlive every cached value they protect
UNLINK_BATCH = 500

# Store a rebuilt value only if no guard counter moved since the rebuild began
# (an invalidation ran meanwhile, so what was read may predate the change), list
# it in its scopes' indexes (sorted sets: key -> expiry, pruned as they grow),
# and drop our rebuild lock.
# KEYS: value, lock, guards…, indexes…   ARGV: value, ttl ms, lock token, guard count, now ms, guard values…
_SET_IF_UNCHANGED = """
local ng = tonumber(ARGV[4])
local ok = 1
for i = 1, ng do
  if (redis.call('GET', KEYS[2 + i]) or '') ~= ARGV[5 + i] then ok = 0 break end
end
if ok == 1 then
  local ttl, now = tonumber(ARGV[2]), tonumber(ARGV[5])
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  for i = 3 + ng, #KEYS do
    redis.call('ZADD', KEYS[i], now + ttl, KEYS[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return ok
"""

# Delete what a scope's index lists, in batches, checking each key still starts
# with the pattern's prefix (nothing outside the pattern), then the index itself.
# KEYS: index   ARGV: prefix (with CACHE_KEY_PREFIX), batch size
_UNLINK_INDEXED = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local n, batch, size = 0, {}, tonumber(ARGV[2])
for _, key in ipairs(members) do
  if string.sub(key, 1, #ARGV[1]) == ARGV[1] then
    batch[#batch + 1] = key
    if #batch == size then n = n + redis.call('UNLINK', unpack(batch)) batch = {} end
  end
end
if #batch > 0 then n = n + redis.call('UNLINK', unpack(batch)) end
redis.call('DEL', KEYS[1])
return n
"""


class Breaker:
    """Closed: use Redis. Open after a connection failure: skip Redis until
    ``retry_after`` seconds pass, then let one caller probe."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        self.down = False
        self.open_until = 0.0

    def allow(self) -> bool:
        if not self.down:
            return True
        now = time.monotonic()
        if now < self.open_until:
            return False
        self.open_until = now + self.retry_after  # the others keep skipping while this one probes
        return True

    def failed(self, exc: Exception) -> None:
        if not self.down:
            log.warning("cache: Redis unreachable (%s); serving from the database, retrying every %gs",
                        exc, self.retry_after)
        self.down = True
        self.open_until = time.monotonic() + self.retry_after

    def recovered(self) -> None:
        self.down = False
        log.warning("cache: Redis reachable again; caching resumed")


class CacheStore:
    """One per app (``app.extensions["hospital_cache"]``), over Flask-Caching's Redis client."""

    def __init__(self, backend, config: dict, stats_key: str, purge_patterns: list[str]):
        self.client: redis.Redis = backend._write_client  # RedisCache's client: short socket timeouts
        self.serializer = backend.serializer  # Flask-Caching's format, so cache.get() reads our values
        self.prefix = config["CACHE_KEY_PREFIX"]
        self.breaker = Breaker(config["CACHE_RETRY_AFTER"])
        self.jitter = config["CACHE_TTL_JITTER"]
        self.lock_wait = config["CACHE_LOCK_WAIT"]
        self.lock_ttl_ms = int(config["CACHE_LOCK_TTL"] * 1000)
        self.scan_count = config["CACHE_SCAN_COUNT"]
        self.stats_key = stats_key
        self.purge_patterns = purge_patterns
        self.pending: Counter = Counter()  # hit/miss counts not yet written to Redis
        self.dirty = False  # an invalidation was lost while Redis was away
        self.last_activity: dict[str, float] = {}  # member -> when this process last recorded it
        self.use_index = config["CACHE_PATTERN_INDEX"]
        self._set_script = self.client.register_script(_SET_IF_UNCHANGED)
        self._unlink_indexed = self.client.register_script(_UNLINK_INDEXED)

    def k(self, name: str) -> str:
        return self.prefix + name

    # --- calling Redis ----------------------------------------------------------

    def call(self, op: Callable[[redis.Redis], object]):
        """``op(client)``, or MISSING when Redis is away (breaker open or this call failed)."""
        if not self.breaker.allow():
            return MISSING
        try:
            if self.breaker.down:
                self._recover()
            return op(self.client)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self.breaker.failed(exc)
        except redis.RedisError:
            log.exception("cache: Redis error; serving from the database")
        return MISSING

    def _recover(self) -> None:
        """The probe after an outage: invalidations lost meanwhile may have left
        stale values, so drop every cached value before serving any."""
        if self.dirty:
            for pattern in self.purge_patterns:
                self._unlink_matching(self.client, pattern)
            self.dirty = False
        else:
            self.client.ping()
        self.breaker.recovered()

    # --- reading ----------------------------------------------------------------

    def count(self, family: str, hit: bool) -> None:
        self.pending[f"{family}:{'hits' if hit else 'misses'}"] += 1

    def _flush_counts(self, pipe) -> None:
        pending, self.pending = self.pending, Counter()
        for field, n in pending.items():
            pipe.hincrby(self.k(self.stats_key), field, n)

    def read_many(self, keys: list[str]) -> list:
        """Values of ``keys`` (MISSING where absent), in one round trip that also
        writes the counts gathered since the last one."""
        def op(client):
            pipe = client.pipeline(transaction=False)
            pipe.mget([self.k(key) for key in keys])
            self._flush_counts(pipe)
            return pipe.execute()[0]
        raw = self.call(op)
        if raw is MISSING:
            return [MISSING] * len(keys)
        return [self._load(value) for value in raw]

    def _load(self, raw):
        if raw is None:
            return MISSING
        try:
            value = self.serializer.loads(raw)
        except Exception:  # written by another version of the code: rebuild it
            return MISSING
        return MISSING if value is None else value

    def flush_counts(self) -> None:
        self.call(lambda client: self._flush_counts(client) if self.pending else None)

    # --- rebuilding -------------------------------------------------------------

    def begin(self, key: str, guards: list[str], lock: bool):
        """Read the guard counters and, if ``lock``, take the rebuild lock, in one round trip.

        Returns (lock token or None, guard values); None when someone else holds
        the lock; MISSING when Redis is away (build, but do not store).
        """
        token = secrets.token_hex(8) if lock else None

        def op(client):
            pipe = client.pipeline(transaction=False)
            if lock:
                pipe.set(self.k("lock:" + key), token, nx=True, px=self.lock_ttl_ms)
            if guards:
                pipe.mget([self.k(g) for g in guards])
            return pipe.execute()
        result = self.call(op)
        if result is MISSING:
            return MISSING
        if lock and not result[0]:
            return None
        values = result[-1] if guards else []
        return token, [(v or b"").decode() for v in values]

    def wait_for(self, key: str):
        """Someone else is rebuilding ``key``: poll briefly for their value (MISSING if it does not come)."""
        deadline = time.monotonic() + self.lock_wait
        while time.monotonic() < deadline:
            time.sleep(0.02)
            value = self.read_many([key])[0]
            if value is not MISSING:
                return value
        return MISSING

    def finish(self, key: str, value, ttl: float, token: str | None, guards: list[str], seen: list[str],
               indexes: list[str] = ()) -> None:
        """Store ``value`` for ``ttl`` seconds (plus jitter) unless a guard moved; list it
        under the ``indexes`` (prefix patterns it matches); release the lock."""
        ttl_ms = int(ttl * 1000 * (1 + random.uniform(0, self.jitter)))
        data = self.serializer.dumps(value)
        self.call(lambda client: self._set_script(
            keys=[self.k(key), self.k("lock:" + key)] + [self.k(g) for g in guards] + [self.index_key(p) for p in indexes],
            args=[data, ttl_ms, token or "", len(guards), int(time.time() * 1000)] + seen, client=client))

    def index_key(self, pattern: str) -> str:
        return self.k("idx:" + pattern)

    # --- invalidating -----------------------------------------------------------

    def _unlink_matching(self, client: redis.Redis, pattern: str) -> int:
        """SCAN + UNLINK in batches: never KEYS, never FLUSHDB; only keys matching the pattern."""
        removed, batch = 0, []
        for key in client.scan_iter(match=self.k(pattern), count=self.scan_count):
            batch.append(key)
            if len(batch) >= UNLINK_BATCH:
                removed += client.unlink(*batch)
                batch = []
        if batch:
            removed += client.unlink(*batch)
        return removed

    def invalidate(self, guards: list[str] = (), keys: list[str] = (), patterns: list[str] = (),
                   indexed: list[str] = ()) -> int:
        """Move the guard counters, then delete exact keys, keys matching ``patterns``
        (SCAN) and keys matching ``indexed`` prefix patterns (through their index,
        so the cost follows the keys removed, not the size of the cache).

        Returns how many keys went. If Redis is away the loss is remembered and
        made good by a purge on recovery (see :meth:`_recover`).
        """
        if not self.use_index:
            patterns, indexed = list(patterns) + list(indexed), []

        def op(client):
            pipe = client.pipeline(transaction=False)
            for guard in guards:
                pipe.incr(self.k(guard))
                pipe.expire(self.k(guard), GUARD_TTL)
            if keys:
                pipe.unlink(*[self.k(key) for key in keys])
            for pattern in indexed:
                self._unlink_indexed(keys=[self.index_key(pattern)], args=[self.k(pattern.rstrip("*")), UNLINK_BATCH],
                                     client=pipe)
            results = pipe.execute()[2 * len(guards):]
            return sum(results) + sum(self._unlink_matching(client, pattern) for pattern in patterns)
        removed = self.call(op)
        if removed is MISSING:
            self.dirty = True
            return 0
        return removed

    def delete_matching(self, pattern: str) -> int:
        removed = self.call(lambda client: self._unlink_matching(client, pattern))
        return 0 if removed is MISSING else removed

    # --- activity and statistics ------------------------------------------------

    def touch(self, zset: str, member: str, now: float, every: float) -> None:
        """Record ``member`` as seen at ``now`` in a sorted set, at most once per ``every`` seconds per process."""
        if now - self.last_activity.get(member, 0.0) < every:
            return
        self.last_activity[member] = now
        self.call(lambda client: client.zadd(self.k(zset), {member: now}))

    def sweep_idle(self, pattern: str, zset: str, cutoff: float, owner: Callable[[str], str]) -> int:
        """Unlink keys matching ``pattern`` whose ``owner(key)`` was last seen in
        ``zset`` before ``cutoff`` (or never), then forget those owners."""
        def op(client):
            by_owner = defaultdict(list)
            for key in client.scan_iter(match=self.k(pattern), count=self.scan_count):
                by_owner[owner(key[len(self.prefix):].decode())].append(key)
            pipe = client.pipeline(transaction=False)
            for member in by_owner:
                pipe.zscore(self.k(zset), member)
            seen = dict(zip(by_owner, pipe.execute()))
            idle = [key for member, keys in by_owner.items() if (seen[member] or 0) < cutoff for key in keys]
            removed = sum(client.unlink(*idle[i:i + UNLINK_BATCH]) for i in range(0, len(idle), UNLINK_BATCH))
            client.zremrangebyscore(self.k(zset), "-inf", f"({cutoff}")
            return removed
        removed = self.call(op)
        return 0 if removed is MISSING else removed

    def stats(self) -> dict[str, dict]:
        self.flush_counts()
        raw = self.call(lambda client: client.hgetall(self.k(self.stats_key)))
        counts: dict[str, dict] = defaultdict(lambda: {"hits": 0, "misses": 0})
        for field, n in ({} if raw is MISSING else raw).items():
            family, _, kind = field.decode().rpartition(":")
            counts[family][kind] = int(n)
        for entry in counts.values():
            total = entry["hits"] + entry["misses"]
            entry["hit_ratio"] = entry["hits"] / total if total else None
        return dict(counts)

    def reset_stats(self) -> None:
        self.pending.clear()
        self.call(lambda client: client.delete(self.k(self.stats_key)))
