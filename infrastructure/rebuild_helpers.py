"""A rebuild's helpers: each follows one group of views in a process of its own.

A rebuild is bound by the interpreter, not the database: the audit entries and the
rows of a large store take about as long as each other, so on PostgreSQL (which takes
writers in parallel) they are built side by side, one process per group. Each process
has its own connections; what they share is the tracking table, so an interrupted
rebuild resumes each group where it stopped.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from application.ports import Documents
from infrastructure import bootstrap
from infrastructure.settings import Settings


class HelperFailed(RuntimeError):
    pass


class ProcessHelper:
    def __init__(self, process: subprocess.Popen[bytes], group: str) -> None:
        self.process, self.group = process, group

    def wait(self, seconds: float) -> bool:
        try:
            code = self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        if code != 0:
            raise HelperFailed(
                f"rebuilding the {self.group} views failed in their own process "
                f"(exit code {code}); run the rebuild again to resume"
            )
        return True


def in_processes(
    settings: Settings, documents: Callable[[], Documents]
) -> Callable[[str], ProcessHelper]:
    """Starts a process that follows one group of views on the store of `settings`.
    `documents` must be importable by name (a class): the process starts afresh, and
    imports it only if its views shape a document (see DocumentsByName)."""
    where = f"{documents.__module__}:{documents.__qualname__}"

    def start(group: str) -> ProcessHelper:
        # A new interpreter, not a fork: this one holds connection pools and threads.
        process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=sys.stderr
        )
        assert process.stdin is not None
        with process.stdin:
            process.stdin.write(pickle.dumps((settings, where, group)))
        return ProcessHelper(process, group)

    return start


class DocumentsByName:
    """The `Documents` class named `where` ("module:Class"), imported and made when one
    of its shapes is first asked for. A helper following the audit views shapes none,
    so it does not import the API layer that shapes them (with the web framework, about
    a third of its start-up, which is on a rebuild's critical path)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._documents: Documents | None = None
        self._lock = threading.Lock()

    def _made(self) -> Documents:
        with self._lock:
            if self._documents is None:
                module, name = self.where.split(":")
                self._documents = getattr(importlib.import_module(module), name)()
            return self._documents

    def invoice(self, invoice: Any) -> bytes:
        return self._made().invoice(invoice)

    def invoice_without(self, invoice: Any, skip: int) -> bytes:
        return self._made().invoice_without(invoice, skip)

    def past_invoice(self, invoice: Any) -> bytes:
        return self._made().past_invoice(invoice)

    def client(self, client: Any) -> bytes:
        return self._made().client(client)

    def recurring(self, template: Any) -> bytes:
        return self._made().recurring(template)


def follow_group(settings: Settings, where: str, group: str) -> None:
    services = bootstrap.build_services(settings, documents=DocumentsByName(where))
    try:
        services.projector.follow_group(group)
    finally:
        services.close()


if __name__ == "__main__":
    follow_group(*pickle.load(sys.stdin.buffer))
