"""Wakes this process's background workers when any process commits events.

Every save on PostgreSQL ends with `NOTIFY` on the event store's channel. A process
that runs the background jobs apart from the request workers hears those commits here
(`LISTEN` on a connection of its own) and wakes its workers: an email queued through
any process goes out within a pass, not at the next interval.

A busy store commits hundreds of times a second; the workers need not run a pass for
each. The first commit heard after a quiet spell wakes them at once; what is heard in
the `gap` after a wake-up makes one more. So the workers run at most one pass per
`gap` under load, each catching up on every commit since the last.

A lost connection is opened again after `retry` seconds, with a wake-up, as commits
may have gone unheard meanwhile. The workers' own interval covers the time between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger("experi.jobs")
GAP = 0.05  # seconds: at most one wake-up per gap under load
IDLE = 1.0  # seconds a quiet wait lasts before it looks at `stop` again
RETRY = 1.0  # seconds before a lost connection is opened again
APPLICATION_NAME = "experi-commit-listener"  # as pg_stat_activity shows the connection


class CommitListener:
    def __init__(
        self,
        conninfo: str,
        channel: str,
        wake: Callable[[], None],
        gap: float = GAP,
        retry: float = RETRY,
    ) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.wake = wake
        self.gap = gap
        self.retry = retry
        self.heard = 0  # notifications received (tests, logs)
        self.wakes = 0  # wake-ups given
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
                with psycopg.connect(
                    self.conninfo, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self._listening.set()
                    self._wake()  # commits before LISTEN may not have been seen
                    self._listen(conn)
            except Exception as error:
                log.warning("listening for commits failed (%s); again shortly", error)
            finally:
                self._listening.clear()
            self._stop.wait(self.retry)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            heard = self._drain(conn, IDLE, stop_after=1)
            while heard and not self._stop.is_set():
                self._wake()
                heard = self._drain(conn, self.gap)

    def _drain(self, conn: psycopg.Connection[Any], seconds: float, **kw: Any) -> bool:
        """Whether a commit was heard within `seconds` (all heard are taken)."""
        count = sum(1 for _ in conn.notifies(timeout=seconds, **kw))
        self.heard += count
        return count > 0

    def _wake(self) -> None:
        self.wakes += 1
        self.wake()
