"""A shared rate limit counted in batches while a key is far below its allowance.

Counting every request in the shared store (PostgreSQL or Redis) costs a round trip and
a write per request. A key far below its limit does not need that: each process counts
its hits in memory and adds them to the shared window as one batch. Exactness matters
near the limit, so there every hit goes to the shared store again.

- A batch holds at most `limit // 100` hits and is sent within `STALE` seconds.
  An allowance under 200 a window is never batched: each hit is counted in the store.
- Once the shared count a process last saw, plus its own batch, reaches 90% of the
  limit, every hit is counted in the store, so the refusal itself is exact.
- What can slip: each process's batch not yet sent when the window filled, so with N
  processes at most N% of the allowance over the limit, and only for allowances of 200
  or more. Refusals never come early: the store refuses only what it counted past the
  limit.
- `X-RateLimit-Remaining` is, between batches, this process's view of the window.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

from application.ports import RateDecision
from infrastructure.ratelimit import WINDOW, MemoryRateLimiter, decide

SHARE = 100  # a batch is at most 1/SHARE of the allowance
NEAR = 0.9  # from this share of the allowance on, every hit is counted in the store
STALE = 0.2  # seconds a batch may wait before it is sent
MAX_BUCKETS = 100_000


class CountingStore(Protocol):
    def count(
        self, bucket: str, now: float, window: float = WINDOW, hits: int = 1
    ) -> tuple[float, int] | None: ...


@dataclass
class _Window:
    start: float  # the shared window's start
    seen: int  # the shared count after this process's last round trip
    synced: float  # when that round trip was made
    pending: int = 0  # hits counted here, not yet sent
    trips: int = 0  # round trips under way; meanwhile every hit is counted in the store


class BatchedLimiter:
    """Wraps a shared store; `local` decides without I/O when it can, `hit` always can.

    A process has at most one batch unsent or on its way at a time: while a round trip
    for a bucket is under way, its other hits go to the store one by one.
    If the store cannot be reached, limits fall back to this process's memory.
    """

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self.fallback = MemoryRateLimiter()
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def local(self, bucket: str, limit: int, now: float) -> RateDecision | None:
        """The decision for one more hit if it needs no round trip, else None."""
        batch = limit // SHARE
        with self._lock:
            w = self._windows.get(bucket)
            if (
                w is None
                or batch < 2
                or w.trips
                or now - w.start >= WINDOW
                or now - w.synced >= STALE
                or w.pending + 1 >= batch
                or w.seen + w.pending + 1 >= limit * NEAR
            ):
                return None
            w.pending += 1
            return decide(limit, w.start, w.seen + w.pending, now)

    def hit(self, bucket: str, limit: int, now: float) -> RateDecision:
        decision = self.local(bucket, limit, now)
        if decision is not None:
            return decision
        with self._lock:
            w = self._windows.get(bucket)
            if w is None:
                if len(self._windows) >= MAX_BUCKETS:
                    self._windows.clear()
                w = self._windows[bucket] = _Window(-math.inf, 0, now)  # none seen yet
            # Hits of a window that has closed belong to no window the store still counts.
            hits = 1 + (w.pending if now - w.start < WINDOW else 0)
            w.pending = 0
            w.trips += 1
        counted = self.store.count(bucket, now, WINDOW, hits)
        with self._lock:
            w.trips -= 1
            # Trips may come back out of order: keep the newest window and the highest count.
            if counted is not None and (counted[0], counted[1]) > (w.start, w.seen):
                w.start, w.seen = counted
                w.synced = now
        if counted is None:
            return self.fallback.hit(bucket, limit, now, WINDOW, hits)
        return decide(limit, *counted, now)
