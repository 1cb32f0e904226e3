"""Request and response schemas of webhook endpoints, their deliveries and replays."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.fields import DAY_TEXT, TEXT, IdOut, Rule, Timestamp, parse_moment
from api.requests import Body
from api.schemas import Pagination, Struct
from domain.event_types import EVENT_TYPES
from domain.webhook_endpoint import ALL_EVENTS, MAX_URL_LENGTH

EventTypeName = enum.StrEnum(  # type: ignore[misc]
    "EventTypeName", {name: name for name in (ALL_EVENTS, *EVENT_TYPES)}
)
EventTypeName.__doc__ = "An event type, or `*` for every type"
MOMENT_MESSAGE = "Must be an RFC 3339 date-time (2026-02-10T14:03:07Z), from 2000 to 2100"
MOMENT_TEXT = DAY_TEXT.removesuffix(")?$") + ")$"  # DAY_TEXT with its time required

WebhookUrl = Annotated[str, Meta(min_length=1, max_length=MAX_URL_LENGTH)]
EnabledEvents = Annotated[list[EventTypeName], Meta(min_length=1, max_length=100)]
Description = Annotated[str, Meta(max_length=500, pattern=TEXT)]
EventId = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


@dataclass(frozen=True, eq=False)
class Moment(Rule):
    """An RFC 3339 date-time, as an aware UTC datetime."""

    def read(self, raw: Any) -> datetime:
        if not isinstance(raw, str):
            raise ValueError("Must be a string")
        if "\n" in raw or not re.match(MOMENT_TEXT, raw):
            raise ValueError(MOMENT_MESSAGE)
        try:
            return parse_moment(raw)
        except ValueError:
            raise ValueError(MOMENT_MESSAGE) from None


MomentIn = Annotated[
    datetime, Moment(schema_extra={"type": "string", "format": "date-time", "pattern": MOMENT_TEXT})
]

WEBHOOK_EXAMPLE: dict[str, Any] = {
    "url": "https://example.com/webhooks/experi",
    "enabledEvents": ["invoice.paid", "invoice.sent"],
    "description": "Bookkeeping sync",
}
REPLAY_EXAMPLE: dict[str, Any] = {"fromEventId": "5b0e8c1e-6f4a-5d2b-9c3e-7a1f2b3c4d5e"}


class WebhookEndpointCreate(Body):
    """`url`: https (http only where the operator allows it), no credentials, no internal
    address. `enabledEvents`: event types, or `["*"]` for every type."""

    url: WebhookUrl
    enabled_events: EnabledEvents
    description: Description | None = None


class WebhookEndpointUpdate(Body):
    """Only the fields sent change. `status` `enabled` resumes deliveries (from the first
    event not yet delivered); `disabled` stops them."""

    url: WebhookUrl | UnsetType = UNSET
    enabled_events: EnabledEvents | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    status: Literal["enabled", "disabled"] | UnsetType = UNSET


class ReplayRequest(Body):
    """Exactly one of `fromEventId` (an event's id) and `from` (the first event created at
    or after this moment)."""

    from_event_id: EventId | UnsetType = UNSET
    since: MomentIn | UnsetType = msgspec.field(default=UNSET, name="from")


class WebhookEndpointOut(Struct):
    id: IdOut
    url: str
    enabled_events: list[str]
    description: str | None
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    created_at: Timestamp
    updated_at: Timestamp


class WebhookEndpointCreated(WebhookEndpointOut):
    """The new endpoint, with its signing secret: shown this once, never again."""

    secret: str


class WebhookEndpointList(Struct):
    data: list[WebhookEndpointOut]
    pagination: Pagination


class DeliveryOut(Struct):
    """One delivery attempt. `statusCode` is null when no response arrived (`error` says
    why); `responseBody` holds at most 1 kB; `nextAttemptAt` is set while it is retried."""

    id: IdOut
    event_id: str
    event_type: str
    attempted_at: Timestamp
    status_code: int | None
    latency_ms: int
    error: str | None
    response_body: str | None
    next_attempt_at: Timestamp | None


class DeliveryList(Struct):
    data: list[DeliveryOut]
    pagination: Pagination


class ReplayStartOut(Struct):
    event_id: str
    type: str
    created_at: Timestamp


class ReplayOut(Struct):
    """Accepted: every matching event from `replayFrom` on is delivered again, in order,
    with its original `webhook-id`. `replayFrom` is null when no event lies at or after
    `from` (nothing to replay)."""

    endpoint_id: IdOut
    replay_from: ReplayStartOut | None
