"""Errors raised by domain rules; the API maps each kind to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every rule violation the domain reports."""

    def __init__(self, message: str, details: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, list[str]] = details or {}


class InvalidInput(DomainError):
    """The request asks for something the rules do not allow (a field is wrong)."""

    @classmethod
    def field(cls, path: str, message: str) -> InvalidInput:
        return cls("Validation failed", {path: [message]})


class NotFound(DomainError):
    """The object does not exist, or belongs to another account."""


class StateConflict(DomainError):
    """The object is in a state that does not allow the change."""


class InvoiceNotDraft(StateConflict):
    """Only a DRAFT invoice can be edited."""

    code = "invoice_not_draft"  # the contract's stable name for this refusal


class Forbidden(DomainError):
    """The caller is known but not allowed to do this."""


class Unauthenticated(DomainError):
    """No usable credentials: missing, malformed, unknown or revoked key."""
