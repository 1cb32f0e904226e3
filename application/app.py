"""The Experi application: every command, on one event store."""

from __future__ import annotations

from typing import Any, ClassVar

from application.accounts import AccountCommands
from application.clients import ClientCommands
from application.recurring import RecurringCommands
from application.users import UserCommands
from application.webhooks import WebhookCommands
from domain.invoice import Invoice
from domain.numbering import InvoiceCounter
from domain.recurring import RecurringInvoice
from domain.snapshots import Snapshot

# Events between snapshots of the long-lived aggregates, so that loading one replays at
# most this many events whatever its age. The counter takes an event per invoice, so it
# gets them most often; a snapshot costs one extra write after every N saves.
SNAPSHOT_EVERY: dict[type[Any], int] = {InvoiceCounter: 20, RecurringInvoice: 50, Invoice: 50}


class Experi(AccountCommands, ClientCommands, RecurringCommands, UserCommands, WebhookCommands):
    """Accounts, keys, clients, invoices and recurring templates as event-sourced aggregates."""

    snapshot_class = Snapshot
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = SNAPSHOT_EVERY
