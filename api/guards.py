"""The checks of /api/v1 operations: the key's scope, and no query parameter left unread.

The gate runs them with the routed handler, not as a Litestar guard: Litestar hands each
guard its own copy of the route handler, and the copy was 4% of a POST's CPU."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from api.errors import invalid
from api.openapi import SECURITY
from domain.errors import Forbidden


def check_operation(scope: Any) -> None:
    """The routed operation's checks, before its body is read."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    handler = scope["route_handler"]
    has_scope(connection, handler)
    known_query(connection, handler)


def has_scope(connection: ASGIConnection[Any, Any, Any, Any], handler: Any) -> None:
    """The key must hold every scope the operation's security requirement names."""
    principal = connection.scope["experi_principal"]  # type: ignore[typeddict-item]
    for requirement in handler.resolve_security():
        for scope in requirement.get(SECURITY, []):
            if scope not in principal.scopes:
                raise Forbidden(f"This API key lacks the scope {scope}")


def query_names(connection: ASGIConnection[Any, Any, Any, Any], handler: Any) -> dict[str, str]:
    """The operation's query parameters: the name the client sends -> the name in code."""
    known: dict[str, str] | None = handler.opt.get("query_names")
    if known is None:  # worked out once per handler, from its signature and dependencies
        paths = dict.fromkeys(connection.scope.get("path_params", {}))
        model = handler.create_kwargs_model(path_parameters=paths)
        known = {p.field_alias: p.field_name for p in model.expected_query_params}
        handler.opt["query_names"] = known
    return known


def known_query(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A query parameter the operation does not take is refused, never ignored."""
    known = query_names(connection, handler)
    unknown = [name for name in connection.query_params if name not in known]
    if unknown:
        raise invalid({name: ["Unknown query parameter"] for name in unknown})
    connection.scope["experi_query_aliases"] = {v: k for k, v in known.items()}  # type: ignore[typeddict-unknown-key]
