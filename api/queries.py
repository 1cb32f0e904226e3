"""Query parameter sets: each Struct is injected whole, its fields the documented parameters."""

from __future__ import annotations

import functools
import re
import typing
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.di import Provide
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import QueryParameter

from api.errors import invalid
from api.fields import (
    DAY_FORMATS,
    DAY_MESSAGE,
    DAY_TEXT,
    MOMENT_TEXT,
    QUERY_TEXT,
    UUID_TEXT,
    parse_day,
    parse_moment,
    pattern_message,
)
from application.ports import InvoiceFilter
from domain.event_types import EventKind, EventType
from projections.audit_log import AuditFilter
from projections.events_feed import FeedFilter
from projections.stored_time import timestamp

Limit = Annotated[
    int, QueryParameter(name="limit", ge=1, le=100, description="Items per page (1..100)")
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        name="cursor",
        min_length=1,
        max_length=512,
        description="`pagination.nextCursor` of the previous page",
    ),
]


def _text(name: str, description: str) -> object:
    return QueryParameter(name=name, max_length=200, pattern=QUERY_TEXT, description=description)


def _id(name: str) -> object:
    return QueryParameter(name=name, pattern=UUID_TEXT, format=OpenAPIFormat.UUID)


def _day(name: str) -> object:
    return QueryParameter(
        name=name,
        pattern=DAY_TEXT,
        schema_extra=DAY_FORMATS,
        description="`YYYY-MM-DD` or an RFC 3339 date-time",
    )


@functools.cache
def _patterns(query: type[msgspec.Struct]) -> tuple[tuple[str, str, str], ...]:
    """(field, parameter name, pattern) of each patterned parameter of a query set."""
    hints = typing.get_type_hints(query, include_extras=True)
    found = []
    for name, hint in hints.items():
        for extra in getattr(hint, "__metadata__", ()):
            if isinstance(extra, QueryParameter) and extra.pattern:
                found.append((name, extra.name or name, extra.pattern))
    return tuple(found)


class PageQuery(msgspec.Struct, kw_only=True):
    limit: Limit = 20
    cursor: Cursor = None

    def __post_init__(self) -> None:
        """Python's `$` also matches before a final line break; the document's (ECMA-262)
        does not, so a parameter must match its pattern whole."""
        wrong = {}
        for field, alias, pattern in _patterns(type(self)):
            value = getattr(self, field)
            if isinstance(value, str) and not re.fullmatch(pattern, value):
                wrong[alias] = [pattern_message(pattern, value)]
        if wrong:
            raise invalid(wrong)

    @property
    def after(self) -> str | None:
        """The cursor to continue from, if one was sent."""
        return self.cursor or None


class ClientQuery(PageQuery):
    search: Annotated[
        str | None,
        _text("search", "Matches name, company or email, ignoring case"),
    ] = None
    include_archived: Annotated[
        bool, QueryParameter(name="includeArchived", description="Also list archived clients")
    ] = False


class InvoiceQuery(PageQuery):
    status: Annotated[
        Literal["DRAFT", "SENT", "PARTIALLY_PAID", "PAID", "VOID", "OVERDUE"] | None,
        QueryParameter(name="status", description="A status, or OVERDUE"),
    ] = None
    client_id: Annotated[str | None, _id("clientId")] = None
    issue_date_from: Annotated[str | None, _day("issueDateFrom")] = None
    issue_date_to: Annotated[str | None, _day("issueDateTo")] = None
    due_date_from: Annotated[str | None, _day("dueDateFrom")] = None
    due_date_to: Annotated[str | None, _day("dueDateTo")] = None

    def filter(self, today: date) -> InvoiceFilter:
        days = {
            "issueDateFrom": self.issue_date_from,
            "issueDateTo": self.issue_date_to,
            "dueDateFrom": self.due_date_from,
            "dueDateTo": self.due_date_to,
        }
        parsed = {name: parse_day(text) if text else None for name, text in days.items()}
        # 2026-02-30 has the pattern's shape but is no date.
        wrong = {name: DAY_MESSAGE for name, text in days.items() if text and not parsed[name]}
        if wrong:
            raise invalid({name: [message] for name, message in wrong.items()})
        overdue = self.status == "OVERDUE"
        return InvoiceFilter(
            status=None if overdue else (self.status or None),
            overdue_on=today if overdue else None,
            client_id=UUID(self.client_id) if self.client_id else None,
            issue_date_from=parsed["issueDateFrom"],
            issue_date_to=parsed["issueDateTo"],
            due_date_from=parsed["dueDateFrom"],
            due_date_to=parsed["dueDateTo"],
        )


