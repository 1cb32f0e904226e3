"""A response's raw header list, its names indexed once.

Litestar's MutableScopeHeaders scans and lower-cases the whole list on every get and set;
`stamp_response` sets about ten headers on every response, and those scans showed in a
GET's profile. This reads and writes the same list of (name, value) byte pairs.
"""

from __future__ import annotations

from typing import Any

from litestar.types import Message


class ResponseHeaders:
    __slots__ = ("_at", "_raw")

    def __init__(self, message: Message) -> None:
        raw: Any = message.get("headers")
        if not isinstance(raw, list):
            raw = list(raw or ())
            message["headers"] = raw  # type: ignore[typeddict-unknown-key]
        self._raw: list[tuple[bytes, bytes]] = raw
        self._at = self._index()

    def _index(self) -> dict[bytes, int]:
        return {name.lower(): i for i, (name, _) in enumerate(self._raw)}

    def get(self, name: str) -> str | None:
        at = self._at.get(name.lower().encode("latin-1"))
        return None if at is None else self._raw[at][1].decode("latin-1")

    def __contains__(self, name: str) -> bool:
        return name.lower().encode("latin-1") in self._at

    def __setitem__(self, name: str, value: str) -> None:
        """Sets `name` to `value`, replacing every earlier value of it."""
        key = name.lower().encode("latin-1")
        pair = (key, value.encode("latin-1"))
        if key in self._at:
            self._raw[:] = [*(p for p in self._raw if p[0].lower() != key), pair]
            self._at = self._index()
        else:
            self._at[key] = len(self._raw)
            self._raw.append(pair)
