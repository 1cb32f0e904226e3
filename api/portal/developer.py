"""The developer section: create, list and revoke API keys (once API access is approved)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath

from api.context import run, services
from api.portal.web import SESSION_COOKIE, csrf_matches, expired, go, page, user_meta, visitor
from domain.account import APPROVED
from domain.errors import DomainError
from domain.scopes import SCOPES


def when(value: datetime | float | None) -> str:
    if value is None:
        return "never"
    if isinstance(value, float):
        value = datetime.fromtimestamp(value, UTC)
    return value.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


@dataclass(frozen=True)
class CreatedKey:
    """A key just created, as the page shows it once."""

    id: str
    name: str
    token: str


class DeveloperController(Controller):
    path = "/dashboard/developer"
    include_in_schema = False

    async def _listing(
        self, request: Request[Any, Any, Any], v: Any, status: int = 200, **extra: Any
    ) -> Any:
        s = services(request)
        keys = await run(s.queries.keys_of, v.account.id)
        used = await run(s.key_usage.last_used, [k.id for k in keys])
        rows = [
            {
                "id": str(k.id),
                "name": k.name,
                "scopes": ", ".join(k.scopes),
                "created": when(k.created_at),
                "last_used": when(used.get(k.id)),
                "revoked": k.is_revoked,
            }
            for k in keys
        ]
        return page(
            "developer.html", status, v=v, csrf=v.csrf, keys=rows, scopes=SCOPES,
            approved=v.account.api_access == APPROVED, base_url=str(request.base_url).rstrip("/"),
            **extra,
        )  # fmt: skip

    @get("/")
    async def show(self, request: Request[Any, Any, Any]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        created = None
        token = request.cookies.get(SESSION_COOKIE)
        flash = (
            await run(services(request).sessions.take_flash, token, time.time()) if token else None
        )
        if flash:
            created = CreatedKey(**json.loads(flash))
        notice = request.query_params.get("notice")
        return await self._listing(request, v, created=created, notice=notice)

    @post("/keys")
    async def create_key(self, request: Request[Any, Any, Any]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        data = await request.form()
        if not csrf_matches(data.get("csrf"), v.csrf):
            return expired()
        name = str(data.get("name") or "").strip()[:100]
        scopes = [str(s) for s in data.getall("scopes")] if "scopes" in data else []
        if not name:
            return await self._listing(request, v, 400, error="Give the key a name.")
        try:
            new = await run(
                services(request).app.create_key, v.account.id, name, scopes, user_meta(request, v)
            )
        except DomainError as error:
            detail = "; ".join(m for messages in error.details.values() for m in messages)
            return await self._listing(request, v, 400, error=detail or error.message)
        # Post/redirect/get: the secret is shown once by the page this redirects to, so
        # reloading that page neither shows it again nor creates another key.
        shown = {"id": str(new.key.id), "name": new.key.name, "token": new.token}
        token = request.cookies.get(SESSION_COOKIE) or ""
        await run(services(request).sessions.put_flash, token, json.dumps(shown), time.time())
        return go("/dashboard/developer?notice=Key+created")

    @post("/keys/{key_id:str}/revoke")
    async def revoke_key(self, request: Request[Any, Any, Any], key_id: FromPath[str]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        if not csrf_matches((await request.form()).get("csrf"), v.csrf):
            return expired()
        s = services(request)
        try:
            key = await run(s.app.get_key, UUID(key_id))
            if key.account_id != v.account.id:
                raise LookupError
            await run(s.app.revoke_key, key.id, user_meta(request, v))
        except (ValueError, LookupError, DomainError):
            return await self._listing(request, v, 404, error="No such key.")
        return go("/dashboard/developer?notice=Key+revoked")
