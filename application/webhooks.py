"""Commands on webhook endpoints: create (the secret is shown once), change, delete, replay."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

from application.base import ExperiBase, operation_id, retry_on_conflict
from domain.errors import InvalidInput, NotFound
from domain.meta import Meta, system_meta
from domain.webhook_endpoint import (
    DISABLED,
    DISABLED_BY_API,
    ENABLED,
    WebhookEndpoint,
    check_event_types,
    check_url,
)

SECRET_PREFIX = "whsec_"  # Standard Webhooks: whsec_ + base64 of 24 to 64 random bytes
SECRET_BYTES = 32
DELIVERY_WORKER = system_meta("webhook-delivery")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


@dataclass(frozen=True)
class FeedEvent:
    """An event of the account's feed: its position (seq) and what a client sees of it."""

    seq: int
    id: str
    type: str
    created_at: str


class EventFeed(Protocol):
    """The account's events in commit order (the feed webhooks deliver)."""

    def find(self, account_id: UUID, event_id: str) -> FeedEvent | None: ...

    def first_since(self, account_id: UUID, moment: datetime) -> FeedEvent | None:
        """The account's first event (by position) created at or after `moment`."""
        ...


class AddressPolicy(Protocol):
    def url_problem(self, url: str) -> str | None:
        """Why deliveries to `url` would always be refused (an IP literal in a refused
        range), or None. Names are checked again, after resolution, at each delivery."""
        ...


@dataclass(frozen=True)
class NewEndpoint:
    url: str
    enabled_events: list[str]
    description: str | None = None


class WebhookCommands(ExperiBase):
    # Set by the composition root from the operator's settings.
    webhook_allow_http: bool = False
    webhook_addresses: AddressPolicy | None = None
    event_feed: EventFeed | None = None

    def check_target(self, url: str) -> None:
        check_url(url, self.webhook_allow_http)
        problem = self.webhook_addresses.url_problem(url) if self.webhook_addresses else None
        if problem:
            raise InvalidInput.field("url", problem)

    @retry_on_conflict
    def create_webhook_endpoint(
        self, account_id: UUID, new: NewEndpoint, meta: Meta
    ) -> WebhookEndpoint:
        earlier = self.earlier_result(WebhookEndpoint, account_id, meta)
        if earlier is not None:
            return earlier
        self.check_target(new.url)
        endpoint = WebhookEndpoint(
            id=operation_id(meta) or uuid4(),
            account_id=account_id,
            url=new.url,
            enabled_events=check_event_types(new.enabled_events),
            description=new.description,
            secret=new_secret(),
            at=self.clock.now(),
            meta=meta,
        )
        self.save(endpoint)
        return endpoint

    def get_webhook_endpoint(self, account_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
        endpoint = self.get_owned(WebhookEndpoint, account_id, endpoint_id, "Webhook endpoint")
        endpoint.check_not_deleted()
        return endpoint

    @retry_on_conflict
    def update_webhook_endpoint(
        self, account_id: UUID, endpoint_id: UUID, changes: dict[str, Any], meta: Meta
    ) -> WebhookEndpoint:
        """Change url, enabled_events and description; `status` enables or disables."""
        endpoint = self.get_webhook_endpoint(account_id, endpoint_id)
        changes = dict(changes)
        status = changes.pop("status", None)
        if "url" in changes:
            self.check_target(changes["url"])
        if "enabled_events" in changes:
            changes["enabled_events"] = check_event_types(changes["enabled_events"])
        now = self.clock.now()
        endpoint.update(changes, now, meta)
        if status == ENABLED:
            endpoint.enable(now, meta)
        elif status == DISABLED:
            endpoint.disable(DISABLED_BY_API, now, meta)
        self.save(endpoint)
        return endpoint

    @retry_on_conflict
    def delete_webhook_endpoint(self, account_id: UUID, endpoint_id: UUID, meta: Meta) -> None:
        endpoint = self.get_webhook_endpoint(account_id, endpoint_id)
        endpoint.delete(self.clock.now(), meta)
        self.save(endpoint)

    @retry_on_conflict
    def disable_failing_endpoint(self, endpoint_id: UUID, reason: str) -> WebhookEndpoint:
        """Stop deliveries that kept failing (the delivery worker's decision)."""
        endpoint = self.get_typed(WebhookEndpoint, endpoint_id, "Webhook endpoint")
        endpoint.disable(reason, self.clock.now(), DELIVERY_WORKER)
        self.save(endpoint)
        return endpoint

    @retry_on_conflict
    def replay_webhook_endpoint(
        self,
        account_id: UUID,
        endpoint_id: UUID,
        from_event_id: str | None,
        since: datetime | None,
        meta: Meta,
    ) -> FeedEvent | None:
        """Deliver again every matching event from one event (or moment) on, in order,
        with their original ids. None: nothing happened at or after `since`."""
        endpoint = self.get_webhook_endpoint(account_id, endpoint_id)
        feed = self.event_feed
        start: FeedEvent | None = None
        if from_event_id is not None:
            start = feed.find(account_id, from_event_id) if feed else None
            if start is None:
                raise NotFound("Event not found")
        elif since is not None and feed is not None:
            start = feed.first_since(account_id, since)
        if start is None:
            return None
        endpoint.replay(start.id, start.seq, self.clock.now(), meta)
        self.save(endpoint)
        return start
