"""How the API reads the caller's rate-limit state for response headers."""

from __future__ import annotations

from litestar.types import Scope

from api.response_headers import ResponseHeaders
from application.ports import RateDecision


def rate_headers(scope: Scope, headers: ResponseHeaders, status: int) -> None:
    """X-RateLimit-* on every authenticated response; Retry-After on a 429."""
    decision: RateDecision | None = scope.get("experi_rate")  # type: ignore[assignment]
    if decision is None:
        return
    headers["X-RateLimit-Limit"] = str(decision.limit)
    headers["X-RateLimit-Remaining"] = str(decision.remaining)
    headers["X-RateLimit-Reset"] = str(decision.reset_at)
    if status == 429 and "retry-after" not in headers:
        headers["Retry-After"] = str(decision.retry_after)
