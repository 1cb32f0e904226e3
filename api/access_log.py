"""One JSON line per request on stdout: time, request id, key id, method, path, status, ms.

Only the key id is logged, never the Authorization header, a body or a query string
(a query could carry a secret that a client put there by mistake).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send

from api.errors import request_id
from api.http_edges import body_deadline, head_as_get


class AccessLoggedLitestar(Litestar):
    """The Litestar app, timing and logging every HTTP request it answers."""

    log_requests = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if str(scope["type"]) != "http":
            await super().__call__(scope, receive, send)
            return
        method = scope.get("method")
        scope, send = head_as_get(scope, send)
        receive = body_deadline(receive)
        if not self.log_requests:
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, tracked)
        finally:
            self._write(scope, method, status, (time.perf_counter() - started) * 1000)

    def _write(self, scope: Scope, method: Any, status: int, duration_ms: float) -> None:
        principal: Any = scope.get("experi_principal")
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestId": request_id(scope),
            "keyId": str(principal.key_id) if principal is not None else None,
            "method": method,
            "path": scope.get("path"),
            "status": status,
            "durationMs": round(duration_ms, 2),
        }
        try:
            # msgspec in C: the standard json module was 1.5% of a write request's CPU.
            # A line with other than ASCII (a path) is written with escapes, as before.
            text = msgspec.json.encode(line).decode()
            sys.stdout.write((text if text.isascii() else json.dumps(line)) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass  # a closed or full stdout must not fail the request
