"""Reads written once, run two ways: blocking (CLI, jobs, tests) or on the event loop.

A read is a generator (a plan): it yields each `Query` it needs and is sent back that
query's rows, then returns its result. `run_plan` drives it through the blocking
driver; `read_plan` through `SqlDatabase.read`, which on PostgreSQL runs on the
server's event loop without a hop to a worker thread. A `@planned` method of a class
with a `db` does both: `queries.invoice(...)` blocks, `await queries.invoice.read(...)`
does not. A plan may also yield `Blocking` work (a replay from the event store, where a
row cannot answer): `read_plan` runs it in a worker thread, so the loop goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from application.ports import SqlDatabase

T = TypeVar("T")
P = ParamSpec("P")
Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Query:
    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class Blocking:
    """Work that blocks on something other than the read's own database driver; the
    plan is sent what `call` returns."""

    call: Callable[[], Any]


# Sent a Query's rows, or a Blocking step's result.
Plan = Generator[Query | Blocking, Any, T]


def run_plan(db: SqlDatabase, plan: Plan[T]) -> T:
    try:
        step = next(plan)
        while True:
            if isinstance(step, Blocking):
                step = plan.send(step.call())
            else:
                step = plan.send(db.rows(step.sql, step.params))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def read_plan(db: SqlDatabase, plan: Plan[T]) -> T:
    try:
        step = next(plan)
        while True:
            if isinstance(step, Blocking):
                step = plan.send(await asyncio.to_thread(step.call))
            else:
                step = plan.send(await db.read(step.sql, step.params))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class _Bound(Generic[P, T]):
    def __init__(self, owner: Any, make: Callable[Concatenate[Any, P], Plan[T]]) -> None:
        self._owner = owner
        self._make = make

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_plan(self._owner.db, self._make(self._owner, *args, **kwargs))

    async def read(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return await read_plan(self._owner.db, self._make(self._owner, *args, **kwargs))


class planned(Generic[P, T]):
    """Makes a plan-returning method callable both ways (see the module's doc)."""

    def __init__(self, make: Callable[Concatenate[Any, P], Plan[T]]) -> None:
        self._make = make
        self.__doc__ = make.__doc__

    def __get__(self, owner: Any, cls: type | None = None) -> _Bound[P, T]:
        return _Bound(owner, self._make)
