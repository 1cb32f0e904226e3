"""Which commits in this process wake its webhook worker at once: those that may have
an endpoint to go to.

A pass after every commit cost about 7% of the write throughput with no endpoint
anywhere (under POST load each worker ran a pass per few commits, each a round trip
that found nothing due). The worker keeps the accounts that have an enabled endpoint,
read again at the start of a pass when they are older than `FRESH` seconds. A commit
of another account's aggregates wakes the worker only when what it holds is that old:
a pass then reads them again, so an endpoint created through another process is known
here within about `FRESH` seconds of this process's next commit, and a busy process
runs at most a few such passes a second instead of one per few commits. A saved
endpoint always wakes the worker, and until it has read the accounts again every
commit does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from domain.webhook_endpoint import WebhookEndpoint

LIMIT = 10_000  # more accounts with endpoints than this: every commit wakes the worker
FRESH = 0.1  # seconds the accounts read are trusted


class WakeFilter:
    def __init__(
        self,
        read: Callable[[int], list[str] | None],
        every: float = FRESH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read  # at most `limit` accounts, or None if there are more
        self._every = every  # FRESH, but for tests
        self._clock = clock
        self._accounts: frozenset[str] | None = None  # None: not known, every commit wakes
        self._read_at = float("-inf")
        self._changed = threading.Event()  # an endpoint was saved since the last read

    def concerns(self, saved: Sequence[Any]) -> bool:
        """Whether a commit of these aggregates should wake the worker now."""
        accounts = self._accounts
        for obj in saved:
            if isinstance(obj, WebhookEndpoint):
                self._changed.set()
                return True
        if accounts is None or self._changed.is_set():
            return True
        if any(str(getattr(obj, "account_id", "")) in accounts for obj in saved):
            return True
        return self._stale_in() == 0  # a pass reads them again

    def unconcerned_for(self) -> float:
        """For a commit whose aggregates are not known (one heard from another process):
        0 if it should wake the worker now (some account has an endpoint, or what is held
        is too old to say that none has), else the seconds until what is held is that
        old. Asked again then, it says 0, so an endpoint saved just after the last read,
        and the commits right after it, wait at most `every` for their pass."""
        if self._accounts is None or self._changed.is_set() or self._accounts:
            return 0.0
        return self._stale_in()

    def _stale_in(self) -> float:
        """Seconds until the accounts held are too old to trust (0: they are)."""
        return max(0.0, self._read_at + self._every - self._clock())

    def refresh(self) -> None:
        """Read the accounts again if an endpoint was saved or the last read is older
        than the period (the worker, at the start of each pass)."""
        now = self._clock()
        if not self._changed.is_set() and now - self._read_at < self._every:
            return
        changed = self._changed.is_set()
        self._changed.clear()  # before the read: a save during it marks it again
        try:
            found = self._read(LIMIT)
        except Exception:
            if changed:
                self._changed.set()  # still unread: commits go on waking the worker
            raise
        self._accounts = None if found is None else frozenset(found)
        self._read_at = now
