"""Snapshots that give back the aggregate exactly as replayed: JSON has no tuples, so
the sequences aggregates hold as tuples come back as tuples, not lists."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Snapshot as LibrarySnapshot


class Snapshot(LibrarySnapshot):
    def mutate(self, aggregate: Any) -> Any:
        restored = super().mutate(aggregate)
        for name, value in vars(restored).items():
            if isinstance(value, list) and not name.startswith("_"):
                setattr(restored, name, tuple(value))
        return restored
