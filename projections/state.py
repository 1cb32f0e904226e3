"""Aggregate state kept in a view row, so that each event is applied once, not replayed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, get_type_hints
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.account import Account
from domain.client import Client
from domain.invoice import Invoice
from domain.numbering import InvoiceCounter
from domain.snapshots import Snapshot
from projections.invoice_state import InvoiceState
from projections.row_states import AccountState, ClientState, CounterState

SNAPSHOT_TOPIC = get_topic(Snapshot)
# Attributes every aggregate holds that its snapshot state leaves out.
_IDENTITY = ("_id", "_version", "_pending_events")
# Kinds whose state grows with their life, and those a new invoice reads under its
# account's numbering lock, get a typed encoding (see TypedState).
TYPED: Mapping[type, type] = {
    Invoice: InvoiceState,
    InvoiceCounter: CounterState,
    Client: ClientState,
    Account: AccountState,
}
# Attributes that only grow, one item per command: their first items can be kept
# apart from the row (see projections/invoice_payments.py).
GROWN: Mapping[type, tuple[str, ...]] = {Invoice: ("payments",)}


def _joined(items_type: Any) -> Callable[[Any], bytes]:
    def joined(items: Any) -> bytes:
        # Checked as the state's other values are (convert raises on a wrong item).
        checked = msgspec.convert(items, items_type, from_attributes=True)
        return msgspec.json.encode(checked)[1:-1]

    return joined


class TypedState:
    """One aggregate class's state as `["<topic>",{...}]`, encoded and decoded by msgspec
    against a TypedDict of its attributes. An aggregate whose attributes differ from the
    TypedDict's (an attribute added later, a value of another type) is not encoded here:
    `dump` gives None and the row keeps the generic encoding, which is always readable."""

    def __init__(self, cls: type, schema: type) -> None:
        self.cls = cls
        self.schema = schema
        self.fields = frozenset(schema.__annotations__)
        self.prefix = msgspec.json.encode([get_topic(cls)])[:-1] + b","
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(schema)
        hints = get_type_hints(schema)
        self.joined = {name: _joined(hints[name]) for name in GROWN.get(cls, ())}

    def dump(self, aggregate: Any, skip: int = 0) -> bytes | None:
        """The state, leaving out the first `skip` items of each growing tuple (kept
        elsewhere, see projections/invoice_payments.py)."""
        state = {k: v for k, v in vars(aggregate).items() if k not in _IDENTITY}
        if state.keys() != self.fields:
            return None
        if skip:
            state.update({name: tuple(state[name])[skip:] for name in self.joined})
        try:
            checked: Any = msgspec.convert(state, self.schema, from_attributes=True)
        except msgspec.ValidationError:
            return None
        return self.prefix + msgspec.json.encode(checked) + b"]"

    def load(self, aggregate_id: UUID, version: int, data: bytes) -> Any:
        state: dict[str, Any] = self._decoder.decode(data[len(self.prefix) : -1])
        state["_id"] = aggregate_id
        state["_version"] = version
        state["_pending_events"] = []
        aggregate: Any = object.__new__(self.cls)
        object.__setattr__(aggregate, "__dict__", state)
        return aggregate


class StateCodec:
    """Stores an aggregate as a snapshot (the event store's own encoding), or in its
    class's typed encoding if it has one (see TypedState), and back."""

    def __init__(self, mapper: Mapper[UUID], typed: Mapping[type, type] = TYPED) -> None:
        self.mapper = mapper
        self.typed = {cls: TypedState(cls, schema) for cls, schema in typed.items()}

    def dump(self, aggregate: Any, skip: int = 0) -> bytes:
        """The aggregate's state; a typed one leaves out the first `skip` items of its
        growing tuples (a generic one is always whole)."""
        typed = self.typed.get(type(aggregate))
        encoded = typed.dump(aggregate, skip) if typed is not None else None
        if encoded is not None:
            return encoded
        # The snapshot's own timestamp is the aggregate's, so that a rebuild
        # writes byte-identical rows.
        snapshot = replace(Snapshot.take(aggregate), timestamp=aggregate.modified_on)
        return bytes(self.mapper.to_stored_event(snapshot).state)

    def items(self, cls: type, name: str, items: Any) -> bytes:
        """`items` of `cls`'s growing tuple `name` in its typed encoding, comma-separated."""
        return self.typed[cls].joined[name](items)

    def load(self, aggregate_id: UUID, version: int, state: bytes) -> Any:
        data = bytes(state)
        if data.startswith(b'["'):
            for typed in self.typed.values():
                if data.startswith(typed.prefix):
                    return typed.load(aggregate_id, version, data)
        stored = StoredEvent(
            originator_id=aggregate_id,
            originator_version=version,
            topic=SNAPSHOT_TOPIC,
            state=data,
        )
        return self.mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
