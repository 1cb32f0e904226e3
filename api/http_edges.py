"""HTTP rules applied before routing: HEAD answered as GET, and a deadline for request bodies."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.types import Message, Receive, ReceiveMessage, Scope, Send

from api.errors import ApiError

BODY_SECONDS = 30.0  # a request body (at most 1 MiB) must have arrived within this time


def head_as_get(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """HEAD runs the GET route (same status and headers, rate-limited as a read) and the
    body is dropped on the way out."""
    if scope.get("method") != "HEAD":
        return scope, send

    async def headless(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    # A copy: the server keeps its own scope saying HEAD, and so sends no body either.
    as_get: Any = {**scope, "method": "GET"}
    return as_get, headless


def allowed_methods(scope: Scope) -> str:
    """The methods of the request's path, for `Allow`. (Litestar's own OPTIONS answer lists
    only the methods of the first handler registered for a path.)"""
    app: Any = scope["litestar_app"]
    template = scope.get("path_template")
    known: dict[str, str] = app.state.setdefault("allowed_methods", {})
    if template not in known:
        methods = {m for r in app.routes if r.path_format == template for m in r.methods}
        known[template] = ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return known[template]


def body_deadline(receive: Receive, seconds: float | None = None) -> Receive:
    """A body that trickles in slower than the deadline is refused with 408, so a slow
    client cannot hold a worker's request open; once the body is in, nothing is timed."""
    deadline = time.monotonic() + (BODY_SECONDS if seconds is None else seconds)
    done = False

    async def timed() -> ReceiveMessage:
        nonlocal done
        if done:
            return await receive()
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                message = await receive()
        except TimeoutError:
            raise ApiError(408, "The request body did not arrive in time") from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            done = True
        return message

    return timed
