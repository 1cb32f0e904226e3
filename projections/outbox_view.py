"""The outbox: emails queued by Invoice.Sent events, until delivered or given up.

It is fed by the projector like every view, so a queued email is in the outbox as
surely as its event is in the event store: it survives restarts and is never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification

from application.ports import SqlCursor
from domain.invoice import Invoice


class OutboxView:
    tables: Sequence[str] = ("outbox",)

    def create_statements(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS outbox (email_id TEXT PRIMARY KEY, "
            "invoice_id TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL, "
            "claimed_until DOUBLE PRECISION NOT NULL DEFAULT 0)",
            "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at)",
        ]

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None:
        kind = type(event).__qualname__ if isinstance(event, Invoice.Event) else ""
        if kind == "Invoice.Sent":
            cur.execute(
                "INSERT INTO outbox (email_id, invoice_id, due_at) VALUES (?, ?, ?) "
                "ON CONFLICT (email_id) DO NOTHING",
                (str(event.email.id), str(event.originator_id), event.at.timestamp()),
            )
        elif kind == "Invoice.EmailAttemptFailed":
            cur.execute(
                "UPDATE outbox SET due_at = ?, claimed_until = 0 WHERE email_id = ?",
                (event.retry_at.timestamp(), str(event.email_id)),
            )
        elif kind in ("Invoice.EmailDelivered", "Invoice.EmailFailed"):
            cur.execute("DELETE FROM outbox WHERE email_id = ?", (str(event.email_id),))
