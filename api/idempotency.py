"""Idempotency-Key on POST: the first outcome is stored and replayed for retries."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from litestar.exceptions import HTTPException

from api.context import run
from api.errors import ApiError
from api.fields import IDEMPOTENCY_KEY

MAX_BODY = 1024 * 1024
log = logging.getLogger("experi.idempotency")
OPERATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/idempotent-operation")


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters, not starting or ending with a space."""
    return re.match(IDEMPOTENCY_KEY, key) is not None


async def read_body(scope: Any, receive: Any) -> bytes:
    """The whole body, refusing more than 1 MiB before reading it all."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY:
            raise HTTPException(status_code=413)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(status_code=413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def run_idempotent(
    services: Any,
    api_key_id: str,
    key: str,
    scope: Any,
    receive: Any,
    send: Any,
    next_app: Any,
) -> None:
    if not valid_key(key):
        raise ApiError(
            400,
            "Validation failed",
            {"Idempotency-Key": ["Must be 1 to 255 printable ASCII characters"]},
        )
    body = await read_body(scope, receive)
    request_line = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}"
    fingerprint = hashlib.sha256(request_line.encode() + b"\n" + body).hexdigest()
    store = services.idempotency
    outcome = await run(store.begin, api_key_id, key, fingerprint, time.time())
    if outcome.state == "mismatch":
        raise ApiError(422, "This Idempotency-Key was used with a different request")
    if outcome.state == "in_flight":
        raise ApiError(
            409,
            "A request with this Idempotency-Key is still in progress",
            code="idempotency_request_in_flight",
        )
    if outcome.state == "replay":
        headers = [(b"content-type", b"application/json"), (b"idempotent-replayed", b"true")]
        if outcome.location:
            headers.append((b"location", outcome.location.encode()))
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
        await send({"type": "http.response.body", "body": outcome.body, "more_body": False})
        return

    # The ids the command creates derive from the key's life (its nonce), so a re-run
    # (after a 5xx, or after the first attempt died with its process) finds what the
    # first one stored, while the same key used again after it expired starts afresh.
    scope["experi_operation"] = str(
        uuid5(OPERATION_NAMESPACE, f"{api_key_id}\n{key}\n{outcome.nonce}")
    )
    sent_body = False

    async def replay_receive() -> Any:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    status = 500
    location: str | None = None
    parts: list[bytes] = []

    async def capture(message: Any) -> None:
        nonlocal status, location
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"location":
                    location = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
        await send(message)

    try:
        await next_app(scope, replay_receive, capture)
    except BaseException:
        await _abandon(store, api_key_id, key)
        raise
    # A refusal for load (429) or a failure on our side (5xx) is not an outcome to
    # replay: a retry runs again, and finds whatever the first attempt committed.
    if status == 429 or status >= 500:
        await _abandon(store, api_key_id, key)
    else:
        await run(store.finish, api_key_id, key, status, b"".join(parts), location)


async def _abandon(store: Any, api_key_id: str, key: str) -> None:
    """Best effort: with the database away this fails too, and the row then lapses
    after the stale time; the failure the client sees is the request's own."""
    try:
        await run(store.abandon, api_key_id, key)
    except Exception:
        log.warning("an idempotent request could not be marked retryable", exc_info=True)
