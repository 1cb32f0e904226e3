"""Large aggregate states kept decoded in the process, each at the version it stands at.

An invoice's state holds every payment and email it ever had: at 1,000 payments it is
about 175 KB (its row keeps most payments in blocks beside it, put back when read), and
decoding it took about 5 ms of each payment's 9. A state kept here
is used only when its row, read in the same statement, still stands at the kept version
(a version is one history: the same events, so the same state), and the row's state is
then not sent at all. Every other row is read and decoded as before.

Each aggregate handed out is a new object over a copy of the kept attributes, so a
command that changes it (and perhaps fails) never changes what is kept: an aggregate's
attributes are replaced when it changes, never changed in place (tuples, frozen values).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from application.lru import SizedLRU

# Rows smaller than this decode in well under a millisecond: they are not kept.
MIN_BYTES = 16_384
# At most this many bytes of encoded state are kept per process (least recently used
# go first); decoded, a state takes a few times its encoded size. A state larger than a
# quarter of it is not kept.
MAX_BYTES = 16 * 1024 * 1024
_NOT_KEPT = ("_pending_events",)


class _Kept:
    __slots__ = ("cls", "size", "state", "version")

    def __init__(self, version: int, cls: type, state: dict[str, Any], size: int) -> None:
        self.version = version
        self.cls = cls
        self.state = state
        self.size = size

    def aggregate(self) -> Any:
        aggregate: Any = object.__new__(self.cls)
        object.__setattr__(aggregate, "__dict__", {**self.state, "_pending_events": []})
        return aggregate


class KeptStates:
    def __init__(self, max_bytes: int = MAX_BYTES, min_bytes: int = MIN_BYTES) -> None:
        self.min_bytes = min_bytes
        self._kept: SizedLRU[UUID, _Kept] = SizedLRU(max_bytes, max_bytes // 4)
        self._lock = threading.Lock()  # a newer version is never replaced by an older
        # The aggregates handed out from rows, by object: only their saves move what is
        # kept on. One loaded from the event store (a retry after a conflict) may differ
        # in form from the row (a snapshot gives lists for tuples), and is not kept.
        self._from_rows: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._kept)

    def entry(self, obj_id: UUID) -> _Kept | None:
        """What is kept of this aggregate, if anything: its version decides whether the
        row's state need be read."""
        return self._kept.get(obj_id)

    def handed_out(self, kept: _Kept) -> Any:
        """A new aggregate over a copy of what is kept."""
        aggregate = kept.aggregate()
        self._from_rows[id(aggregate)] = aggregate
        return aggregate

    def loaded(self, aggregate: Any, size: int) -> None:
        """An aggregate just decoded from `size` bytes of its row: kept if that is large."""
        if size >= self.min_bytes:
            self._keep(aggregate, size)
            self._from_rows[id(aggregate)] = aggregate

    def saved(self, aggregates: Iterable[Any], sizes: Mapping[Any, int]) -> None:
        """After a commit: each saved aggregate that came from a kept row is kept at its
        new version (its row now holds exactly this state, of `sizes[id]` bytes)."""
        if not self._kept:
            return
        for aggregate in aggregates:
            if not self._handed(aggregate):
                continue
            size = sizes.get(aggregate.id)
            kept = self.entry(aggregate.id)
            if kept is not None and size is not None and kept.cls is type(aggregate):
                self._keep(aggregate, size)

    def _handed(self, aggregate: Any) -> bool:
        found: Any = self._from_rows.get(id(aggregate))
        return found is aggregate

    def _keep(self, aggregate: Any, size: int) -> None:
        state = {k: v for k, v in vars(aggregate).items() if k not in _NOT_KEPT}
        kept = _Kept(aggregate.version, type(aggregate), state, size)
        with self._lock:
            old = self._kept.get(aggregate.id)
            if old is None or old.version <= kept.version:  # else another thread's is newer
                self._kept.put(aggregate.id, kept, size)
