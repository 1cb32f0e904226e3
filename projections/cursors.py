"""Opaque pagination cursors: the sort key of the last item of a page."""

from __future__ import annotations

import base64
import json
from typing import Any

from application.ports import InvalidCursor


def encode(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, cursor: str, types: tuple[type, ...]) -> list[Any]:
    """The key inside a cursor of this kind, or InvalidCursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise InvalidCursor("Invalid cursor") from None
    if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
        raise InvalidCursor("Invalid cursor")
    key = value[1:]
    for item, expected in zip(key, types, strict=True):
        if type(item) is not expected:
            raise InvalidCursor("Invalid cursor")
    return key
