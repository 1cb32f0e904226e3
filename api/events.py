"""The events feed: the account's events in commit order, each with its resource as it
stood right after the change."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from api import render
from api.context import AppServices, Caller, run
from api.event_schemas import EventList
from api.openapi import contract
from api.queries import EventQuery, provide
from api.responses import listing


class EventController(Controller):
    path = "/events"
    tags = ["Events"]

    @get(
        "/",
        summary="The account's events, oldest first",
        description="Each event's `data.object` is its resource as it stood right after the "
        "change, in the shape its own endpoint returns. To follow the feed, keep "
        "`pagination.nextCursor`: unlike other lists it is also given on the last page "
        "(`hasMore` false), and a later request with it returns the events stored since.",
        dependencies=provide(EventQuery),
        **contract("events:read", 400),
    )
    async def list_events(
        self, params: NamedDependency[EventQuery], services: AppServices, principal: Caller
    ) -> Response[EventList]:
        page = await run(
            services.queries.events,
            principal.account_id,
            params.filter(),
            params.limit,
            params.after,
        )
        return listing(page.items, render.pagination(page, params.limit))
