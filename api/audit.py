"""The audit log: every change, read from the event stream, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get

from api import render
from api.context import page_params, principal, run, services
from api.schemas import AuditEntry, AuditList
from api.validation import _DATE, _DATETIME
from application.ports import Page
from domain.errors import InvalidInput
from projections.audit_log import AuditFilter


def bound(raw: str | None, name: str, end: bool, errors: dict[str, list[str]]) -> str | None:
    """A `from`/`to` query value as the stored timestamp text; a bare date covers its day."""
    if raw is None:
        return None
    if _DATE.match(raw):
        return f"{raw}T{'23:59:59.999999' if end else '00:00:00.000000'}Z"
    if _DATETIME.match(raw):
        try:
            parsed = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
            return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            pass
    errors[name] = ["Must be a date (YYYY-MM-DD) or an RFC 3339 date-time"]
    return None


def read_audit_filter(request: Request[Any, Any, Any]) -> AuditFilter:
    q = request.query_params
    errors: dict[str, list[str]] = {}
    where = AuditFilter(
        entity_type=q.get("entityType") or None,
        entity_id=q.get("entityId") or None,
        action=q.get("action") or None,
        actor_id=q.get("actorId") or None,
        occurred_from=bound(q.get("from"), "from", False, errors),
        occurred_to=bound(q.get("to"), "to", True, errors),
    )
    if errors:
        raise InvalidInput("Validation failed", errors)
    return where


def audit_list(page: Page, limit: int) -> AuditList:
    return AuditList(
        data=[msgspec.convert(item, AuditEntry, from_attributes=False) for item in page.items],
        pagination=render.pagination(page, limit),
    )


class AuditController(Controller):
    path = "/audit-log"
    tags = ["Audit"]

    @get("/", opt={"scope": "audit:read"}, summary="The audit log, oldest first")
    async def list_entries(self, request: Request[Any, Any, Any]) -> AuditList:
        limit, cursor = page_params(request)
        where = read_audit_filter(request)
        page = await run(
            services(request).queries.audit_log, principal(request).account_id, where, limit, cursor
        )
        return audit_list(page, limit)
