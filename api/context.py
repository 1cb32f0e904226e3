"""What handlers receive by injection: the wired services, the caller, its event metadata."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from litestar.types import Scope

from api.client_address import audit_address
from api.errors import request_id
from application.accounts import Principal
from domain.meta import Meta
from infrastructure.bootstrap import Services

T = TypeVar("T")

# What handlers name to receive (injected by name, passed on as they are).
AppServices = NamedDependency[SkipValidation[Services]]
Caller = NamedDependency[SkipValidation[Principal]]
EventMeta = NamedDependency[SkipValidation[Meta]]


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# As many threads as anyio's default limit, which this replaces: anyio's hand-off looks
# its backend up (sniffio) and takes a capacity token on every call, a measurable share
# of a write request's CPU. A request whose client goes away still runs its command to
# the end in its thread (the command runs once); only the reply is dropped.
COMMANDS = ThreadPoolExecutor(40, thread_name_prefix="experi-command")


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking event-store work in the command threads, never on the event loop
    (with the caller's context variables, as anyio did)."""
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(COMMANDS, call)


def provide_services(state: State) -> Services:
    return state.services  # type: ignore[no-any-return]


def provide_principal(scope: Scope) -> Principal:
    """The API key the gate authenticated for this request."""
    return scope["experi_principal"]  # type: ignore[typeddict-item,no-any-return]


def provide_meta(request: Request[Any, Any, Any], principal: Caller) -> Meta:
    """Who did it and from where, for the events a command records."""
    result = Meta(
        actorType="api_key",
        actorId=str(principal.key_id),
        actorName=principal.key_name,
        requestId=request_id(request.scope),
        ip=audit_address(request.scope),
        userAgent=(request.headers.get("user-agent") or "")[:300] or None,
    )
    operation = request.scope.get("experi_operation")
    if isinstance(operation, str):
        result["operationId"] = operation
    return result


# `services` is provided app-wide (the health probes use it too).
DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "meta": Provide(provide_meta, sync_to_thread=False),
}
