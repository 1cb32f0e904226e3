"""Recurring invoices: templates that become one invoice per occurrence."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post, route
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody

from api import render
from api.context import AppServices, Caller, EventMeta, run
from api.examples import RECURRING_EXAMPLE
from api.invoices import invoice_changes
from api.openapi import POSTED, WITH_BODY, contract
from api.queries import PageQuery, provide
from api.requests import NoFields, RecurringCreate, RecurringUpdate
from api.responses import ExperiResponse, listing, stored
from api.schemas import RecurringList, RecurringOut
from application.recurring import NewRecurring
from domain.errors import InvalidInput

NewTemplate = Annotated[RecurringCreate, Body(examples=[Example(value=RECURRING_EXAMPLE)])]


def check_start(changes: dict[str, Any], today: date) -> None:
    """A template starts within the last 366 days and the next 10 years (a rule that
    depends on today, so no schema can state it)."""
    start = changes.get("start_date")
    if start is None:
        return
    try:
        latest = today.replace(year=today.year + 10)
    except ValueError:  # 29 February ten years on does not exist
        latest = today.replace(year=today.year + 10, day=28)
    earliest = today - timedelta(days=366)
    if not earliest <= start <= latest:
        raise InvalidInput.field("startDate", f"Must be between {earliest} and {latest}")


def status_route(action: str, summary: str) -> HTTPRouteHandler:
    """POST /{id}/pause, /resume or /end: one declaration for the three, each its own
    operation (named `<action>_recurring_invoice`) in the OpenAPI document."""

    async def change_status(
        self: Controller,
        template_id: FromPath[UUID],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
        data: JSONBody[NoFields | None] = None,
    ) -> RecurringOut:
        template = await run(
            services.app.change_recurring_status, principal.account_id, template_id, action, meta
        )
        return render.recurring(template)

    change_status.__name__ = change_status.__qualname__ = f"{action}_recurring_invoice"
    return post(
        f"/{{template_id:uuid}}/{action}",
        status_code=200,
        summary=summary,
        **contract("recurring:write", 404, 409, *WITH_BODY, *POSTED),
    )(change_status)


class RecurringController(Controller):
    path = "/recurring-invoices"
    tags = ["Recurring invoices"]

    @post(
        "/",
        status_code=201,
        summary="Create a recurring invoice",
        **contract("recurring:write", *WITH_BODY, *POSTED),
    )
    async def create_recurring_invoice(
        self,
        data: NewTemplate,
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> Response[RecurringOut]:
        app = services.app
        fields = invoice_changes(data)
        check_start(fields, app.clock.now().date())
        fields.setdefault("tax_rate", Decimal(0))
        template = await run(
            app.create_recurring, principal.account_id, NewRecurring(**fields), meta
        )
        return ExperiResponse(
            render.recurring(template),
            status_code=201,
            headers={"Location": f"/api/v1/recurring-invoices/{template.id}"},
        )

    @get(
        "/",
        summary="List recurring invoices",
        dependencies=provide(PageQuery),
        **contract("recurring:read", 400),
    )
    async def list_recurring_invoices(
        self, params: NamedDependency[PageQuery], services: AppServices, principal: Caller
    ) -> Response[RecurringList]:
        page = await run(
            services.queries.list_recurring, principal.account_id, params.limit, params.after
        )
        return listing(page.items, render.pagination(page, params.limit))

    @get(
        "/{template_id:uuid}",
        summary="Get a recurring invoice",
        **contract("recurring:read", 404),
    )
    async def get_recurring_invoice(
        self, template_id: FromPath[UUID], services: AppServices, principal: Caller
    ) -> Response[RecurringOut]:
        return stored(
            await services.queries.recurring_invoice.read(principal.account_id, template_id)
        )

    @route(
        http_method=["PUT", "PATCH"],
        path="/{template_id:uuid}",
        summary="Update a recurring invoice (only the fields sent)",
        **contract("recurring:write", 404, 409, *WITH_BODY),
    )
    async def update_recurring_invoice(
        self,
        template_id: FromPath[UUID],
        data: JSONBody[RecurringUpdate],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> RecurringOut:
        app = services.app
        changes = invoice_changes(data)
        check_start(changes, app.clock.now().date())
        template = await run(app.update_recurring, principal.account_id, template_id, changes, meta)
        return render.recurring(template)

    pause_recurring_invoice = status_route("pause", "Pause: no invoices until resumed")
    resume_recurring_invoice = status_route("resume", "Resume a paused recurring invoice")
    end_recurring_invoice = status_route("end", "End: no more invoices, for good")
