"""Catches the views that follow the event log up when a read asks for it.

An audit read (the log, its digest) lists every change that has had a response; it
waits for the views rather than applying events itself (`Projector.settle`). The
outbox worker also catches them up, but at the start of its passes, which come at most
every 200 ms beside a jobs process and wait for its SMTP attempts; a read waiting for
that took about 180 ms. This worker has a thread of its own and nothing else to do: a
read in the same process wakes it directly, and a read in a request worker beside a
jobs process wakes the jobs process's with a notification on `demand_channel` (heard by
its commit listener at once, with no gap).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("experi.projections")


def demand_channel(events_channel: str) -> str:
    """The channel on which reads ask for a catch-up, beside the commits' own."""
    return f"{events_channel}_follow"


class ViewFollower:
    def __init__(self, projector: Any) -> None:
        self.projector = projector
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="experi-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def run_once(self) -> None:
        self.projector.catch_up()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()  # a wake-up during the pass makes one more pass
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:
                log.exception("catching the views up for a read failed")
