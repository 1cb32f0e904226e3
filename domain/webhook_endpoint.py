"""The WebhookEndpoint aggregate: a URL that receives an account's events, signed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, NotFound
from domain.event_types import EVENT_TYPES
from domain.meta import Meta

ENABLED, DISABLED = "enabled", "disabled"
STATUSES = (ENABLED, DISABLED)
ALL_EVENTS = "*"
MAX_URL_LENGTH = 2048
DISABLED_BY_API = "Disabled through the API"
# Host names as DNS writes them (ASCII labels; IDNs in their xn-- form), with a final dot
# allowed; IP literals are handled apart.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}\.?$")
_FORBIDDEN_TEXT = re.compile(r"[\x00-\x20\x7f\\]")


class WebhookEndpoint(Aggregate):
    """Where an account's events are delivered, and the secret that signs them."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        url: str,
        enabled_events: list[str],
        description: str | None,
        secret: str,
        at: datetime,
        meta: Meta,
    ) -> None:
        self.account_id = account_id
        self.url = url
        self.enabled_events = tuple(enabled_events)
        self.description = description
        self.secret = secret
        self.status = ENABLED
        self.disabled_reason: str | None = None
        self.deleted_at: datetime | None = None
        self.created_at = at
        self.updated_at = at
        # Delivery bookkeeping follows these counters (projections/webhook_rows.py). A
        # reset (a new URL, disabled, enabled, deleted) stops a delivery under way from
        # moving the cursor, and the pending event is retried at once with a fresh
        # failure window; a rewind moves the cursor back for a replay.
        self.resets = 0
        self.rewinds = 0
        self.rewind_to: int | None = None  # the feed position delivered again first

    @property
    def is_deleted(self) -> bool:
        return getattr(self, "deleted_at", None) is not None

    def check_not_deleted(self) -> None:
        if self.is_deleted:
            raise NotFound("Webhook endpoint not found")

    def receives(self, event_type: str) -> bool:
        return ALL_EVENTS in self.enabled_events or event_type in self.enabled_events

    def update(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        """Change url, enabled_events or description (only what differs is recorded)."""
        self.check_not_deleted()
        changed = {k: v for k, v in changes.items() if _comparable(getattr(self, k)) != v}
        if changed:
            self._updated(changes=changed, at=at, meta=meta)

    @event("Updated")
    def _updated(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        for name, value in changes.items():
            setattr(self, name, tuple(value) if name == "enabled_events" else value)
        if "url" in changes:
            self.resets += 1
        self.updated_at = at

    def disable(self, reason: str, at: datetime, meta: Meta) -> None:
        """Stop deliveries; disabling a disabled endpoint changes nothing."""
        self.check_not_deleted()
        if self.status == ENABLED:
            self._disabled(reason=reason, at=at, meta=meta)

    @event("Disabled")
    def _disabled(self, reason: str, at: datetime, meta: Meta) -> None:
        self.status = DISABLED
        self.disabled_reason = reason
        self.resets += 1
        self.updated_at = at

    def enable(self, at: datetime, meta: Meta) -> None:
        """Deliver again, from the first event not yet delivered, with a fresh 3 days."""
        self.check_not_deleted()
        if self.status == DISABLED:
            self._enabled(at=at, meta=meta)

    @event("Enabled")
    def _enabled(self, at: datetime, meta: Meta) -> None:
        self.status = ENABLED
        self.disabled_reason = None
        self.resets += 1
        self.updated_at = at

    def delete(self, at: datetime, meta: Meta) -> None:
        self.check_not_deleted()
        self._deleted(account_id=self.account_id, at=at, meta=meta)

    @event("Deleted")
    def _deleted(self, account_id: UUID, at: datetime, meta: Meta) -> None:
        self.deleted_at = at
        self.resets += 1
        self.updated_at = at

    def replay(self, from_event_id: str, position: int, at: datetime, meta: Meta) -> None:
        """Deliver again every matching event from the feed's `position` on, in order."""
        self.check_not_deleted()
        self._replayed(from_event_id=from_event_id, position=position, at=at, meta=meta)

    @event("Replayed")
    def _replayed(self, from_event_id: str, position: int, at: datetime, meta: Meta) -> None:
        self.rewinds += 1
        self.rewind_to = position
        self.updated_at = at


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def check_url(url: str, allow_http: bool) -> None:
    """An absolute https URL (http too when the operator allows it), without credentials."""
    problem = url_problem(url, allow_http)
    if problem:
        raise InvalidInput.field("url", problem)


def url_problem(url: str, allow_http: bool) -> str | None:
    if len(url) > MAX_URL_LENGTH:
        return f"Must be at most {MAX_URL_LENGTH} characters"
    if _FORBIDDEN_TEXT.search(url):
        return "Must not contain spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Must be a valid URL"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in schemes:
        return "Must be an http or https URL" if allow_http else "Must be an https URL"
    if "@" in parts.netloc:
        return "Must not contain credentials (user:password@)"
    if parts.fragment or url.endswith("#"):
        return "Must not contain a fragment (#...)"
    host = parts.hostname or ""
    if not host:
        return "Must name a host"
    if port == 0:
        return "Must not use port 0"
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "Must name a valid host"
        return None
    if len(host) > 253 or not _HOST_NAME.match(host):
        return "Must name a valid host (IDNs in their xn-- form)"
    return None


def check_event_types(requested: Sequence[str]) -> list[str]:
    """Known event types, or `*` alone; duplicates are dropped, order kept."""
    if not requested:
        raise InvalidInput.field("enabledEvents", "Must not be empty")
    for index, name in enumerate(requested):
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise InvalidInput.field(f"enabledEvents.{index}", f"Unknown event type: {name}")
    unique = list(dict.fromkeys(requested))
    if ALL_EVENTS in unique and len(unique) > 1:
        raise InvalidInput.field("enabledEvents", '"*" stands for every type; send it alone')
    return unique
