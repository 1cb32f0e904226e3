"""Bearer-key authentication and scope checks for every /api/v1 route."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.context import run
from domain.errors import Forbidden, Unauthenticated


async def require_key(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Authenticate the bearer key and check the scope the route names in its `opt`."""
    header = connection.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Missing API key: send Authorization: Bearer <key>")
    services = connection.app.state.services
    principal = await run(services.app.authenticate, token.strip())
    needed = handler.opt.get("scope")
    if needed and needed not in principal.scopes:
        raise Forbidden(f"This API key lacks the scope {needed}")
    connection.scope["experi_principal"] = principal  # type: ignore[typeddict-unknown-key]
