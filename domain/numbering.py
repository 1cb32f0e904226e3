"""Per-account invoice numbers: one counter aggregate per account, so that two
concurrent numberings conflict in the event store instead of sharing a number."""

from __future__ import annotations

import functools
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/invoice-counter")


@functools.lru_cache(maxsize=4096)
def counter_id(account_id: UUID) -> UUID:
    """The account's counter id (a name-based UUID, worked out a few times per invoice)."""
    return uuid5(NAMESPACE, str(account_id))


def format_number(prefix: str, number: int) -> str:
    """`SI-001`, `SI-002`, ..., `SI-999`, `SI-1000`."""
    return f"{prefix}-{number:03d}"


class InvoiceCounter(Aggregate):
    """The last invoice number an account has used."""

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return counter_id(account_id)

    @event("Created")
    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id
        self.last = 0

    def take_next(self, invoice_id: UUID) -> int:
        self._number_taken(number=self.last + 1, invoice_id=invoice_id)
        return self.last

    @event("NumberTaken")
    def _number_taken(self, number: int, invoice_id: UUID) -> None:
        self.last = number
