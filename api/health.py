"""Liveness and readiness probes (no key, not rate limited)."""

from __future__ import annotations

from litestar import get
from litestar.openapi.datastructures import ResponseSpec

from api.context import AppServices, run
from api.errors import ApiError
from api.schemas import ErrorOut, Health

UNREADY = {503: ResponseSpec(ErrorOut, description="The database is unreachable")}


@get("/health/live", summary="The process is up", tags=["Operations"])
async def live() -> Health:
    return Health(status="ok")


@get("/health/ready", summary="The database is reachable", tags=["Operations"], responses=UNREADY)
async def ready(services: AppServices) -> Health:
    try:
        await run(services.projector.position)
        await run(services.app.recorder.max_notification_id)
    except Exception:
        raise ApiError(503, "Database unreachable") from None
    return Health(status="ok")
