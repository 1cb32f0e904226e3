"""One error shape for every layer, and the one map from exceptions to HTTP answers."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Scope

from api.schemas import ErrorBody, ErrorCode, ErrorOut
from api.wording import humane
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
_DOMAIN: list[tuple[type[DomainError], int, ErrorCode]] = [
    (InvalidInput, 400, "rule_violated"),
    (Unauthenticated, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (StateConflict, 409, "state_conflict"),
]
# Framework refusals: the status, its code and the message the client reads.
_HTTP: dict[int, tuple[ErrorCode, str]] = {
    400: ("validation_failed", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    408: ("request_timeout", "The request body did not arrive in time"),
    409: ("state_conflict", "Conflict"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type: send application/json"),
    422: ("idempotency_key_reused", "Unprocessable request"),
    429: ("rate_limited", "Too many requests"),
    503: ("service_unavailable", "Service unavailable"),
}


class ApiError(Exception):
    """A refusal decided by the HTTP layer itself (schema validation, idempotency, ...)."""

    def __init__(
        self,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        self.code: ErrorCode = code or _HTTP.get(status, ("internal_error", ""))[0]


def invalid(details: dict[str, list[str]]) -> ApiError:
    """The request does not match the document."""
    return ApiError(400, "Validation failed", details, code="validation_failed")


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
    scope: Scope,
    status: int,
    code: ErrorCode,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    from api.responses import ExperiResponse

    body = ErrorOut(
        error=ErrorBody(
            message=message,
            status_code=status,
            code=code,
            request_id=request_id(scope),
            details=details or {},
        )
    )
    return ExperiResponse(content=body, status_code=status, headers=headers or {})


def domain_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, DomainError)
    status, code = next(((s, c) for cls, s, c in _DOMAIN if isinstance(exc, cls)), (400, None))
    code = getattr(exc, "code", None) or code or "rule_violated"
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(request.scope, status, code, exc.message, exc.details, headers)


def api_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ApiError)
    return error_response(
        request.scope, exc.status, exc.code, exc.message, exc.details, exc.headers
    )


def rate_limited_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, RateLimited)
    retry = exc.decision.retry_after
    return error_response(
        request.scope, 429, "rate_limited", exc.message, {"retryAfter": retry},
        {"Retry-After": str(retry)},
    )  # fmt: skip


def cursor_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return error_response(
        request.scope, 400, "invalid_cursor", "Validation failed", {"cursor": [str(exc)]}
    )


def validation_details(request: Request[Any, Any, Any], exc: ValidationException) -> dict[str, Any]:
    """Litestar's parameter errors, by the names the client sent and in plain words."""
    details: dict[str, list[str]] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "body")
        if key == "data":  # no body where one is required
            details.setdefault("body", []).append("A JSON object is required")
            continue
        name = request.scope.get("experi_query_aliases", {}).get(key, key)  # type: ignore[attr-defined]
        value = request.query_params.get(name)
        details.setdefault(name, []).append(humane(str(item.get("message")), name, value))
    return details


def http_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        details = validation_details(request, exc)
        return error_response(request.scope, 400, "validation_failed", "Validation failed", details)
    if status >= 500:
        return internal_error_handler(request, exc)
    if status == 405:
        headers = {k: v for k, v in headers.items() if k.lower() == "allow"}
    code, message = _HTTP.get(status, ("validation_failed", str(exc.detail or "Error")))
    return error_response(request.scope, status, code, message, {}, headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything unexpected: a 500 that names the request, with the traceback in the log only."""
    rid = request_id(request.scope)
    log.exception("unhandled error in request %s", rid, exc_info=exc)
    return error_response(
        request.scope, 500, "internal_error", "Internal server error", {"requestId": rid}
    )


def unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database is down or restarting: 503, and the client may retry shortly."""
    if not is_unavailable(exc):  # a bug (missing table, bad SQL) is a 500 with its traceback
        return internal_error_handler(request, exc)
    log.warning(
        "database unavailable (request %s): %s: %s",
        request_id(request.scope),
        type(exc).__name__,
        str(exc)[:200],
    )
    return error_response(
        request.scope,
        503,
        "service_unavailable",
        "The database is unavailable; retry shortly",
        headers={"Retry-After": "1"},
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
