"""Clients: create, list with search, get, and partial update (PUT and PATCH)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath

from api import render
from api.context import json_body, meta, page_params, principal, run, services
from api.requests import CLIENT_EXAMPLE, ClientCreate, ClientUpdate
from api.responses import ExperiResponse
from api.schemas import ClientList, ClientOut
from api.validation import Reader, parse_uuid, present
from domain.errors import NotFound
from projections.queries import search_term

# API name -> (domain name, maximum length)
FIELDS = {
    "name": ("name", 200),
    "company": ("company", 200),
    "email": ("email", 254),
    "phone": ("phone", 50),
    "addressLine1": ("address_line1", 200),
    "addressLine2": ("address_line2", 200),
    "city": ("city", 100),
    "county": ("county", 100),
    "postcode": ("postcode", 20),
    "country": ("country", 100),
    "taxNumber": ("tax_number", 50),
    "notes": ("notes", 5000),
}


def read_client(data: Any, *, partial: bool) -> dict[str, Any]:
    """Validated client fields in domain names; on create `name` is required."""
    r = Reader(data)
    r.only(FIELDS)
    values: dict[str, Any] = {}
    for api_name, (domain_name, max_len) in FIELDS.items():
        if api_name == "name":
            values[domain_name] = r.string(
                "name", required=not partial, nullable=False, max_len=200
            )
        elif api_name == "email":
            values[domain_name] = r.email("email")
        else:
            values[domain_name] = r.string(api_name, max_len=max_len)
    r.check()
    return present(values)


def parse_client_id(raw: str) -> Any:
    parsed = parse_uuid(raw)
    if parsed is None:
        raise NotFound("Client not found")
    return parsed


class ClientController(Controller):
    path = "/clients"
    tags = ["Clients"]

    @post(
        "/",
        opt={"scope": "clients:write", "body": ClientCreate, "example": CLIENT_EXAMPLE},
        status_code=201,
        summary="Create a client",
    )
    async def create(self, request: Request[Any, Any, Any]) -> Response[ClientOut]:
        details = read_client(await json_body(request), partial=False)
        app = services(request).app
        client = await run(app.create_client, principal(request).account_id, details, meta(request))
        return ExperiResponse(
            render.client(client),
            status_code=201,
            headers={"Location": f"/api/v1/clients/{client.id}"},
        )

    @get("/", opt={"scope": "clients:read"}, summary="List clients")
    async def list_clients(self, request: Request[Any, Any, Any]) -> ClientList:
        limit, cursor = page_params(request)
        search = search_term(request.query_params.get("search"))
        queries = services(request).queries
        page = await run(queries.list_clients, principal(request).account_id, search, limit, cursor)
        return ClientList(
            data=[render.client(c) for c in page.items],
            pagination=render.pagination(page, limit),
        )

    @get("/{id:str}", opt={"scope": "clients:read"}, summary="Get a client")
    async def get_one(self, request: Request[Any, Any, Any], id: FromPath[str]) -> ClientOut:
        app = services(request).app
        client = await run(app.get_client, principal(request).account_id, parse_client_id(id))
        return render.client(client)

    @put(
        "/{id:str}", opt={"scope": "clients:write", "body": ClientUpdate}, summary="Update a client"
    )
    async def replace(self, request: Request[Any, Any, Any], id: FromPath[str]) -> ClientOut:
        return await self._update(request, id)

    @patch(
        "/{id:str}", opt={"scope": "clients:write", "body": ClientUpdate}, summary="Update a client"
    )
    async def update(self, request: Request[Any, Any, Any], id: FromPath[str]) -> ClientOut:
        return await self._update(request, id)

    async def _update(self, request: Request[Any, Any, Any], raw_id: str) -> ClientOut:
        ident = parse_client_id(raw_id)
        changes = read_client(await json_body(request), partial=True)
        app = services(request).app
        client = await run(
            app.update_client, principal(request).account_id, ident, changes, meta(request)
        )
        return render.client(client)
