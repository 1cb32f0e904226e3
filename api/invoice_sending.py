"""Sending an invoice by email, and its PDF."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from api import render
from api.context import json_body, meta, principal, run, services
from api.invoices import parse_invoice_id
from api.requests import SEND_EXAMPLE, SendRequest
from api.schemas import InvoiceOut
from api.validation import MISSING, Reader

HEADER_BREAKS = ("\r", "\n", "\x00")


def read_send(data: Any) -> dict[str, Any]:
    r = Reader(data)
    r.only(("toEmail", "subject", "body"))
    raw_subject = r.data.get("subject")
    if isinstance(raw_subject, str) and any(ch in raw_subject for ch in HEADER_BREAKS):
        r.fail("subject", "Must be one line (no CR or LF)")
        subject = MISSING
    else:
        subject = r.string("subject", max_len=200)
    raw_to = r.data.get("toEmail")
    if isinstance(raw_to, str) and any(ch in raw_to for ch in (*HEADER_BREAKS, ",", ";")):
        r.fail("toEmail", "Must be one email address")
        to_email = MISSING
    else:
        to_email = r.email("toEmail")
    body = r.string("body", max_len=10000)
    r.check()
    return {
        "to_email": to_email or None,
        "subject": subject or None,
        "body": body or None,
    }


class InvoiceSendingController(Controller):
    path = "/invoices"
    tags = ["Invoices"]

    @post(
        "/{id:str}/send",
        opt={
            "scope": "invoices:send",
            "body": SendRequest,
            "optional_body": True,
            "example": SEND_EXAMPLE,
        },
        status_code=200,
        summary="Email the invoice with its PDF",
    )
    async def send(self, request: Request[Any, Any, Any], id: FromPath[str]) -> InvoiceOut:
        ident = parse_invoice_id(id)
        fields = read_send(await json_body(request, optional=True))
        s = services(request)
        invoice = await run(
            s.app.send_invoice, principal(request).account_id, ident, **fields, meta=meta(request)
        )
        s.outbox.wake()
        return render.invoice(invoice, s.app.clock.now().date())

    @get(
        "/{id:str}/pdf",
        opt={"scope": "invoices:read"},
        summary="The invoice as a PDF",
        media_type="application/pdf",
    )
    async def pdf(self, request: Request[Any, Any, Any], id: FromPath[str]) -> Response[bytes]:
        ident = parse_invoice_id(id)
        s = services(request)
        invoice, document = await run(s.app.render_pdf, principal(request).account_id, ident)
        return Response(
            document,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="Invoice-{invoice.number}.pdf"'},
        )
