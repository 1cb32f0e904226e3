"""Invoices: create, list, outstanding, get, edit a DRAFT, record a payment, void."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath

from api import render
from api.audit import audit_list
from api.context import empty_body, json_body, meta, page_params, principal, run, services
from api.invoice_input import read_filter, read_invoice_changes, read_new_invoice, read_payment
from api.requests import (
    INVOICE_EXAMPLE,
    INVOICE_RESPONSE_EXAMPLE,
    PAYMENT_EXAMPLE,
    InvoiceCreate,
    InvoiceUpdate,
    PaymentCreate,
)
from api.responses import ExperiResponse
from api.schemas import AuditList, InvoiceList, InvoiceOut, OutstandingList, OutstandingSummary
from api.validation import parse_uuid
from domain.errors import NotFound
from projections.audit_log import AuditFilter


def parse_invoice_id(raw: str) -> UUID:
    parsed = parse_uuid(raw)
    if parsed is None:
        raise NotFound("Invoice not found")
    return parsed


class InvoiceController(Controller):
    path = "/invoices"
    tags = ["Invoices"]

    @post(
        "/",
        opt={
            "scope": "invoices:write",
            "body": InvoiceCreate,
            "example": INVOICE_EXAMPLE,
            "response_example": INVOICE_RESPONSE_EXAMPLE,
        },
        status_code=201,
        summary="Create an invoice",
    )
    async def create(self, request: Request[Any, Any, Any]) -> Response[InvoiceOut]:
        new = read_new_invoice(await json_body(request))
        s = services(request)
        invoice = await run(s.app.create_invoice, principal(request).account_id, new, meta(request))
        return ExperiResponse(
            render.invoice(invoice, s.app.clock.now().date()),
            status_code=201,
            headers={"Location": f"/api/v1/invoices/{invoice.id}"},
        )

    @get("/", opt={"scope": "invoices:read"}, summary="List invoices, newest first")
    async def list_invoices(self, request: Request[Any, Any, Any]) -> InvoiceList:
        s = services(request)
        today = s.app.clock.now().date()
        limit, cursor = page_params(request)
        where = read_filter(request, today)
        page = await run(
            s.queries.list_invoices, principal(request).account_id, where, limit, cursor
        )
        return InvoiceList(
            data=[render.invoice(i, today) for i in page.items],
            pagination=render.pagination(page, limit),
        )

    @get("/outstanding", opt={"scope": "invoices:read"}, summary="Outstanding invoices")
    async def outstanding(self, request: Request[Any, Any, Any]) -> OutstandingList:
        s = services(request)
        today = s.app.clock.now().date()
        limit, cursor = page_params(request)
        account_id = principal(request).account_id
        page = await run(s.queries.list_outstanding, account_id, limit, cursor)
        count, totals = await run(s.queries.outstanding_summary, account_id)
        return OutstandingList(
            data=[render.invoice(i, today) for i in page.items],
            pagination=render.pagination(page, limit),
            summary=OutstandingSummary(count=count, total_due=totals),
        )

    @get(
        "/{id:str}",
        opt={"scope": "invoices:read", "response_example": INVOICE_RESPONSE_EXAMPLE},
        summary="Get an invoice",
    )
    async def get_one(self, request: Request[Any, Any, Any], id: FromPath[str]) -> InvoiceOut:
        s = services(request)
        invoice = await run(s.app.get_invoice, principal(request).account_id, parse_invoice_id(id))
        return render.invoice(invoice, s.app.clock.now().date())

    @get("/{id:str}/history", opt={"scope": "invoices:read"}, summary="The invoice's audit entries")
    async def history(self, request: Request[Any, Any, Any], id: FromPath[str]) -> AuditList:
        ident = parse_invoice_id(id)
        s = services(request)
        account_id = principal(request).account_id
        await run(s.app.get_invoice, account_id, ident)  # 404 unless it is this account's
        limit, cursor = page_params(request)
        where = AuditFilter(entity_id=str(ident))
        page = await run(s.queries.audit_log, account_id, where, limit, cursor)
        return audit_list(page, limit)

    @put(
        "/{id:str}",
        opt={"scope": "invoices:write", "body": InvoiceUpdate},
        summary="Edit a DRAFT invoice",
    )
    async def replace(self, request: Request[Any, Any, Any], id: FromPath[str]) -> InvoiceOut:
        return await self._update(request, id)

    @patch(
        "/{id:str}",
        opt={"scope": "invoices:write", "body": InvoiceUpdate},
        summary="Edit a DRAFT invoice",
    )
    async def update(self, request: Request[Any, Any, Any], id: FromPath[str]) -> InvoiceOut:
        return await self._update(request, id)

    async def _update(self, request: Request[Any, Any, Any], raw_id: str) -> InvoiceOut:
        ident = parse_invoice_id(raw_id)
        changes = read_invoice_changes(await json_body(request))
        s = services(request)
        invoice = await run(
            s.app.update_invoice, principal(request).account_id, ident, changes, meta(request)
        )
        return render.invoice(invoice, s.app.clock.now().date())

    @post(
        "/{id:str}/paid",
        opt={
            "scope": "payments:write",
            "body": PaymentCreate,
            "optional_body": True,
            "example": PAYMENT_EXAMPLE,
        },
        status_code=200,
        summary="Record a payment",
    )
    async def paid(self, request: Request[Any, Any, Any], id: FromPath[str]) -> InvoiceOut:
        ident = parse_invoice_id(id)
        payment = read_payment(await json_body(request, optional=True))
        s = services(request)
        invoice, _ = await run(
            s.app.record_payment,
            principal(request).account_id,
            ident,
            **payment,
            meta=meta(request),
        )
        return render.invoice(invoice, s.app.clock.now().date())

    @post(
        "/{id:str}/void",
        opt={"scope": "invoices:write"},
        status_code=200,
        summary="Void an invoice",
    )
    async def void(self, request: Request[Any, Any, Any], id: FromPath[str]) -> InvoiceOut:
        ident = parse_invoice_id(id)
        await empty_body(request)
        s = services(request)
        invoice = await run(s.app.void_invoice, principal(request).account_id, ident, meta(request))
        return render.invoice(invoice, s.app.clock.now().date())
