"""The Experi application: every command, on one event store."""

from __future__ import annotations

from application.accounts import AccountCommands
from application.clients import ClientCommands
from application.recurring import RecurringCommands
from application.users import UserCommands


class Experi(AccountCommands, ClientCommands, RecurringCommands, UserCommands):
    """Accounts, keys, clients, invoices and recurring templates as event-sourced aggregates."""
