"""A log line written at most once in a while, counting the times it was held back."""

from __future__ import annotations

import threading
import time


class Throttled:
    """Says when a repeated warning is due: at once the first time, then at most once
    every `seconds`. A line that is due says how many were held back since the last."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def due(self) -> int | None:
        """None while held back; else how many were held back since the last line."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held += 1
                return None
            self._next = now + self.seconds
            held, self._held = self._held, 0
            return held
