"""Fixed-window rate limits: per process in memory, or shared through the database or Redis.

A window opens at a bucket's first request and lasts 60 seconds (or the `window` a
caller asks for); the whole allowance may be used at once, and the request after it is
refused until the window closes. The shared store works on SQLite as well as PostgreSQL,
so processes sharing an embedded database file share its limits too.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from application.ports import RateDecision, SqlDatabase

WINDOW = 60.0
MAX_WINDOW = 86_400.0  # rows idle for longer than any window are pruned
PRUNE_EVERY = 1_000  # hits per process between prunes
log = logging.getLogger("experi.ratelimit")


def decide(
    limit: int, window_start: float, count: int, now: float, window: float = WINDOW
) -> RateDecision:
    reset_at = window_start + window
    return RateDecision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(0, limit - count),
        reset_at=math.ceil(reset_at),
        retry_after=max(1, math.ceil(reset_at - now)),
    )


class MemoryRateLimiter:
    """Per-process windows (the embedded default, and the fallback of the shared one)."""

    def __init__(self, max_buckets: int = 100_000) -> None:
        self._windows: dict[str, tuple[float, int, float]] = {}  # start, count, window
        self._lock = threading.Lock()
        self._max = max_buckets

    def hit(
        self, bucket: str, limit: int, now: float, window: float = WINDOW, hits: int = 1
    ) -> RateDecision:
        with self._lock:
            start, count, _ = self._windows.get(bucket, (now, 0, window))
            if now - start >= window:
                start, count = now, 0
            count += hits
            if len(self._windows) >= self._max:
                self._evict(now)
            self._windows[bucket] = (start, count, window)
        return decide(limit, start, count, now, window)

    def local(self, bucket: str, limit: int, now: float) -> RateDecision:
        """Decided in memory, always: no round trip to avoid."""
        return self.hit(bucket, limit, now)

    def _evict(self, now: float) -> None:
        for key in [k for k, (s, _, w) in self._windows.items() if now - s >= w]:
            del self._windows[key]
        if len(self._windows) >= self._max:
            self._windows.clear()


class SharedLimiter:
    """A limiter whose windows live in a shared store: subclasses add `count`."""

    fallback: MemoryRateLimiter

    def count(
        self, bucket: str, now: float, window: float = WINDOW, hits: int = 1
    ) -> tuple[float, int] | None:
        raise NotImplementedError

    def hit(
        self, bucket: str, limit: int, now: float, window: float = WINDOW, hits: int = 1
    ) -> RateDecision:
        counted = self.count(bucket, now, window, hits)
        if counted is None:
            return self.fallback.hit(bucket, limit, now, window, hits)
        return decide(limit, *counted, now, window)

    def local(self, bucket: str, limit: int, now: float) -> None:
        """Every hit is a round trip to the store (`BatchedLimiter` saves most of them)."""
        return None


class SqlRateLimiter(SharedLimiter):
    """Windows in a database table, so every process and host sharing it shares limits.

    If the database cannot be reached, limits fall back to this process's memory
    (fail open, per process) rather than refusing every request or answering 500.
    """

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.fallback = MemoryRateLimiter()
        self._hits = 0
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS rate_limits (bucket TEXT PRIMARY KEY, "
                "window_start DOUBLE PRECISION NOT NULL, count BIGINT NOT NULL)"
            )

    def count(
        self, bucket: str, now: float, window: float = WINDOW, hits: int = 1
    ) -> tuple[float, int] | None:
        """Add `hits` (a batch, or one request) to the window: its start and count after,
        or None when the store cannot be reached."""
        try:
            self._prune(now)
            row = self.db.statement(
                "INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, ?) "
                "ON CONFLICT (bucket) DO UPDATE SET "
                "count = CASE WHEN rate_limits.window_start <= ? THEN ? "
                "ELSE rate_limits.count + ? END, "
                "window_start = CASE WHEN rate_limits.window_start <= ? THEN ? "
                "ELSE rate_limits.window_start END "
                "RETURNING window_start, count",
                (bucket, now, hits, now - window, hits, hits, now - window, now),
            )
        except Exception:
            log.warning("rate-limit store unreachable; limiting in this process only")
            return None
        return None if row is None else (float(row[0]), int(row[1]))

    def _prune(self, now: float) -> None:
        """Now and then, drop rows no window still needs (buckets keyed by address or
        email would otherwise pile up for ever)."""
        self._hits += 1
        if self._hits % PRUNE_EVERY == 1:
            self.db.statement("DELETE FROM rate_limits WHERE window_start < ?", (now - MAX_WINDOW,))


# One round trip, atomic: open a window at the first hit (or when the caller's clock
# says the old one closed), else count. Windows follow the caller's clock, as the SQL
# limiter's do; the key's expiry only removes idle buckets. Start is returned as a
# string because Lua numbers lose their fraction in a reply.
HIT = """
local start = redis.call('HGET', KEYS[1], 's')
if (not start) or tonumber(start) <= tonumber(ARGV[1]) - tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'c', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {ARGV[1], tonumber(ARGV[4])}
end
return {start, redis.call('HINCRBY', KEYS[1], 'c', ARGV[4])}
"""
RETRY_SECONDS = 5.0  # while Redis is down, skip it instead of waiting on each request


class RedisRateLimiter(SharedLimiter):
    """Windows in Redis: exact across processes and hosts, and no database write per read.

    If Redis cannot be reached, limits fall back to this process's memory (fail open,
    per process) and Redis is tried again a few seconds later.
    """

    def __init__(self, url: str, prefix: str = "experi:rate:", timeout: float = 0.5) -> None:
        # Imported here: a process without Redis (the CLI, a rebuild's helper, the
        # embedded default) does not pay for the client's import.
        import redis

        self._unreachable = (redis.RedisError, OSError)
        self.client: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.prefix = prefix
        self.fallback = MemoryRateLimiter()
        self._script = self.client.register_script(HIT)
        self._down_until = 0.0

    def count(
        self, bucket: str, now: float, window: float = WINDOW, hits: int = 1
    ) -> tuple[float, int] | None:
        """As the SQL limiter's: the window's start and count after `hits`, or None."""
        if time.monotonic() < self._down_until:
            return None
        ttl_ms = int(window * 1000) + 1000  # a second of slack for clocks between hosts
        try:
            start, count = self._script(
                keys=[self.prefix + bucket], args=[repr(now), window, ttl_ms, hits]
            )
        except self._unreachable:
            log.warning("rate-limit store (Redis) unreachable; limiting in this process only")
            self._down_until = time.monotonic() + RETRY_SECONDS
            return None
        return float(start), int(count)

    def close(self) -> None:
        self.client.close()
