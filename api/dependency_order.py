"""Handler dependencies resolved one after another, without a task group per request.

Litestar resolves each batch of independent dependencies concurrently, in an anyio task
group of its own, for every request. Every provider here is a plain function that reads
the scope or the query string (`sync_to_thread=False`): there is nothing to overlap, and
py-spy put the task group at a tenth of a GET's CPU. `sequential()` swaps in a resolver
that awaits each dependency in batch order; values, validation errors and clean-up are
those of Litestar's own (a failing dependency raises its own exception, as Litestar
unwraps it from the group).
"""

from __future__ import annotations

from typing import Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection


async def _in_turn(
    self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def sequential() -> None:
    """Resolve dependencies in turn in every app of this process (idempotent)."""
    KwargsModel.resolve_dependencies = _in_turn  # type: ignore[method-assign]
