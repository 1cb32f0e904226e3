"""Response schemas of the events feed."""

from __future__ import annotations

from typing import Any

from api.fields import IdOut, Timestamp
from api.schemas import Actor, Pagination, Struct


class EventData(Struct):
    object: dict[str, Any]  # the resource right after the change, as its endpoint returns it


class EventOut(Struct):
    id: IdOut
    type: str
    created_at: Timestamp
    entity_type: str
    entity_id: IdOut
    data: EventData
    actor: Actor
    request_id: str | None


class EventList(Struct):
    data: list[EventOut]
    pagination: Pagination
