"""The Account aggregate (a tenant) and its API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Forbidden, InvalidInput, StateConflict
from domain.meta import Meta
from domain.profile import profile_problems

FREE, PRO = "FREE", "PRO"
PLANS = (FREE, PRO)
NONE, REQUESTED, APPROVED = "NONE", "REQUESTED", "APPROVED"

# The seller details printed on invoices, in their domain (snake_case) names.
PROFILE_FIELDS = (
    "business_name",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
    "email",
    "phone",
    "tax_number",
    "payment_instructions",
    "invoice_prefix",
)
DEFAULT_INVOICE_PREFIX = "SI"


class Account(Aggregate):
    """A customer business: owner of clients, invoices and API keys."""

    @event("Created")
    def __init__(
        self, name: str, email: str, plan: str, api_access: str, at: datetime, meta: Meta
    ) -> None:
        self.name = name
        self.email = email
        self.plan = plan
        self.api_access = api_access
        self.profile: dict[str, Any] = {field: None for field in PROFILE_FIELDS}
        self.profile["email"] = email
        self.created_at = at
        self.updated_at = at

    @property
    def invoice_prefix(self) -> str:
        return str(self.profile.get("invoice_prefix") or DEFAULT_INVOICE_PREFIX)

    def check_api_allowed(self) -> None:
        """Only PRO accounts with approved API access may create or use keys."""
        if self.plan != PRO:
            raise Forbidden("API access requires the PRO plan; this account is on FREE")
        if self.api_access != APPROVED:
            raise Forbidden("API access for this account has not been approved")

    def change_plan(self, plan: str, at: datetime, meta: Meta) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        if plan != self.plan:
            self._plan_changed(plan=plan, at=at, meta=meta)

    def request_api_access(self, at: datetime, meta: Meta) -> None:
        if self.plan != PRO:
            raise Forbidden("API access is available on the PRO plan only")
        if self.api_access == NONE:
            self._api_access_changed(api_access=REQUESTED, at=at, meta=meta)

    def approve_api_access(self, at: datetime, meta: Meta) -> None:
        if self.api_access == APPROVED:
            raise StateConflict("API access is already approved")
        self._api_access_changed(api_access=APPROVED, at=at, meta=meta)

    def update_profile(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        problems = profile_problems(changes)
        if problems:
            raise InvalidInput("Validation failed", problems)
        current = {**self.profile, "name": self.name}
        changed = {k: v for k, v in changes.items() if current.get(k) != v}
        if changed:
            self._profile_updated(changes=changed, at=at, meta=meta)

    @event("PlanChanged")
    def _plan_changed(self, plan: str, at: datetime, meta: Meta) -> None:
        self.plan = plan
        self.updated_at = at

    @event("ApiAccessChanged")
    def _api_access_changed(self, api_access: str, at: datetime, meta: Meta) -> None:
        self.api_access = api_access
        self.updated_at = at

    @event("ProfileUpdated")
    def _profile_updated(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        # `name` is the account's own name; the rest are the seller details on invoices.
        if "name" in changes:
            self.name = changes["name"]
        self.profile = {**self.profile, **{k: v for k, v in changes.items() if k != "name"}}
        self.updated_at = at


class ApiKey(Aggregate):
    """A key of an account; only a hash of its secret is kept."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        name: str,
        scopes: tuple[str, ...],
        secret_hash: str,
        at: datetime,
        meta: Meta,
    ) -> None:
        self.account_id = account_id
        self.name = name
        self.scopes = tuple(scopes)
        self.secret_hash = secret_hash
        self.created_at = at
        self.revoked_at: datetime | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, at: datetime, meta: Meta) -> None:
        if self.revoked_at is not None:
            raise StateConflict("API key is already revoked")
        self._revoked(at=at, meta=meta)

    @event("Revoked")
    def _revoked(self, at: datetime, meta: Meta) -> None:
        self.revoked_at = at