class AuditQuery(PageQuery):
    entity_type: Annotated[str | None, _text("entityType", "For example `invoice`")] = None
    entity_id: Annotated[str | None, _text("entityId", "The changed object's id")] = None
    action: Annotated[str | None, _text("action", "For example `invoice.payment_recorded`")] = None
    actor_id: Annotated[str | None, _text("actorId", "The API key, user or job")] = None
    occurred_from: Annotated[str | None, _day("from")] = None
    occurred_to: Annotated[str | None, _day("to")] = None

    def filter(self) -> AuditFilter:
        bounds = {"from": (self.occurred_from, False), "to": (self.occurred_to, True)}
        stamps = {name: bound(text, end) for name, (text, end) in bounds.items()}
        wrong = [name for name, (text, _) in bounds.items() if text and stamps[name] is None]
        if wrong:
            raise invalid({name: [DAY_MESSAGE] for name in wrong})
        return AuditFilter(
            entity_type=self.entity_type or None,
            entity_id=self.entity_id or None,
            action=self.action or None,
            actor_id=self.actor_id or None,
            occurred_from=stamps["from"],
            occurred_to=stamps["to"],
        )


class AsOfQuery(msgspec.Struct, kw_only=True):
    as_of: Annotated[
        str | None,
        QueryParameter(
            name="asOf",
            pattern=MOMENT_TEXT,
            format=OpenAPIFormat.DATE_TIME,
            description="An RFC 3339 date-time: the resource as it stood then, rebuilt from "
            "its events (404 if it did not exist yet)",
        ),
    ] = None

    def __post_init__(self) -> None:
        if self.as_of is not None and not re.fullmatch(MOMENT_TEXT, self.as_of):
            raise invalid({"asOf": [pattern_message(MOMENT_TEXT, self.as_of)]})

    def moment(self) -> datetime | None:
        """The moment asked for, or None for the resource as it stands now."""
        if self.as_of is None:
            return None
        try:
            return parse_moment(self.as_of)
        except ValueError:  # 2026-02-30T00:00:00Z matches the pattern but is no time
            raise invalid({"asOf": [DAY_MESSAGE]}) from None


class EventQuery(PageQuery):
    type: Annotated[
        list[EventType | EventKind] | None,
        QueryParameter(
            name="type",
            max_items=20,
            description="Event types, for example `invoice.paid` (repeat the parameter for "
            "several); `invoice.*` matches every event of invoices",
        ),
    ] = None
    entity_id: Annotated[str | None, _id("entityId")] = None
    created_from: Annotated[str | None, _day("createdFrom")] = None
    created_to: Annotated[str | None, _day("createdTo")] = None

    def filter(self) -> FeedFilter:
        bounds = {"createdFrom": (self.created_from, False), "createdTo": (self.created_to, True)}
        stamps = {name: bound(text, end) for name, (text, end) in bounds.items()}
        wrong = {
            name: [DAY_MESSAGE] for name, (text, _) in bounds.items() if text and not stamps[name]
        }
        if wrong:
            raise invalid(wrong)
        return FeedFilter(
            types=tuple(self.type or ()),
            entity_id=str(UUID(self.entity_id)) if self.entity_id else None,
            created_from=stamps["createdFrom"],
            created_to=stamps["createdTo"],
        )


def bound(text: str | None, end: bool) -> str | None:
    """A `from`/`to` value as the stored timestamp text; a bare date covers its whole day."""
    if not text:
        return None
    if len(text) == 10:
        day = parse_day(text)
        if day is None:
            return None
        return f"{day.isoformat()}T{'23:59:59.999999' if end else '00:00:00.000000'}Z"
    try:
        moment = parse_moment(text)
    except ValueError:
        return None
    return timestamp(moment)


def provide(query: type[msgspec.Struct]) -> dict[str, Provide]:
    """The handler dependency that builds `query` from the request's query string."""
    return {"params": Provide(query, sync_to_thread=False)}
