"""A progress bar on standard error for long passes over the event log (a rebuild)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redrawn in place on a terminal; elsewhere (a log) one line per tenth."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.first = self.total = self.done = 0
        self.started = time.perf_counter()
        self._tenth = -1

    def start(self, position: int, latest: int) -> None:
        self.first, self.total, self.done = position, max(0, latest - position), 0
        self.started = time.perf_counter()
        if position:
            self.stream.write(f"resuming after event {position}\n")

    def update(self, position: int) -> None:
        self.done = min(self.total, max(0, position - self.first))
        fraction = self.done / self.total if self.total else 1.0
        rate = self.done / max(1e-9, time.perf_counter() - self.started)
        filled = int(self.width * fraction)
        text = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} "
            f"{self.done:,}/{self.total:,} events, {rate:,.0f}/s"
        )
        if self.stream.isatty():
            self.stream.write("\r" + text)
        elif int(fraction * 10) != self._tenth:
            self._tenth = int(fraction * 10)
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        self.update(self.first + self.total)
        if self.stream.isatty():
            self.stream.write("\n")
        self.stream.flush()
