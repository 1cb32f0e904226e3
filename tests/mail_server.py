"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import socket
import threading
import time
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import refusing_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived: list[float] = []  # `time.perf_counter()` as each message was accepted
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)  # type: ignore[arg-type]
        with self.changed:
            self.messages.append(message)
            self.arrived.append(time.perf_counter())
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class MailServer:
    """Start and stop at will on a fixed port, to play a mail server that goes away.

    Until it first starts (a server that is down), its port refuses connections and is
    held from other tests (see `refusing_port`); `stop` lets it go."""

    def __init__(self, port: int | None = None) -> None:
        self._held: socket.socket | None = None
        if port is None:
            self._held = refusing_port()
            port = int(self._held.getsockname()[1])
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def _let_go(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailServer:
        self._let_go()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._let_go()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The messages, once there are `count` (or `timeout` has passed): woken as each
        arrives, not by polling."""
        with self.inbox.changed:
            self.inbox.changed.wait_for(lambda: len(self.inbox.messages) >= count, timeout)
        return self.inbox.messages
