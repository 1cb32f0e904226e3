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
from infrastructure.settings import Settings

T = TypeVar("T")

# What handlers name to receive (injected by name, passed on as they are).
AppServices = NamedDependency[SkipValidation[Services]]
Caller = NamedDependency[SkipValidation[Principal]]
EventMeta = NamedDependency[SkipValidation[Meta]]


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# The threads commands run in (this replaces anyio's hand-off, which looks its backend
# up and takes a capacity token on every call). Few, by default 8 (`command_threads`):
# the GIL lets one run Python at a time, and each thread past a handful made every
# command wait longer for it after each database reply, numbering locks included; 40
# threads, anyio's default, gave 13 ms of numbering lock per invoice where 6-8 gave 9.
# A request whose client goes away still runs its command to the end in its thread (the
# command runs once); only the reply is dropped.
_threads = Settings.command_threads
_pool = ThreadPoolExecutor(_threads, thread_name_prefix="experi-command")  # threads start on use


def command_threads(count: int) -> None:
    """Run commands in `count` threads from now on (create_app, from the settings)."""
    global _pool, _threads
    if count != _threads:
        _pool.shutdown(wait=False)  # its commands under way run to their end
        _pool, _threads = ThreadPoolExecutor(count, thread_name_prefix="experi-command"), count


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking event-store work in the command threads, never on the event loop
    (with the caller's context variables, as anyio did)."""
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool, call)


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
