"""How the document is generated: Structs as schemas, declared error responses and headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.openapi.spec.enums import OpenAPIType

from api.examples import VALIDATION_ERROR_EXAMPLE
from api.fields import IDEMPOTENCY_KEY
from api.schemas import ErrorOut

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

SECURITY = "BearerAuth"

# Read by the gate (api/gate.py) before any handler runs, on every POST.
IDEMPOTENCY_PARAMETER = OpenAPIParameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    description="Retry safely: the same key with the same request replays the first "
    "response (`Idempotent-Replayed: true`) for at least 24 hours; with another request "
    "it is a 422, and while the first is in flight a 409. Scoped to the API key.",
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY),
)

ERROR_TEXT = {
    400: "The request does not match this document (`validation_failed`, `malformed_json`), "
    "breaks a rule it cannot state (`rule_violated`), or carries a cursor this server did "
    "not hand out (`invalid_cursor`); `details` names each field by its path",
    401: "Missing, invalid or revoked API key (`WWW-Authenticate: Bearer`)",
    403: "The key lacks the scope named in the message, or the account lacks PRO or API access",
    404: "Not found (also another account's objects)",
    409: "The object's state does not allow this (`state_conflict`), or a request with the "
    "same Idempotency-Key is still in flight (`idempotency_request_in_flight`)",
    413: "Request body over 1 MiB",
    415: "The body is not JSON",
    422: "The Idempotency-Key was used with a different request (`idempotency_key_reused`)",
    429: "Rate limited (`rate_limited`): wait `Retry-After` seconds",
    500: "Internal server error (`details.requestId`)",
    503: "The database is unavailable; retry after `Retry-After` seconds",
}
# Any /api/v1 call may meet these (an unknown query parameter is a 400 everywhere).
ALWAYS = (400, 401, 403, 429, 500, 503)
WITH_BODY = (400, 413, 415)
POSTED = (409, 422)


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error responses of an operation: those every /api/v1 call can meet, and these."""
    responses = {}
    for status in sorted({*ALWAYS, *statuses}):
        examples = [Example(value=VALIDATION_ERROR_EXAMPLE)] if status == 400 else None
        responses[status] = ResponseSpec(
            data_container=ErrorOut,
            description=ERROR_TEXT[status],
            generate_examples=False,
            examples=examples,
        )
    return responses


def needs(scope: str) -> list[dict[str, list[str]]]:
    """The security requirement of an operation: a bearer key holding `scope`."""
    return [{SECURITY: [scope]}]


def _integer(description: str, required: bool) -> OpenAPIHeader:
    return OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description=description, required=required
    )


def rate_headers(required: bool) -> dict[str, OpenAPIHeader]:
    return {
        "X-RateLimit-Limit": _integer("Requests allowed per minute of this kind", required),
        "X-RateLimit-Remaining": _integer("Requests left in the current window", required),
        "X-RateLimit-Reset": _integer("Unix time (s) when the allowance is whole again", required),
    }


@dataclass
class ApiOperation(Operation):
    """An /api/v1 operation: its scope in words, and the headers its answers carry."""

    def __post_init__(self) -> None:
        self._plain_body()
        scopes = [s for requirement in self.security or [] for s in requirement.get(SECURITY, [])]
        if scopes:
            words = f"Requires scope `{'`, `'.join(scopes)}`."
            self.description = f"{self.description}\n\n{words}" if self.description else words
        if "422" in (self.responses or {}):  # idempotent POSTs declare a reused key
            self.parameters = [*(self.parameters or []), IDEMPOTENCY_PARAMETER]
        for status, response in (self.responses or {}).items():
            if not isinstance(response, OpenAPIResponse):
                continue
            for media in (response.content or {}).values():
                _examples_beside(media)
            headers = dict(response.headers or {})
            code = int(status)
            if code < 300 or code in (400, 403, 404, 409, 413, 415, 422, 429):
                headers.update(rate_headers(required=code < 300))
            if code == 201:
                headers["Location"] = OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING), description="The new object's path"
                )
            if code == 401:
                headers["WWW-Authenticate"] = OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING, const="Bearer"), required=True
                )
            if code in (429, 503):
                headers["Retry-After"] = _integer("Seconds to wait before retrying", True)
            response.headers = headers

    def _plain_body(self) -> None:
        """Litestar marks every body required and writes an optional one (`X | None`) as
        `oneOf: [X, null]`; the contract's optional body is absent or an X, never null."""
        body = self.request_body
        if not isinstance(body, RequestBody):
            return
        for media in (body.content or {}).values():
            schema = media.schema
            if isinstance(schema, Schema) and schema.one_of and len(schema.one_of) == 2:
                kept = [s for s in schema.one_of if not _is_null(s)]
                if len(kept) == 1:
                    body.required = False
                    media.schema = Schema(all_of=kept, examples=schema.examples)
            _examples_beside(media)


def _examples_beside(media: OpenAPIMediaType) -> None:
    """Examples given with a Struct end up around its reference (`allOf` + `examples`);
    they are shown as the media type's examples, next to the plain reference."""
    schema = media.schema
    if isinstance(schema, Schema) and schema.all_of and len(schema.all_of) == 1:
        if schema.examples:
            media.examples = {
                f"example-{n}": Example(value=value) for n, value in enumerate(schema.examples, 1)
            }
        media.schema = schema.all_of[0]


def _is_null(schema: Schema | Reference) -> bool:
    return isinstance(schema, Schema) and schema.type == OpenAPIType.NULL


class ContractStructs(StructSchemaPlugin):
    """Struct schemas as Litestar makes them, plus what the Struct itself says: a body that
    forbids unknown fields is closed (`additionalProperties: false`) and its docstring is
    its description."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        model: Any = field_definition.type_
        if msgspec.inspect.type_info(model).forbid_unknown_fields:  # type: ignore[attr-defined]
            schema.additional_properties = False
        doc = model.__doc__
        if doc and schema.description is None:
            schema.description = " ".join(doc.split())
        return schema


def operation_id(handler: Any, method: str, _: Any) -> str:
    """The handler's name; one that answers PUT and PATCH alike gets the method too."""
    name: str = handler.handler_name
    return name if len(handler.http_methods) == 1 else f"{name}_{method.lower()}"


def json_plugin() -> JsonRenderPlugin:
    """The document itself, at the OpenAPI config's path (/openapi.json)."""
    return JsonRenderPlugin(path="/")


def contract(scope: str, *statuses: int) -> dict[str, Any]:
    """What an /api/v1 operation declares: the scope it needs and the errors it answers."""
    return {
        "security": needs(scope),
        "responses": errors(*statuses),
        "operation_class": ApiOperation,
    }
