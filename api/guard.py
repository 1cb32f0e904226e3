"""The gate of every /api/v1 route: key, rate limit, scope, then idempotent POSTs."""

from __future__ import annotations

import time
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from api.client_address import client_address
from api.context import run
from api.idempotency import run_idempotent
from application.accounts import Principal
from application.ports import RateDecision, RateLimited
from domain.errors import Forbidden, Unauthenticated

READ_METHODS = frozenset({"GET", "HEAD"})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def admit(services: Any, token: str, address: str, is_read: bool) -> tuple[Principal, RateDecision]:
    """Authenticate, then count the request against the key's limit (one thread hop)."""
    principal = services.auth.authenticate(token, address, time.time())
    settings = services.settings
    limit = settings.read_rate_limit if is_read else settings.write_rate_limit
    bucket = f"{principal.key_id}:{'read' if is_read else 'write'}"
    return principal, services.limiter.hit(bucket, limit, time.time())


class ApiGuard(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        await self._guard(cast(Any, scope), receive, send, next_app)

    async def _guard(self, scope: Any, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        services: Any = scope["litestar_app"].state.services
        scheme, _, token = _header(scope, b"authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Missing API key: send Authorization: Bearer <key>")
        address = client_address(scope)
        is_read = scope["method"] in READ_METHODS
        principal, decision = await run(admit, services, token.strip(), address, is_read)
        scope["experi_principal"] = principal
        scope["experi_rate"] = decision
        if not decision.allowed:
            raise RateLimited(decision)

        needed = scope["route_handler"].opt.get("scope")
        if needed and needed not in principal.scopes:
            raise Forbidden(f"This API key lacks the scope {needed}")

        idem_key = _header(scope, b"idempotency-key")
        if scope["method"] == "POST" and idem_key:
            await run_idempotent(
                services, str(principal.key_id), idem_key, scope, receive, send, next_app
            )
        else:
            await next_app(scope, receive, send)
