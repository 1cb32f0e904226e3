"""JSON responses that write money as JSON numbers with the currency's exact digits."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response
from litestar.serialization import default_serializer

_ENCODER = msgspec.json.Encoder(enc_hook=default_serializer, decimal_format="number")


class ExperiResponse(Response[Any]):
    def render(self, content: Any, media_type: str, enc_hook: Any = default_serializer) -> bytes:
        if isinstance(content, (bytes, str)) or not media_type.startswith("application/json"):
            return super().render(content, media_type, enc_hook)
        return _ENCODER.encode(content)
