"""Webhook endpoints: create (the secret is shown once), list, get, change, delete; their
delivery attempts; and replays."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody
from msgspec import UNSET

from api import render
from api.context import AppServices, Caller, EventMeta, run
from api.openapi import POSTED, WITH_BODY, contract
from api.queries import PageQuery, provide
from api.responses import ExperiResponse
from api.webhook_schemas import (
    REPLAY_EXAMPLE,
    WEBHOOK_EXAMPLE,
    DeliveryList,
    DeliveryOut,
    ReplayOut,
    ReplayRequest,
    ReplayStartOut,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)
from application.webhooks import NewEndpoint
from domain.errors import InvalidInput
from domain.webhook_endpoint import WebhookEndpoint

NewWebhookEndpoint = Annotated[
    WebhookEndpointCreate, Body(examples=[Example(value=WEBHOOK_EXAMPLE)])
]
Replay = Annotated[ReplayRequest, Body(examples=[Example(value=REPLAY_EXAMPLE)])]


def endpoint_out(e: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut(**_fields(e))


def _fields(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "url": e.url,
        "enabled_events": list(e.enabled_events),
        "description": e.description,
        "status": e.status,
        "disabled_reason": e.disabled_reason,
        "created_at": render.timestamp(e.created_at),
        "updated_at": render.timestamp(e.updated_at),
    }


def delivery_out(row: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=str(row["id"]),
        event_id=str(row["event_id"]),
        event_type=str(row["event_type"]),
        attempted_at=str(row["attempted_at"]),
        status_code=row["status_code"],
        latency_ms=int(row["latency_ms"]),
        error=row["error"],
        response_body=row["response_body"],
        next_attempt_at=row["next_attempt_at"],
    )


def _changes(data: WebhookEndpointUpdate | WebhookEndpointCreate) -> dict[str, Any]:
    changes = data.present()
    if "enabled_events" in changes:
        changes["enabled_events"] = [str(name) for name in changes["enabled_events"]]
    return changes


class WebhookEndpointController(Controller):
    path = "/webhook-endpoints"
    tags = ["Webhooks"]

    @post(
        "/",
        status_code=201,
        summary="Create a webhook endpoint",
        description="The response carries the endpoint's signing `secret`: it is shown this "
        "once and never again. Deliveries start with the first event after the endpoint "
        "was created.",
        **contract("webhooks:write", *WITH_BODY, *POSTED),
    )
    async def create_webhook_endpoint(
        self, data: NewWebhookEndpoint, services: AppServices, principal: Caller, meta: EventMeta
    ) -> Response[WebhookEndpointCreated]:
        fields = _changes(data)
        endpoint = await run(
            services.app.create_webhook_endpoint,
            principal.account_id,
            NewEndpoint(**fields),
            meta,
        )
        return ExperiResponse(
            WebhookEndpointCreated(**_fields(endpoint), secret=endpoint.secret),
            status_code=201,
            headers={"Location": f"/api/v1/webhook-endpoints/{endpoint.id}"},
        )

    @get(
        "/",
        summary="List webhook endpoints, newest first",
        dependencies=provide(PageQuery),
        **contract("webhooks:read", 400),
    )
    async def list_webhook_endpoints(
        self, params: NamedDependency[PageQuery], services: AppServices, principal: Caller
    ) -> WebhookEndpointList:
        page = await run(
            services.webhooks.list_endpoints, principal.account_id, params.limit, params.after
        )
        return WebhookEndpointList(
            data=[endpoint_out(e) for e in page.items],
            pagination=render.pagination(page, params.limit),
        )

    @get(
        "/{endpoint_id:uuid}",
        summary="Get a webhook endpoint (without its secret)",
        **contract("webhooks:read", 404),
    )
    async def get_webhook_endpoint(
        self, endpoint_id: FromPath[UUID], services: AppServices, principal: Caller
    ) -> WebhookEndpointOut:
        endpoint = await run(services.app.get_webhook_endpoint, principal.account_id, endpoint_id)
        return endpoint_out(endpoint)

    @patch(
        "/{endpoint_id:uuid}",
        summary="Update a webhook endpoint (only the fields sent)",
        **contract("webhooks:write", 404, *WITH_BODY),
    )
    async def update_webhook_endpoint(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[WebhookEndpointUpdate],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> WebhookEndpointOut:
        endpoint = await run(
            services.app.update_webhook_endpoint,
            principal.account_id,
            endpoint_id,
            _changes(data),
            meta,
        )
        return endpoint_out(endpoint)

    @delete(
        "/{endpoint_id:uuid}",
        status_code=204,
        summary="Delete a webhook endpoint",
        description="Deliveries stop; the endpoint and its deliveries are then not found.",
        **contract("webhooks:write", 404),
    )
    async def delete_webhook_endpoint(
        self, endpoint_id: FromPath[UUID], services: AppServices, principal: Caller, meta: EventMeta
    ) -> None:
        await run(services.app.delete_webhook_endpoint, principal.account_id, endpoint_id, meta)

    @get(
        "/{endpoint_id:uuid}/deliveries",
        summary="An endpoint's delivery attempts, newest first",
        dependencies=provide(PageQuery),
        **contract("webhooks:read", 404),
    )
    async def list_webhook_deliveries(
        self,
        endpoint_id: FromPath[UUID],
        params: NamedDependency[PageQuery],
        services: AppServices,
        principal: Caller,
    ) -> DeliveryList:
        await run(services.app.get_webhook_endpoint, principal.account_id, endpoint_id)
        page = await run(services.webhooks.deliveries, endpoint_id, params.limit, params.after)
        return DeliveryList(
            data=[delivery_out(row) for row in page.items],
            pagination=render.pagination(page, params.limit),
        )

    @post(
        "/{endpoint_id:uuid}/replay",
        status_code=202,
        summary="Deliver past events again",
        description="Moves the endpoint's cursor back: every matching event from "
        "`fromEventId` (or from the first event created at or after `from`) on is delivered "
        "again, in order, with its original `webhook-id`. An unknown `fromEventId` (or "
        "another account's) is a 404.",
        **contract("webhooks:write", 404, *WITH_BODY, *POSTED),
    )
    async def replay_webhook_endpoint(
        self,
        endpoint_id: FromPath[UUID],
        data: Replay,
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> Response[ReplayOut]:
        sent = [name for name in ("fromEventId", "from") if _given(data, name)]
        if len(sent) != 1:  # a rule the schema does not state
            message = "Send exactly one of fromEventId and from"
            raise InvalidInput("Validation failed", {n: [message] for n in sent or ["fromEventId"]})
        start = await run(
            services.app.replay_webhook_endpoint,
            principal.account_id,
            endpoint_id,
            None if data.from_event_id is UNSET else data.from_event_id,
            None if data.since is UNSET else data.since,
            meta,
        )
        replay_from = (
            None
            if start is None
            else ReplayStartOut(event_id=start.id, type=start.type, created_at=start.created_at)
        )
        return ExperiResponse(
            ReplayOut(endpoint_id=str(endpoint_id), replay_from=replay_from), status_code=202
        )


def _given(data: ReplayRequest, name: str) -> bool:
    value = data.from_event_id if name == "fromEventId" else data.since
    return value is not UNSET
