"""The types of the events in the events feed and in webhook deliveries."""

from __future__ import annotations

from typing import Literal, get_args

EventType = Literal[
    "client.created",
    "client.updated",
    "client.archived",
    "invoice.created",
    "invoice.updated",
    "invoice.issued",
    "invoice.sent",
    "invoice.email_delivered",
    "invoice.email_attempt_failed",
    "invoice.email_failed",
    "invoice.partially_paid",
    "invoice.paid",
    "invoice.voided",
    "recurring_invoice.created",
    "recurring_invoice.updated",
    "recurring_invoice.paused",
    "recurring_invoice.resumed",
    "recurring_invoice.ended",
    "recurring_invoice.invoice_generated",
    "recurring_invoice.auto_send_skipped",
]
# Every event of one kind of resource.
EventKind = Literal["client.*", "invoice.*", "recurring_invoice.*"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
