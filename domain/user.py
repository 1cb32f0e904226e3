"""Users of the developer portal: one email, one password hash, one account."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.meta import Meta

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/user-email")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_id_for(email: str) -> UUID:
    """A user's id follows from the email, so a second sign-up with it is a conflict."""
    return uuid5(USER_NAMESPACE, normalise_email(email))


class User(Aggregate):
    @staticmethod
    def create_id(email: str) -> UUID:
        return user_id_for(email)

    # The hash has to live in the event (logging in replays it); the audit log leaves out
    # every field named like a secret (projections.audit_view.redact), so it never shows.
    @event("Registered")
    def __init__(
        self, email: str, password_hash: str, account_id: UUID, at: datetime, meta: Meta
    ) -> None:
        self.email = normalise_email(email)
        self.password_hash = password_hash
        self.account_id = account_id
        self.created_at = at
