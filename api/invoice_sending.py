"""Sending an invoice by email, and its PDF."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.openapi.spec import Example, OpenAPIFormat
from litestar.params import Body, FromPath, ParameterKwarg

from api.context import AppServices, Caller, EventMeta, run
from api.documents import invoice_document
from api.examples import SEND_EXAMPLE
from api.openapi import POSTED, WITH_BODY, contract
from api.requests import SendRequest
from api.responses import stored
from api.schemas import InvoiceOut

PdfBytes = Annotated[bytes, ParameterKwarg(format=OpenAPIFormat.BINARY)]
Send = Annotated[SendRequest | None, Body(examples=[Example(value=SEND_EXAMPLE)])]


class InvoiceSendingController(Controller):
    path = "/invoices"
    tags = ["Invoices"]

    @post(
        "/{invoice_id:uuid}/send",
        status_code=200,
        summary="Email the invoice with its PDF",
        description="A DRAFT becomes SENT; sending again re-sends; a VOID invoice is a 409. "
        "Delivery is queued: `emails` shows each one and its status.",
        **contract("invoices:send", 404, 409, *WITH_BODY, *POSTED),
    )
    async def send_invoice(
        self,
        invoice_id: FromPath[UUID],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
        data: Send = None,
    ) -> Response[InvoiceOut]:
        fields = data or SendRequest()
        invoice = await run(
            services.app.send_invoice,
            principal.account_id,
            invoice_id,
            to_email=fields.to_email,
            subject=fields.subject,
            body=fields.body,
            meta=meta,
        )
        services.outbox.wake()
        return stored(invoice_document(invoice, services.app.clock.now().date()))

    @get(
        "/{invoice_id:uuid}/pdf",
        summary="The invoice as a PDF",
        media_type="application/pdf",
        content_media_type="application/pdf",
        response_description="The same document that is emailed",
        **contract("invoices:read", 404),
    )
    async def invoice_pdf(
        self, invoice_id: FromPath[UUID], services: AppServices, principal: Caller
    ) -> Response[PdfBytes]:
        invoice, document = await run(services.app.render_pdf, principal.account_id, invoice_id)
        return Response(
            document,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="Invoice-{invoice.number}.pdf"'},
        )
