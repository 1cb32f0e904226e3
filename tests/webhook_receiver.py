"""A real HTTP(S) webhook receiver in the test process that verifies every signature."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool  # the signature checks out with the endpoint's secret

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def type(self) -> str:
        import json

        return str(json.loads(self.body)["type"])


class Receiver:
    """Answers each POST with the next planned status (then `default`), keeps what came."""

    def __init__(self, secret: str | None = None, default: int = 200) -> None:
        self.secret = secret
        self.default = default
        self.plan: list[int] = []  # statuses for the next requests, in order
        self.reply = b"ok"  # the body of every answer
        self.hold: Callable[[Received], None] | None = None  # runs before answering
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                item = Received(headers, body, receiver.verify(body, headers))
                with receiver.lock:
                    receiver.received.append(item)
                    status = receiver.plan.pop(0) if receiver.plan else receiver.default
                if receiver.hold is not None:
                    receiver.hold(item)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(receiver.reply)))
                    self.end_headers()
                    self.wfile.write(receiver.reply)
                except OSError:
                    pass  # the sender gave up (timed out, or its process was killed)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            return False

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, host: str = "127.0.0.1", path: str = "/hooks/experi") -> str:
        return f"http://{host}:{self.port}{path}"

    def ids(self) -> list[str]:
        with self.lock:
            return [r.webhook_id for r in self.received]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} webhooks arrived")
            time.sleep(0.05)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
