"""JSON responses that write money as JSON numbers with the currency's exact digits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Response
from litestar.serialization import default_serializer

_ENCODER = msgspec.json.Encoder(enc_hook=default_serializer, decimal_format="number")


def encode(content: Any) -> bytes:
    """JSON as every response writes it (`msgspec.Raw` parts are copied as they are)."""
    return _ENCODER.encode(content)


class ExperiResponse(Response[Any]):
    def render(self, content: Any, media_type: str, enc_hook: Any = default_serializer) -> bytes:
        if isinstance(content, (bytes, str)) or not media_type.startswith("application/json"):
            return super().render(content, media_type, enc_hook)
        return _ENCODER.encode(content)


def stored(document: bytes, status_code: int = 200) -> ExperiResponse:
    """A response whose body is a document shaped when its row was written."""
    return ExperiResponse(document, status_code=status_code, media_type="application/json")


def listing(documents: Sequence[bytes], pagination: Any, **extra: Any) -> ExperiResponse:
    """A list response (`data`, `pagination`, then `extra`) around stored documents."""
    body = {"data": [msgspec.Raw(d) for d in documents], "pagination": pagination, **extra}
    return stored(_ENCODER.encode(body))


def as_of(document: bytes, moment: str) -> ExperiResponse:
    """A document read as of a past moment, with that moment echoed as `asOf`."""
    head = document.rstrip()
    return stored(head[:-1] + b',"asOf":' + _ENCODER.encode(moment) + b"}")
