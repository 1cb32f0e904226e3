"""The audit log: every change, read from the event stream, oldest first; and its signed head."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get

from api import render
from api.context import page_params, principal, run, services
from api.schemas import AuditEntry, AuditList, Struct
from api.validation import _DATE, _DATETIME
from application.ports import Page
from domain.errors import InvalidInput
from infrastructure.bootstrap import Services
from projections import audit_chain
from projections.audit_log import AuditFilter
from projections.audit_view import timestamp

DIGEST_EXAMPLE = {
    "length": 42,
    "headHash": "9f2c0d6b5e0b8a51c3f4e2d1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1",
    "signedAt": "2026-02-10T14:03:07.000000Z",
    "signature": "c2lnbmF0dXJlIG9mIDY0IGJ5dGVzIGluIGJhc2U2NC4uLg==",
    "publicKeyId": "3f1a9c0e5b7d2e48",
}


class AuditDigest(Struct):
    """The signed head of the account's audit hash chain (see the README's Audit section)."""

    length: int
    head_hash: str
    signed_at: str
    signature: str
    public_key_id: str


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
        except (ValueError, OverflowError):  # past year 9999 once moved to UTC
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

    @get(
        "/digest",
        opt={"scope": "audit:read", "response_example": DIGEST_EXAMPLE},
        summary="The signed head of the account's audit hash chain",
        description="Keep digests: `experi audit verify --digest FILE` proves later that no "
        "entry up to `length` was altered, removed or truncated. ",
    )
    async def digest(self, request: Request[Any, Any, Any]) -> AuditDigest:
        account_id = str(principal(request).account_id)
        return await run(signed_head, services(request), account_id)


def signed_head(s: Services, account_id: str) -> AuditDigest:
    s.projector.catch_up()  # the digest covers every change that has had a response
    length, head_hash = audit_chain.head(s.db, account_id)
    signed = s.signer.sign(account_id, length, head_hash, timestamp(s.app.clock.now()))
    return AuditDigest(
        length=signed.length,
        head_hash=signed.head_hash,
        signed_at=signed.signed_at,
        signature=signed.signature,
        public_key_id=signed.public_key_id,
    )
