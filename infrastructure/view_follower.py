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

from infrastructure.pass_worker import PassWorker

log = logging.getLogger("experi.projections")


def demand_channel(events_channel: str) -> str:
    """The channel on which reads ask for a catch-up, beside the commits' own."""
    return f"{events_channel}_follow"


class ViewFollower(PassWorker):
    name = "experi-follower"
    failed = "catching the views up for a read failed"

    def __init__(self, projector: Any) -> None:
        super().__init__(log)
        self.projector = projector
        self._passes = threading.Condition()
        self._begun = 0  # passes begun
        self._ended = 0  # the number of the last pass ended

    def run_once(self) -> None:
        with self._passes:
            self._begun += 1
            number = self._begun
        try:
            self.projector.catch_up()
        finally:
            with self._passes:
                self._ended = number
                self._passes.notify_all()

    def passed(self, seconds: float) -> bool:
        """Wake the worker and wait up to `seconds` for a pass begun after this call to
        end (one under way may have missed what was just committed); whether one has."""
        with self._passes:
            after = self._begun
        self.wake()
        with self._passes:
            return self._passes.wait_for(lambda: self._ended > after, timeout=seconds)
