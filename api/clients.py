"""Clients: create, list with search, get, partial update (PUT and PATCH), archive."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, post, route
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody

from api import render
from api.context import AppServices, Caller, EventMeta, run
from api.examples import CLIENT_EXAMPLE
from api.openapi import POSTED, WITH_BODY, contract
from api.queries import AsOfQuery, ClientQuery, provide
from api.requests import ClientCreate, ClientUpdate
from api.responses import ExperiResponse, as_of, listing, stored
from api.schemas import ClientList, ClientOut
from projections.stored_time import timestamp

NewClient = Annotated[ClientCreate, Body(examples=[Example(value=CLIENT_EXAMPLE)])]


class ClientController(Controller):
    path = "/clients"
    tags = ["Clients"]

    @post(
        "/",
        status_code=201,
        summary="Create a client",
        **contract("clients:write", *WITH_BODY, *POSTED),
    )
    async def create_client(
        self,
        data: NewClient,
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> Response[ClientOut]:
        app = services.app
        client = await run(app.create_client, principal.account_id, data.present(), meta)
        return ExperiResponse(
            render.client(client),
            status_code=201,
            headers={"Location": f"/api/v1/clients/{client.id}"},
        )

    @get(
        "/",
        summary="List clients, newest first",
        dependencies=provide(ClientQuery),
        **contract("clients:read", 400),
    )
    async def list_clients(
        self, params: NamedDependency[ClientQuery], services: AppServices, principal: Caller
    ) -> Response[ClientList]:
        page = await services.queries.list_clients.read(
            principal.account_id,
            params.search or None,
            params.limit,
            params.after,
            include_archived=params.include_archived,
        )
        return listing(page.items, render.pagination(page, params.limit))

    @get(
        "/{client_id:uuid}",
        summary="Get a client, now or as it stood at a past moment",
        dependencies=provide(AsOfQuery),
        **contract("clients:read", 400, 404),
    )
    async def get_client(
        self,
        client_id: FromPath[UUID],
        params: NamedDependency[AsOfQuery],
        services: AppServices,
        principal: Caller,
    ) -> Response[ClientOut]:
        queries, account_id = services.queries, principal.account_id
        moment = params.moment()
        if moment is None:
            return stored(await queries.client.read(account_id, client_id))
        at = timestamp(moment)
        return as_of(await run(queries.client_as_of, account_id, client_id, at), at)

    @route(
        http_method=["PUT", "PATCH"],
        path="/{client_id:uuid}",
        summary="Update a client (only the fields sent)",
        **contract("clients:write", 404, *WITH_BODY),
    )
    async def update_client(
        self,
        client_id: FromPath[UUID],
        data: JSONBody[ClientUpdate],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> ClientOut:
        client = await run(
            services.app.update_client, principal.account_id, client_id, data.present(), meta
        )
        return render.client(client)

    @delete(
        "/{client_id:uuid}",
        status_code=200,
        summary="Archive a client",
        description="The client leaves `GET /clients` (unless `includeArchived=true`) and "
        "gets `archivedAt`; it can still be read, and its invoices keep it.",
        **contract("clients:write", 404),
    )
    async def archive_client(
        self, client_id: FromPath[UUID], services: AppServices, principal: Caller, meta: EventMeta
    ) -> ClientOut:
        client = await run(services.app.archive_client, principal.account_id, client_id, meta)
        return render.client(client)
