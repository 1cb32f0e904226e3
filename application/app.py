"""The Experi application: every command, on one event store."""

from __future__ import annotations

from application.accounts import AccountCommands
from application.clients import ClientCommands
from application.invoices import InvoiceCommands
from application.sending import SendCommands


class Experi(AccountCommands, ClientCommands, InvoiceCommands, SendCommands):
    """Accounts, keys, clients and invoices as event-sourced aggregates."""
