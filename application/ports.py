"""Ports: what the outside world does for the application (time, hashing, read models)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class KeyHasher(Protocol):
    def hash(self, secret: str) -> str: ...

    def verify(self, secret: str, hashed: str) -> bool: ...


@dataclass(frozen=True)
class Page:
    """One page of a list: the items, and the cursor of the next page if there is one."""

    items: Sequence[Any]
    next_cursor: str | None
    # Set by a feed, whose cursor also continues from the end once more items arrive.
    has_more: bool | None = None


@dataclass(frozen=True)
class InvoiceFilter:
    status: str | None = None
    overdue_on: date | None = None  # set for the OVERDUE pseudo-status
    client_id: UUID | None = None
    issue_date_from: date | None = None
    issue_date_to: date | None = None
    due_date_from: date | None = None
    due_date_to: date | None = None


class InvalidCursor(ValueError):
    """A pagination cursor that this server did not hand out."""


class SqlCursor(Protocol):
    """A cursor inside a transaction; SQL uses `?` placeholders on every backend."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class BulkCursor(SqlCursor, Protocol):
    """A cursor that can also stream many new rows at once (PostgreSQL's COPY). Found
    by its method, not `isinstance`: a runtime protocol check cost more than the rest
    of a small batch's insert."""

    def copy_new_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> bool:
        """Add `rows`; False, with nothing written, if one is in the table already."""
        ...


class SqlDatabase(Protocol):
    """Plain SQL on the same database as the event store (views, tracking, limits)."""

    dialect: str  # "sqlite" or "postgresql"

    def transaction(
        self, *, lock: str | tuple[str, ...] | None = None
    ) -> AbstractContextManager[SqlCursor]:
        """A transaction; with `lock`, one holder of that name (of each name, taken in
        the order given) at a time across processes."""
        ...

    def statement(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run one statement as its own short transaction (one round trip where the
        database allows it) and return its first row, if any."""
        ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read as its own short transaction and return all its rows."""
        ...

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """As `rows`, awaited: on the event loop where the driver allows, else in a
        worker thread."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RateDecision:
    """The outcome of counting one request against a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix time (s) when the allowance is whole again
    retry_after: int  # whole seconds to wait when not allowed (>= 1)


class RateLimiter(Protocol):
    def hit(self, bucket: str, limit: int, now: float) -> RateDecision:
        """Count one request in `bucket`; allowed while the window holds fewer than `limit`."""
        ...

    def local(self, bucket: str, limit: int, now: float) -> RateDecision | None:
        """As `hit`, if this process can decide without a round trip; else None, and
        nothing was counted."""
        ...


class RateLimited(Exception):
    """Too many requests: the decision says when to come back."""

    def __init__(self, decision: RateDecision, message: str = "Rate limit exceeded") -> None:
        super().__init__(message)
        self.decision = decision
        self.message = message


class SendQuota(Protocol):
    """Caps on the emails an account may queue, shared by every process."""

    def reserve(self, send_id: UUID, account_id: UUID, recipient: str, now: float) -> None:
        """Count one email to `recipient`, or raise RateLimited (counting nothing)."""
        ...

    def release(self, send_id: UUID) -> None:
        """Un-count a reserved email that was never queued after all."""
        ...


@dataclass(frozen=True)
class OutgoingEmail:
    """An email ready to hand to a mail server."""

    message_id: str
    sender: str
    to: str
    subject: str
    body: str
    attachment_name: str
    attachment: bytes


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Deliver or raise; delivering the same message_id twice must be harmless."""
        ...


class InvoiceDocument(Protocol):
    def render(self, invoice: Any, seller: Any, client: Any) -> bytes:
        """The invoice as a PDF document."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hashed: str) -> bool: ...


class SharedLocks(Protocol):
    """A lock across every process on one database for a block that ends with one save:
    held from the block's first read (or its save) until that save commits, or until the
    block ends if it never commits."""

    def hold(self, key: UUID) -> AbstractContextManager[None]: ...


class RowReader(Protocol):
    """Loads an aggregate from its read-model row by (account, id), without a replay."""

    def kinds(self) -> frozenset[type]: ...

    def load(self, cls: type, account_id: UUID, obj_id: UUID) -> Any | None: ...

    def load_any(self, cls: type, obj_id: UUID) -> Any | None:
        """By id alone (for kinds no account owns, such as accounts); None if `cls` has
        no row kept, or this id none."""
        ...

    def load_each(self, wanted: Sequence[tuple[type, UUID | None, UUID]]) -> list[Any | None]:
        """Several at once, each by (class, account or None for by id alone, id), in one
        read; None for each without a row. Every class must be one whose rows are kept."""
        ...


class Documents(Protocol):
    """The API's JSON for a resource, shaped once when its row is written.

    Read models store these bytes, so a read returns them without loading the
    aggregate. An invoice's `isOverdue` depends on the day it is read: documents hold
    `false`, and reads set it (see `projections.invoices_view.OVERDUE`)."""

    def invoice(self, invoice: Any) -> bytes: ...

    def invoice_without(self, invoice: Any, skip: int) -> bytes:
        """The invoice's document without its first `skip` payments (kept elsewhere)."""
        ...

    def past_invoice(self, invoice: Any) -> bytes:
        """An invoice as it stood at an earlier version: the same bytes as `invoice`,
        shaped without touching what is kept for the latest versions' commands."""
        ...

    def client(self, client: Any) -> bytes: ...

    def recurring(self, template: Any) -> bytes: ...
