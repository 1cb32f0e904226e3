"""Per-request helpers: the wired services, the caller, event metadata, JSON bodies."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from litestar import Request
from litestar.exceptions import HTTPException

from api.client_address import audit_address
from api.errors import request_id
from api.validation import decode_json
from application.accounts import Principal
from domain.errors import InvalidInput
from domain.meta import Meta
from infrastructure.bootstrap import Services

T = TypeVar("T")
# Cursors this server hands out are a few dozen characters; a longer one is not ours.
MAX_CURSOR = 512


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def principal(request: Request[Any, Any, Any]) -> Principal:
    return request.scope["experi_principal"]  # type: ignore[typeddict-item,no-any-return]


def meta(request: Request[Any, Any, Any]) -> Meta:
    p = principal(request)
    result = Meta(
        actorType="api_key",
        actorId=str(p.key_id),
        actorName=p.key_name,
        requestId=request_id(request.scope),
        ip=audit_address(request.scope),
        userAgent=(request.headers.get("user-agent") or "")[:300] or None,
    )
    operation = request.scope.get("experi_operation")
    if isinstance(operation, str):
        result["operationId"] = operation
    return result


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking event-store work in the thread pool, never on the event loop."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def json_body(request: Request[Any, Any, Any], *, optional: bool = False) -> Any:
    """The decoded JSON body; 415 for other media types; `{}` for an allowed empty body."""
    body = await request.body()
    if not body.strip():
        if optional:
            return {}
        raise InvalidInput("Validation failed", {"body": ["A JSON object is required"]})
    if not is_json(request.headers.get("content-type", "")):
        raise HTTPException(status_code=415)
    return decode_json(body)


def page_params(request: Request[Any, Any, Any]) -> tuple[int, str | None]:
    raw = request.query_params.get("limit")
    limit = 20
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise InvalidInput.field("limit", "Must be a whole number between 1 and 100")
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR:
        raise InvalidInput.field("cursor", "Invalid cursor")
    return limit, cursor


async def empty_body(request: Request[Any, Any, Any]) -> None:
    """For actions that take no fields: an empty body or `{}`; anything else is named."""
    from api.validation import Reader

    reader = Reader(await json_body(request, optional=True))
    reader.only(())
    reader.check()
