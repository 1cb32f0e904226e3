"""JSON arrays of long tuples that only grow, extended rather than encoded again.

An invoice's payments tuple gains one payment per command, and every command answers
with its whole document, which lists them all. The array last encoded for each owner
is kept with the tuple it came from; when the next tuple holds the same item objects in
the same order plus new ones, only the new ones are encoded. Items never change (frozen
values), so the same objects give the same text; any other tuple is encoded whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import is_
from typing import Any

from application.lru import SizedLRU


class GrownArrays:
    def __init__(self, joined: Callable[[Sequence[Any]], bytes], max_bytes: int) -> None:
        self._joined = joined  # the items' texts, comma-separated (an array's inside)
        # An array over a quarter of the budget would push out all others: not kept.
        self._kept: SizedLRU[Any, tuple[tuple[Any, ...], bytes]] = SizedLRU(
            max_bytes, max_bytes // 4
        )

    def array(self, owner: Any, items: tuple[Any, ...]) -> bytes:
        """`items` as a JSON array, `[` + joined(items) + `]`."""
        entry = self._kept.get(owner)
        if entry is not None:
            earlier, text = entry
            if earlier is items:
                return text
            n = len(earlier)
            if 0 < n < len(items) and all(map(is_, earlier, items)):
                text = text[:-1] + b"," + self._joined(items[n:]) + b"]"
                self._kept.put(owner, (items, text), len(text))
                return text
        text = b"[" + self._joined(items) + b"]"
        self._kept.put(owner, (items, text), len(text))
        return text
