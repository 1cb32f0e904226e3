"""Wakes this process's background workers when any process commits events.

Every save on PostgreSQL ends with `NOTIFY` on the event store's channel. A process
that runs the background jobs apart from the request workers hears those commits here
(`LISTEN` on a connection of its own) and wakes its workers: an email queued or an
event saved through any process goes out within a pass, not at the next interval.

A busy store commits hundreds of times a second; the workers need not run a pass for
each. Each wake-up has a gap: the first commit heard after at least that long wakes it
at once, and commits heard sooner make one wake-up when the gap has passed, which then
covers them all. The webhook worker's pass is two small queries and gets a short gap;
the outbox's pass catches up the views that follow the log (decoding every event) and
gets a longer one: at 50 ms it cost the jobs process about 0.47 ms of CPU per POST
under POST load, at 200 ms about 0.24 (in the request workers, once a second, about
0.2 ms), and an email waits at most that much longer.

A lost connection is opened again after `retry` seconds, with a wake-up of each, as
commits may have gone unheard. The workers' own intervals cover the time between.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import Notify, sql

log = logging.getLogger("experi.jobs")
IDLE = 1.0  # seconds a quiet wait lasts before it looks at `stop` again
RETRY = 1.0  # seconds before a lost connection is opened again
APPLICATION_NAME = "experi-commit-listener"  # as pg_stat_activity shows the connection


class Wake:
    """One worker's wake-up and the least time between two of them. `call` wakes the
    worker and returns None or 0, or declines for now and returns the seconds after
    which it is to be asked again (the wake-up stays pending till then)."""

    def __init__(self, call: Callable[[], float | None], gap: float) -> None:
        self.call = call
        self.gap = gap
        self.last = float("-inf")
        self.not_before = float("-inf")
        self.pending = False

    def due(self, now: float) -> float:
        """Seconds until this wake-up may be given (0: now)."""
        return max(0.0, self.last + self.gap - now, self.not_before - now)

    def give(self, now: float) -> None:
        later = self.call()
        if later:
            self.not_before = now + later
            return
        self.pending, self.last = False, now


class CommitListener:
    def __init__(
        self,
        conninfo: str,
        channel: str,
        wakes: Sequence[Wake],
        retry: float = RETRY,
        demands: Mapping[str, Callable[[], None]] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.wakes = list(wakes)
        # Other channels, each answered at once, with no gap, by its call (a read asking
        # for the views to be caught up: infrastructure/view_follower.py).
        self.demands = dict(demands or {})
        self.retry = retry
        self.heard = 0  # notifications received (tests)
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="experi-listener", daemon=True)
        self._thread.start()

    def listening(self, timeout: float) -> bool:
        """Whether the listener is listening (it has heard every commit since)."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=IDLE + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # The conninfo's keepalives find a connection dropped on the way (a
                # NAT, a firewall) within about a minute: it never hears nothing for ever.
                with psycopg.connect(
                    self.conninfo, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    for channel in (self.channel, *self.demands):
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self._listening.set()
                    for wake in self.wakes:  # commits before LISTEN may have gone unheard
                        wake.pending = True
                    self._listen(conn)
            except Exception as error:
                log.warning("listening for commits failed (%s); again shortly", error)
            finally:
                self._listening.clear()
            self._stop.wait(self.retry)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            waits = []
            for wake in self.wakes:
                if wake.pending and wake.due(now) == 0:
                    wake.give(now)
                if wake.pending:  # not yet due, or declined for now
                    waits.append(wake.due(now))
            # While every wake-up is pending, what is heard changes nothing until the
            # next is due: the wait takes it all and returns then (not per commit).
            at_first = not all(wake.pending for wake in self.wakes)
            if self._heard(conn, min(waits, default=IDLE), at_first):
                for wake in self.wakes:
                    wake.pending = True

    def _heard(self, conn: psycopg.Connection[Any], seconds: float, at_first: bool) -> bool:
        """Whether a commit was heard within `seconds`, returning at the first one
        (having taken every notification already come) if `at_first`."""
        count = 0
        deadline = time.monotonic() + seconds
        while True:
            left = max(0.0, deadline - time.monotonic())
            # Each generator is run to its end: one packet may bring several, and those
            # after the first would be lost with a generator left early.
            got, commits = self._answered(conn.notifies(timeout=left, stop_after=1))
            count += commits
            if not got or left == 0:
                break  # the time is up (a flood of notifications does not extend it)
            if count and at_first:
                count += self._answered(conn.notifies(timeout=0))[1]  # no waiting
                break
        self.heard += count
        return count > 0

    def _answered(self, notices: Iterable[Notify]) -> tuple[int, int]:
        """How many notifications, and how many commits among them; a demand among them
        is answered at once, whatever the commits' wake-ups wait for."""
        got = commits = 0
        for notice in notices:
            got += 1
            demand = self.demands.get(notice.channel)
            if demand is not None:
                demand()
            else:
                commits += 1
        return got, commits
