"""The audit log: every change, read from the event stream, oldest first; and its signed head."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import ParameterKwarg

from api import render
from api.context import AppServices, Caller, run
from api.examples import DIGEST_EXAMPLE
from api.openapi import contract
from api.queries import AuditQuery, provide
from api.schemas import AuditDigest, AuditEntry, AuditList
from application.ports import Page
from infrastructure.bootstrap import Services
from projections import audit_chain
from projections.stored_time import timestamp

Digest = Annotated[AuditDigest, ParameterKwarg(examples=[Example(value=DIGEST_EXAMPLE)])]


def audit_list(page: Page, limit: int, resource: str | None = None) -> AuditList:
    """Entries as the API returns them; in a resource's history (`resource` is its path)
    each links to the resource as it stood right after the entry."""
    entries = [msgspec.convert(item, AuditEntry, from_attributes=False) for item in page.items]
    if resource is not None:
        for entry in entries:
            entry.as_of_url = f"{resource}?asOf={entry.occurred_at}"
    return AuditList(data=entries, pagination=render.pagination(page, limit))


class AuditController(Controller):
    path = "/audit-log"
    tags = ["Audit"]

    @get(
        "/",
        summary="The audit log, oldest first",
        dependencies=provide(AuditQuery),
        **contract("audit:read", 400),
    )
    async def list_audit_entries(
        self, params: NamedDependency[AuditQuery], services: AppServices, principal: Caller
    ) -> AuditList:
        page = await run(
            services.queries.audit_log,
            principal.account_id,
            params.filter(),
            params.limit,
            params.after,
        )
        return audit_list(page, params.limit)

    @get(
        "/digest",
        summary="The signed head of the account's audit hash chain",
        description="Keep digests: `experi audit verify --digest FILE` proves later that no "
        "entry up to `length` was altered, removed or truncated.",
        **contract("audit:read"),
    )
    async def audit_digest(self, services: AppServices, principal: Caller) -> Digest:
        return await run(signed_head, services, str(principal.account_id))


def signed_head(s: Services, account_id: str) -> AuditDigest:
    s.projector.settle()  # the digest covers every change that has had a response
    length, head_hash = audit_chain.head(s.db, account_id)
    signed = s.signer.sign(account_id, length, head_hash, timestamp(s.app.clock.now()))
    return AuditDigest(
        length=signed.length,
        head_hash=signed.head_hash,
        signed_at=signed.signed_at,
        signature=signed.signature,
        public_key_id=signed.public_key_id,
    )
