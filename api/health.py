"""Liveness and readiness probes (no key, not rate limited)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from api.context import run, services
from api.errors import error_response
from api.responses import ExperiResponse
from api.schemas import Health


@get("/health/live", summary="The process is up", tags=["Operations"])
async def live() -> Health:
    return Health(status="ok")


@get("/health/ready", summary="The database is reachable", tags=["Operations"])
async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
    s = services(request)
    try:
        await run(s.projector.position)
        await run(s.app.recorder.max_notification_id)
    except Exception:
        return error_response(503, "Database unreachable")
    return ExperiResponse(Health(status="ok"))
