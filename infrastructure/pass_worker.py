"""A background thread that runs a pass each time it is woken, and, with an interval,
at least that often: the outbox worker's and the view follower's."""

from __future__ import annotations

import logging
import threading


class PassWorker:
    name = "experi-worker"  # the thread's name
    failed = "a background pass failed; trying again shortly"  # logged with the error
    interval: float | None = None  # seconds between passes when not woken; None: woken only

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return  # running, or a stopped one not yet ended: never two loops
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            if not self._thread.is_alive():
                self._thread = None

    def _loop(self) -> None:
        while True:
            if self.interval is None:
                self._wake.wait()
                self._wake.clear()  # a wake-up during the pass makes one more pass
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:
                self._log.exception(self.failed)
            if self.interval is not None:
                self._wake.wait(self.interval)
                self._wake.clear()
