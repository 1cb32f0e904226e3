"""The Experi application: every command, on one event store."""

from __future__ import annotations

from application.accounts import AccountCommands
from application.clients import ClientCommands
from application.recurring import RecurringCommands


class Experi(AccountCommands, ClientCommands, RecurringCommands):
    """Accounts, keys, clients, invoices and recurring templates as event-sourced aggregates."""
