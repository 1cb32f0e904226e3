"""The gate of every /api/v1 request: the key, its rate limit, then idempotent POSTs."""

from __future__ import annotations

import re
import time
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from api.client_address import client_address
from api.context import run
from api.errors import invalid
from api.fields import IDEMPOTENCY_KEY, pattern_message
from api.guards import check_operation
from api.idempotency import run_idempotent
from application.accounts import Principal
from application.ports import RateDecision, RateLimited
from domain.errors import Unauthenticated

READ_METHODS = frozenset({"GET", "HEAD"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _window(services: Any, principal: Principal, is_read: bool) -> tuple[str, int]:
    settings = services.settings
    limit = settings.read_rate_limit if is_read else settings.write_rate_limit
    return f"{principal.key_id}:{'read' if is_read else 'write'}", limit


def admitted(services: Any, token: str, is_read: bool) -> tuple[Principal, RateDecision] | None:
    """A key verified moments ago, counted in memory: decided on the event loop, or None."""
    now = time.time()
    principal = services.auth.cached(token, now)
    if principal is None:
        return None
    decision = services.limiter.local(*_window(services, principal, is_read), now)
    return None if decision is None else (principal, decision)


def admit(services: Any, token: str, address: str, is_read: bool) -> tuple[Principal, RateDecision]:
    """Authenticate, then count the request against the key's limit (one thread hop)."""
    principal = services.auth.authenticate(token, address, time.time())
    return principal, services.limiter.hit(*_window(services, principal, is_read), time.time())


class ApiGate(ASGIMiddleware):
    """Runs once the request is routed and before its body is read, so that refused
    requests cost no body parsing."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        await self._gate(cast(Any, scope), receive, send, next_app)

    async def _gate(self, scope: Any, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        services: Any = scope["litestar_app"].state.services
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Missing API key: send Authorization: Bearer <key>")
        address = client_address(scope)
        is_read = scope["method"] in READ_METHODS
        token = token.strip()
        admission = admitted(services, token, is_read)
        if admission is None:
            admission = await run(admit, services, token, address, is_read)
        principal, decision = admission
        scope["experi_principal"] = principal
        scope["experi_rate"] = decision
        if not decision.allowed:
            raise RateLimited(decision)
        check_operation(scope)

        key = _header(scope, b"idempotency-key")
        if scope["method"] == "POST" and key is not None:
            if not re.match(IDEMPOTENCY_KEY, key):
                raise invalid({"Idempotency-Key": [pattern_message(IDEMPOTENCY_KEY, key)]})
            await run_idempotent(
                services, str(principal.key_id), key, scope, receive, send, next_app
            )
        else:
            await next_app(scope, receive, send)
