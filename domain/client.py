"""The Client aggregate: someone an account invoices."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput
from domain.meta import Meta

# Client fields in their domain (snake_case) names; all but name are optional.
FIELDS = (
    "name",
    "company",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "county",
    "postcode",
    "country",
    "tax_number",
    "notes",
)


class Client(Aggregate):
    """A client of one account, with contact and address details."""

    @event("Created")
    def __init__(
        self, id: UUID, account_id: UUID, details: dict[str, Any], at: datetime, meta: Meta
    ) -> None:
        self.account_id = account_id
        self.details: dict[str, Any] = {name: details.get(name) for name in FIELDS}
        self.created_at = at
        self.updated_at = at
        self.archived_at: datetime | None = None

    @property
    def name(self) -> str:
        return str(self.details["name"])

    @property
    def email(self) -> str | None:
        value = self.details.get("email")
        return str(value) if value else None

    def update(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        changed = {k: v for k, v in changes.items() if self.details.get(k) != v}
        if changed:
            self._updated(changes=changed, at=at, meta=meta)

    @event("Updated")
    def _updated(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        self.details = {**self.details, **changes}
        self.updated_at = at

    def archive(self, at: datetime, meta: Meta) -> None:
        """Hide the client from lists; its invoices keep it. Archiving again changes
        nothing."""
        if self.archived_at is None:
            self._archived(account_id=self.account_id, at=at, meta=meta)

    @event("Archived")
    def _archived(self, account_id: UUID, at: datetime, meta: Meta) -> None:
        # The account rides on the event so that views can file it without a lookup.
        self.archived_at = at
        self.updated_at = at

    def check_not_archived(self) -> None:
        if getattr(self, "archived_at", None) is not None:
            raise InvalidInput.field("clientId", "This client is archived")
