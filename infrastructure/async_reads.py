"""Reads on the server's event loop: a psycopg async pool, opened by the app's lifespan.

A pool belongs to the event loop that opened it. Until one is open on the running loop
(the CLI, background jobs, a test client without a lifespan), reads go to a worker
thread through the blocking pool instead, with the same result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import psycopg
from psycopg_pool import AsyncConnectionPool

Rows = list[tuple[Any, ...]]


class AsyncReads:
    def __init__(
        self, conninfo: str, blocking: Callable[[str, Sequence[Any]], Rows], max_size: int = 10
    ) -> None:
        self.conninfo = conninfo
        self.blocking = blocking
        self.max_size = max_size
        self._pool: AsyncConnectionPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool = AsyncConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=self.max_size,
            open=False,
            timeout=30,
            kwargs={"autocommit": True},
        )
        await pool.open()
        self._pool, self._loop = pool, asyncio.get_running_loop()

    async def close(self) -> None:
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            await pool.close()

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        pool = self._pool
        if pool is None or self._loop is not asyncio.get_running_loop():
            return await anyio.to_thread.run_sync(self.blocking, sql, params)
        try:
            return await self._rows(pool, sql, params)
        except psycopg.OperationalError:
            # Connections the database dropped (a restart) are discarded: the failed
            # one on its return, the idle ones by the check. A read is safe to run
            # again, once.
            await pool.check()
            return await self._rows(pool, sql, params)

    @staticmethod
    async def _rows(pool: AsyncConnectionPool, sql: str, params: Sequence[Any]) -> Rows:
        async with pool.connection() as conn, conn.cursor() as cursor:
            await cursor.execute(sql.replace("?", "%s"), tuple(params), binary=True)
            return [tuple(row) for row in await cursor.fetchall()]
