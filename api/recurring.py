"""Recurring invoices: templates that become one invoice per occurrence."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath

from api import render
from api.context import empty_body, json_body, meta, page_params, principal, run, services
from api.invoice_input import read_line
from api.requests import RECURRING_EXAMPLE, RecurringCreate, RecurringUpdate
from api.responses import ExperiResponse
from api.schemas import RecurringList, RecurringOut, TemplateLineOut
from api.validation import MISSING, Reader, parse_uuid, present
from application.recurring import NewRecurring
from domain.errors import NotFound
from domain.recurring import RecurringInvoice
from domain.schedule import FREQUENCIES

FIELDS = (
    "clientId", "frequency", "interval", "startDate", "endDate", "maxOccurrences", "currency",
    "taxName", "taxRate", "lineItems", "notes", "paymentTermsDays", "autoSend",
)  # fmt: skip


def start_window(today: date) -> tuple[date, date]:
    """The startDate a template may have: the last 366 days and the next 10 years."""
    try:
        latest = today.replace(year=today.year + 10)
    except ValueError:  # 29 February ten years on does not exist
        latest = today.replace(year=today.year + 10, day=28)
    return today - timedelta(days=366), latest


def read_template(data: Any, *, partial: bool, today: date) -> dict[str, Any]:
    r = Reader(data)
    r.only(FIELDS)
    lines = r.items("lineItems", read_line, required=not partial, lo=1, hi=500)
    max_occ = r.data.get("maxOccurrences", MISSING)
    earliest, latest = start_window(today)
    interval = r.integer("interval", lo=1, hi=365)
    if not partial and "interval" not in r.data:
        interval = 1  # the contract's default; a null interval is refused, not defaulted
    values = {
        "client_id": r.uuid("clientId", required=not partial),
        "frequency": r.choice("frequency", FREQUENCIES, required=not partial),
        "interval": interval,
        "start_date": r.date("startDate", required=not partial, earliest=earliest, latest=latest),
        "end_date": r.date("endDate", nullable=True),
        "max_occurrences": None
        if max_occ is None
        else r.integer("maxOccurrences", lo=1, hi=100_000),
        "currency": r.currency("currency"),
        "tax_name": r.string("taxName", max_len=50),
        "tax_rate": r.decimal("taxRate", minimum=Decimal(0), maximum=Decimal(100)),
        "line_items": tuple(lines) if lines is not MISSING else MISSING,
        "notes": r.string("notes", max_len=5000),
        "payment_terms_days": r.integer("paymentTermsDays", lo=0, hi=365),
        "auto_send": r.boolean("autoSend"),
    }
    r.check()
    return present(values)


def parse_template_id(raw: str) -> UUID:
    parsed = parse_uuid(raw)
    if parsed is None:
        raise NotFound("Recurring invoice not found")
    return parsed


def template_out(t: RecurringInvoice) -> RecurringOut:
    upcoming = t.next_run_date
    return RecurringOut(
        id=str(t.id),
        client_id=str(t.client_id),
        frequency=t.frequency,
        interval=t.interval,
        start_date=render.day(t.start_date),
        end_date=render.day(t.end_date) if t.end_date else None,
        max_occurrences=t.max_occurrences,
        currency=t.currency,
        tax_name=t.tax_name,
        tax_rate=t.tax_rate,
        line_items=[
            TemplateLineOut(description=x.description, quantity=x.quantity, unit_price=x.unit_price)
            for x in t.line_items
        ],
        notes=t.notes,
        payment_terms_days=t.payment_terms_days,
        auto_send=t.auto_send,
        status=t.status,
        next_run_date=render.day(upcoming) if upcoming else None,
        occurrences_generated=t.occurrences_generated,
        last_invoice_id=str(t.last_invoice_id) if t.last_invoice_id else None,
        created_at=render.timestamp(t.created_at),
        updated_at=render.timestamp(t.updated_at),
    )


class RecurringController(Controller):
    path = "/recurring-invoices"
    tags = ["Recurring invoices"]

    @post(
        "/",
        opt={"scope": "recurring:write", "body": RecurringCreate, "example": RECURRING_EXAMPLE},
        status_code=201,
        summary="Create a recurring invoice",
    )
    async def create(self, request: Request[Any, Any, Any]) -> Response[RecurringOut]:
        app = services(request).app
        today = app.clock.now().date()
        fields = read_template(await json_body(request), partial=False, today=today)
        template = await run(
            app.create_recurring,
            principal(request).account_id,
            NewRecurring(**fields),
            meta(request),
        )
        return ExperiResponse(
            template_out(template),
            status_code=201,
            headers={"Location": f"/api/v1/recurring-invoices/{template.id}"},
        )

    @get("/", opt={"scope": "recurring:read"}, summary="List recurring invoices")
    async def list_templates(self, request: Request[Any, Any, Any]) -> RecurringList:
        limit, cursor = page_params(request)
        queries = services(request).queries
        page = await run(queries.list_recurring, principal(request).account_id, limit, cursor)
        return RecurringList(
            data=[template_out(t) for t in page.items], pagination=render.pagination(page, limit)
        )

    @get("/{id:str}", opt={"scope": "recurring:read"}, summary="Get a recurring invoice")
    async def get_one(self, request: Request[Any, Any, Any], id: FromPath[str]) -> RecurringOut:
        app = services(request).app
        template = await run(
            app.get_recurring, principal(request).account_id, parse_template_id(id)
        )
        return template_out(template)

    @put("/{id:str}", opt={"scope": "recurring:write", "body": RecurringUpdate}, summary="Update")
    async def replace(self, request: Request[Any, Any, Any], id: FromPath[str]) -> RecurringOut:
        return await self._update(request, id)

    @patch("/{id:str}", opt={"scope": "recurring:write", "body": RecurringUpdate}, summary="Update")
    async def update(self, request: Request[Any, Any, Any], id: FromPath[str]) -> RecurringOut:
        return await self._update(request, id)

    async def _update(self, request: Request[Any, Any, Any], raw_id: str) -> RecurringOut:
        ident = parse_template_id(raw_id)
        app = services(request).app
        today = app.clock.now().date()
        changes = read_template(await json_body(request), partial=True, today=today)
        template = await run(
            app.update_recurring, principal(request).account_id, ident, changes, meta(request)
        )
        return template_out(template)

    @post("/{id:str}/pause", opt={"scope": "recurring:write"}, status_code=200, summary="Pause")
    async def pause(self, request: Request[Any, Any, Any], id: FromPath[str]) -> RecurringOut:
        return await self._status(request, id, "pause")

    @post("/{id:str}/resume", opt={"scope": "recurring:write"}, status_code=200, summary="Resume")
    async def resume(self, request: Request[Any, Any, Any], id: FromPath[str]) -> RecurringOut:
        return await self._status(request, id, "resume")

    @post("/{id:str}/end", opt={"scope": "recurring:write"}, status_code=200, summary="End")
    async def end(self, request: Request[Any, Any, Any], id: FromPath[str]) -> RecurringOut:
        return await self._status(request, id, "end")

    async def _status(
        self, request: Request[Any, Any, Any], raw_id: str, action: str
    ) -> RecurringOut:
        ident = parse_template_id(raw_id)
        await empty_body(request)
        app = services(request).app
        template = await run(
            app.change_recurring_status, principal(request).account_id, ident, action, meta(request)
        )
        return template_out(template)
