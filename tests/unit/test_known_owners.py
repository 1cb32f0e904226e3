"""The audit views keep the owners they have seen: a later batch reads only new ones,
and answers exactly what reading `audit_entities` every batch would."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from projections.audit_batch import KnownOwners, resolve_owners


class Invoice:
    class Created:
        def __init__(self, invoice: UUID, account: UUID) -> None:
            self.originator_id, self.account_id = invoice, account

    class PaymentRecorded:
        def __init__(self, invoice: UUID) -> None:
            self.originator_id = invoice


class Table:
    """`audit_entities` behind a cursor that records each SELECT's ids."""

    def __init__(self, rows: dict[str, str]) -> None:
        self.rows = rows
        self.asked: list[list[str]] = []
        self._result: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        assert sql.startswith("SELECT entity_id, account_id FROM audit_entities")
        self.asked.append(list(params))
        self._result = [(p, self.rows[p]) for p in params if p in self.rows]

    def fetchone(self) -> tuple[Any, ...] | None:
        raise AssertionError("not used")

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._result


def batch(*events: Any) -> list[tuple[Any, Any]]:
    return [(None, e) for e in events]


def test_later_batches_read_only_owners_not_seen_before() -> None:
    old, new, account, other = uuid4(), uuid4(), str(uuid4()), str(uuid4())
    table = Table({str(old): other})  # named by an earlier run
    known = KnownOwners()
    first = batch(Invoice.PaymentRecorded(old), Invoice.Created(new, UUID(account)))
    assert resolve_owners(table, first, known) == [(other, None), (account, account)]
    assert table.asked == [[str(old)]]
    second = batch(Invoice.PaymentRecorded(new), Invoice.PaymentRecorded(old))
    assert resolve_owners(table, second, known) == [(account, None), (other, None)]
    assert table.asked == [[str(old)]]  # nothing read again
    # What reading the table (with the first batch's naming recorded) would answer.
    recorded = Table({str(old): other, str(new): account})
    assert resolve_owners(recorded, second) == [(account, None), (other, None)]


def test_an_entity_named_earlier_in_the_batch_is_not_read() -> None:
    invoice, account = uuid4(), uuid4()
    table = Table({})
    events = batch(Invoice.Created(invoice, account), Invoice.PaymentRecorded(invoice))
    assert resolve_owners(table, events, KnownOwners()) == [
        (str(account), str(account)),
        (str(account), None),
    ]
    assert table.asked == []


def test_a_full_cache_starts_again_and_reads_what_it_dropped() -> None:
    a, b, account = uuid4(), uuid4(), str(uuid4())
    table = Table({str(a): account, str(b): account})
    known = KnownOwners(limit=1)
    assert resolve_owners(table, batch(Invoice.PaymentRecorded(a)), known) == [(account, None)]
    assert resolve_owners(table, batch(Invoice.PaymentRecorded(b)), known) == [(account, None)]
    assert known.owners == {str(b): account}
    assert resolve_owners(table, batch(Invoice.PaymentRecorded(a)), known) == [(account, None)]
    assert table.asked == [[str(a)], [str(b)], [str(a)]]
