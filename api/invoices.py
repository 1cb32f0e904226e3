"""Invoices: create, list, outstanding, get, edit a DRAFT, record a payment, void."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post, route
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body as BodyParam
from litestar.params import FromPath, JSONBody, ParameterKwarg
from msgspec import UNSET

from api import render
from api.audit import audit_list
from api.context import AppServices, Caller, EventMeta, run
from api.documents import invoice_document
from api.examples import INVOICE_EXAMPLE, INVOICE_RESPONSE_EXAMPLE, PAYMENT_EXAMPLE
from api.openapi import POSTED, WITH_BODY, contract
from api.queries import AsOfQuery, InvoiceQuery, PageQuery, provide
from api.requests import (
    Body,
    InvoiceCreate,
    InvoiceUpdate,
    LineItemIn,
    NoFields,
    PaymentCreate,
)
from api.responses import ExperiResponse, as_of, listing, stored
from api.schemas import AuditList, InvoiceList, InvoiceOut, OutstandingList, OutstandingSummary
from application.invoices import NewInvoice
from domain.values import LineItem
from projections.audit_log import AuditFilter
from projections.stored_time import timestamp

Invoice = Annotated[InvoiceOut, ParameterKwarg(examples=[Example(value=INVOICE_RESPONSE_EXAMPLE)])]
NewInvoiceBody = Annotated[InvoiceCreate, BodyParam(examples=[Example(value=INVOICE_EXAMPLE)])]
Payment = Annotated[PaymentCreate | None, BodyParam(examples=[Example(value=PAYMENT_EXAMPLE)])]


def lines(items: list[LineItemIn]) -> tuple[LineItem, ...]:
    return tuple(LineItem(x.description, x.quantity, x.unit_price) for x in items)


def invoice_changes(data: Body) -> dict[str, Any]:
    """The fields sent, as the domain names them (line items as values, currency as text)."""
    changes = data.present()
    if "line_items" in changes:
        changes["line_items"] = lines(changes["line_items"])
    if "currency" in changes:
        changes["currency"] = str(changes["currency"])
    return changes


class InvoiceController(Controller):
    path = "/invoices"
    tags = ["Invoices"]

    @post(
        "/",
        status_code=201,
        summary="Create an invoice",
        **contract("invoices:write", *WITH_BODY, *POSTED),
    )
    async def create_invoice(
        self,
        data: NewInvoiceBody,
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> Response[Invoice]:
        fields = invoice_changes(data)
        fields.setdefault("tax_rate", Decimal(0))
        new = NewInvoice(**fields)
        invoice = await run(services.app.create_invoice, principal.account_id, new, meta)
        return ExperiResponse(
            invoice_document(invoice, services.app.clock.now().date()),
            status_code=201,
            headers={"Location": f"/api/v1/invoices/{invoice.id}"},
            media_type="application/json",
        )

    @get(
        "/",
        summary="List invoices, newest first",
        dependencies=provide(InvoiceQuery),
        **contract("invoices:read", 400),
    )
    async def list_invoices(
        self, params: NamedDependency[InvoiceQuery], services: AppServices, principal: Caller
    ) -> Response[InvoiceList]:
        today = services.app.clock.now().date()
        where = params.filter(today)
        account_id = principal.account_id
        page = await services.queries.list_invoices.read(
            account_id, where, params.limit, params.after, today
        )
        return listing(page.items, render.pagination(page, params.limit))

    @get(
        "/outstanding",
        summary="Outstanding invoices, oldest due first, with a summary over all of them",
        dependencies=provide(PageQuery),
        **contract("invoices:read", 400),
    )
    async def list_outstanding(
        self, params: NamedDependency[PageQuery], services: AppServices, principal: Caller
    ) -> Response[OutstandingList]:
        today = services.app.clock.now().date()
        account_id = principal.account_id
        page, count, totals = await services.queries.list_outstanding.read(
            account_id, params.limit, params.after, today
        )
        return listing(
            page.items,
            render.pagination(page, params.limit),
            summary=OutstandingSummary(count=count, total_due=totals),
        )

    @get(
        "/{invoice_id:uuid}",
        summary="Get an invoice, now or as it stood at a past moment",
        dependencies=provide(AsOfQuery),
        **contract("invoices:read", 400, 404),
    )
    async def get_invoice(
        self,
        invoice_id: FromPath[UUID],
        params: NamedDependency[AsOfQuery],
        services: AppServices,
        principal: Caller,
    ) -> Response[Invoice]:
        queries, account_id = services.queries, principal.account_id
        moment = params.moment()
        if moment is None:
            today = services.app.clock.now().date()
            return stored(await queries.invoice.read(account_id, invoice_id, today))
        at = timestamp(moment)
        found = await run(queries.invoice_as_of, account_id, invoice_id, at, moment.date())
        return as_of(found, at)

    @get(
        "/{invoice_id:uuid}/history",
        summary="The invoice's audit entries, oldest first",
        dependencies=provide(PageQuery),
        **contract("invoices:read", 400, 404),
    )
    async def invoice_history(
        self,
        invoice_id: FromPath[UUID],
        params: NamedDependency[PageQuery],
        services: AppServices,
        principal: Caller,
    ) -> AuditList:
        account_id = principal.account_id
        await run(services.app.get_invoice, account_id, invoice_id)  # 404 unless theirs
        where = AuditFilter(entity_id=str(invoice_id))
        page = await run(services.queries.audit_log, account_id, where, params.limit, params.after)
        return audit_list(page, params.limit, f"/api/v1/invoices/{invoice_id}")

    @route(
        http_method=["PUT", "PATCH"],
        path="/{invoice_id:uuid}",
        summary="Edit a DRAFT invoice (only the fields sent)",
        **contract("invoices:write", 404, 409, *WITH_BODY),
    )
    async def update_invoice(
        self,
        invoice_id: FromPath[UUID],
        data: JSONBody[InvoiceUpdate],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> Response[InvoiceOut]:
        changes = invoice_changes(data)
        app = services.app
        invoice = await run(app.update_invoice, principal.account_id, invoice_id, changes, meta)
        return stored(invoice_document(invoice, app.clock.now().date()))

    @post(
        "/{invoice_id:uuid}/paid",
        status_code=200,
        summary="Record a payment",
        description="`amount` defaults to the amount due and may not exceed it; a DRAFT is "
        "issued by its first payment; a PAID or VOID invoice refuses payments (409).",
        **contract("payments:write", 404, 409, *WITH_BODY, *POSTED),
    )
    async def record_payment(
        self,
        invoice_id: FromPath[UUID],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
        data: Payment = None,
    ) -> Response[InvoiceOut]:
        payment = data or PaymentCreate()
        invoice, _ = await run(
            services.app.record_payment,
            principal.account_id,
            invoice_id,
            amount=None if payment.amount is UNSET else payment.amount,
            payment_date=None if payment.payment_date is UNSET else payment.payment_date,
            payment_method=payment.payment_method,
            reference=payment.reference,
            meta=meta,
        )
        return stored(invoice_document(invoice, services.app.clock.now().date()))

    @post(
        "/{invoice_id:uuid}/void",
        status_code=200,
        summary="Void an invoice (unless it has payments)",
        **contract("invoices:write", 404, 409, *WITH_BODY, *POSTED),
    )
    async def void_invoice(
        self,
        invoice_id: FromPath[UUID],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
        data: JSONBody[NoFields | None] = None,
    ) -> Response[InvoiceOut]:
        invoice = await run(services.app.void_invoice, principal.account_id, invoice_id, meta)
        return stored(invoice_document(invoice, services.app.clock.now().date()))
