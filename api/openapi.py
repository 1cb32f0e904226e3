"""Completes the generated OpenAPI document: request bodies, examples, scopes, errors."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from api import requests as bodies
from api.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
ERROR_TEXT = {
    400: "Validation failed: `details` names each bad field by its path",
    401: "Missing, invalid or revoked API key (`WWW-Authenticate: Bearer`)",
    403: "The key lacks the scope named in the message, or the account lacks PRO or API access",
    404: "Not found (also another account's objects)",
    409: "The object's state does not allow this, or a request with the same "
    "Idempotency-Key is still in progress",
    413: "Request body over 1 MiB",
    415: "The body is not JSON",
    422: "The Idempotency-Key was used with a different request",
    429: "Rate limited: wait `Retry-After` seconds",
    500: "Internal server error (`details.requestId`)",
}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer"}}


RATE_HEADERS = {
    "X-RateLimit-Limit": _header("Requests allowed per minute for this kind (read or write)"),
    "X-RateLimit-Remaining": _header("Requests left in the current window"),
    "X-RateLimit-Reset": _header("Unix time (s) when the allowance is whole again"),
}
RETRY_AFTER = {"Retry-After": _header("Seconds to wait before the next request succeeds")}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the same key with the same request replays the first "
    "response (`Idempotent-Replayed: true`) for 48 hours; scoped to the API key.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def complete(doc: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """Add what the handlers cannot say through their signatures."""
    doc = copy.deepcopy(doc)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    structs = [
        ErrorOut,
        bodies.ClientCreate,
        bodies.ClientUpdate,
        bodies.InvoiceCreate,
        bodies.InvoiceUpdate,
        bodies.PaymentCreate,
        bodies.SendRequest,
        bodies.AccountUpdate,
        bodies.RecurringCreate,
        bodies.RecurringUpdate,
    ]
    _, components = msgspec.json.schema_components(
        structs, ref_template="#/components/schemas/{name}"
    )
    schemas.update(components)
    opts = _handler_opts(app)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            opt = opts.get((path, method.upper()), {})
            _complete_operation(path, method, operation, opt)
    return doc


def _handler_opts(app: Litestar) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                path = route.path_format or "/"
                found[(path, method)] = dict(handler.opt)
    return found


def _complete_operation(
    path: str, method: str, operation: dict[str, Any], opt: dict[str, Any]
) -> None:
    responses = operation.setdefault("responses", {})
    body = opt.get("body")
    if body is not None:
        content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}
        if opt.get("example") is not None:
            content["example"] = opt["example"]
        operation["requestBody"] = {
            "required": not opt.get("optional_body", False),
            "content": {"application/json": content},
        }
    if opt.get("response_example") is not None:
        for success in ("200", "201"):
            for media in responses.get(success, {}).get("content", {}).values():
                media["example"] = opt["response_example"]
    if not path.startswith("/api/v1"):
        responses.pop("400", None)
        return
    scope = opt.get("scope")
    if scope:
        operation["description"] = (
            operation.get("description") or ""
        ) + f"Requires scope `{scope}`."
        operation["security"] = [{"BearerAuth": []}]
    codes = [401, 403, 500]
    if method in ("post", "put", "patch") or "limit" in str(operation.get("parameters", "")):
        codes.append(400)
    if body is not None:
        codes += [413, 415]
    if "{id}" in path:
        codes.append(404)
    if method != "get" and "/invoices/{id}" in path:
        codes.append(409)
    if method == "post":
        codes += [409, 422]
        operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
    codes.append(429)
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {}).update(RATE_HEADERS)
    for code in sorted(set(codes)):
        entry: dict[str, Any] = {
            "description": ERROR_TEXT[code],
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        if code == 400:
            entry["content"]["application/json"]["example"] = bodies.ERROR_EXAMPLE
        if code == 429:
            entry["headers"] = {**RATE_HEADERS, **RETRY_AFTER}
        responses[str(code)] = entry
    for param in operation.get("parameters", []):
        if param.get("name") == "id" and param.get("in") == "path":
            param["schema"] = {"type": "string", "format": "uuid"}


def completed(request: Request[Any, Any, Any], generated: dict[str, Any]) -> dict[str, Any]:
    """The completed document, computed once per app."""
    state = request.app.state
    if "openapi_document" not in state:
        state["openapi_document"] = complete(generated, request.app)
    return state["openapi_document"]  # type: ignore[no-any-return]


class ContractJsonPlugin(JsonRenderPlugin):
    """Serves /openapi.json: the generated document, completed."""

    def __init__(self) -> None:
        super().__init__(path="/openapi.json")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, completed(request, openapi_schema))


ASSETS = "/docs/assets"


class OfflineSwaggerPlugin(SwaggerRenderPlugin):
    """Serves /docs: Swagger UI from the app's own assets (no CDN), on the same document."""

    def __init__(self) -> None:
        super().__init__(
            path="/docs",
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, completed(request, openapi_schema))
