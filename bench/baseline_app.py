"""The read baseline: a bare Litestar handler reading one row by primary key through
psycopg's async pool. Run by bench/throughput.py with the same workers, run as
`experi serve` runs them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Response, get
from psycopg_pool import AsyncConnectionPool

TABLE = "bench_rows"


def make_app() -> Litestar:
    pool = AsyncConnectionPool(os.environ["BENCH_CONNINFO"], min_size=4, max_size=16, open=False)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    @get("/row/{row_id:str}")
    async def row(row_id: str) -> Response[bytes]:
        async with pool.connection() as conn:
            cur = await conn.execute(f"SELECT body FROM {TABLE} WHERE id = %s", (row_id,))
            found = await cur.fetchone()
        if found is None:
            return Response(b"{}", status_code=404, media_type="application/json")
        return Response(found[0].encode(), media_type="application/json")

    return Litestar([row], lifespan=[lifespan])
