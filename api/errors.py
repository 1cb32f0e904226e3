"""One error shape for every layer: validation, auth, routing, limits and crashes."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Scope

from application.ports import InvalidCursor, RateLimited
from domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    StateConflict,
    Unauthenticated,
)
from infrastructure.sql import UNAVAILABLE_ERRORS, is_unavailable

log = logging.getLogger("experi.errors")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_STATUS_FOR: list[tuple[type[DomainError], int]] = [
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (StateConflict, 409),
]
_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type: send application/json",
    422: "Unprocessable request",
    429: "Too many requests",
    503: "Service unavailable",
}


class ApiError(Exception):
    """An HTTP-level refusal with the contract's shape (415, 422, 409 for idempotency...)."""

    def __init__(
        self,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def request_id(scope: Scope) -> str:
    """The request's id: the client's if it is sane, else a new one (kept in the scope)."""
    existing = scope.get("experi_request_id")
    if existing:
        return str(existing)
    sent = ""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            sent = value.decode("latin-1")
            break
    rid = sent if _SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex
    scope["experi_request_id"] = rid  # type: ignore[typeddict-unknown-key]
    return rid


def error_response(
    status: int,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body = {"error": {"message": message, "statusCode": status, "details": details or {}}}
    from api.responses import ExperiResponse

    return ExperiResponse(content=body, status_code=status, headers=headers or {})


def domain_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, DomainError)
    status = next((code for cls, code in _STATUS_FOR if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, exc.message, exc.details, headers)


def api_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.details, exc.headers)


def rate_limited_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.decision.retry_after)}
    return error_response(429, exc.message, {"retryAfter": exc.decision.retry_after}, headers)


def cursor_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return error_response(400, "Validation failed", {"cursor": [str(exc)]})


def http_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        details: dict[str, list[str]] = {}
        for item in exc.extra if isinstance(exc.extra, list) else []:
            key = str(item.get("key") or "body") if isinstance(item, dict) else "body"
            msg = str(item.get("message")) if isinstance(item, dict) else str(item)
            details.setdefault(key, []).append(msg)
        return error_response(400, "Validation failed", details)
    if status >= 500:
        return internal_error_handler(request, exc)
    if status == 405 and "allow" in {k.lower() for k in headers}:
        headers = {"Allow": next(v for k, v in headers.items() if k.lower() == "allow")}
    message = _MESSAGES.get(status) or str(exc.detail or "Error")
    return error_response(status, message, {}, headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything unexpected: a 500 that names the request, with the traceback in the log only."""
    rid = request_id(request.scope)
    log.exception("unhandled error in request %s", rid, exc_info=exc)
    return error_response(500, "Internal server error", {"requestId": rid})


def unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database is down or restarting: 503, and the client may retry shortly."""
    if not is_unavailable(exc):
        return internal_error_handler(request, exc)
    log.warning(
        "database unavailable (request %s): %s: %s",
        request_id(request.scope),
        type(exc).__name__,
        str(exc)[:200],
    )
    return error_response(
        503, "The database is unavailable; retry shortly", headers={"Retry-After": "1"}
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    **dict.fromkeys(UNAVAILABLE_ERRORS, unavailable_handler),
    DomainError: domain_error_handler,
    InvalidCursor: cursor_error_handler,
    ApiError: api_error_handler,
    RateLimited: rate_limited_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
