"""Aggregate state kept in a view row, so that each event is applied once, not replayed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.snapshots import Snapshot

SNAPSHOT_TOPIC = get_topic(Snapshot)


class StateCodec:
    """Stores an aggregate as a snapshot (the event store's own encoding) and back."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper

    def dump(self, aggregate: Any) -> bytes:
        # The snapshot's own timestamp is the aggregate's, so that a rebuild
        # writes byte-identical rows.
        snapshot = replace(Snapshot.take(aggregate), timestamp=aggregate.modified_on)
        return bytes(self.mapper.to_stored_event(snapshot).state)

    def load(self, aggregate_id: UUID, version: int, state: bytes) -> Any:
        stored = StoredEvent(
            originator_id=aggregate_id,
            originator_version=version,
            topic=SNAPSHOT_TOPIC,
            state=bytes(state),
        )
        return self.mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
