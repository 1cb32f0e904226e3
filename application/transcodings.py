"""How domain value objects are stored inside events (JSON, exact decimals)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, SafeUUID

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.values import Email, LineItem, Payment


def uuid_from_hex(text: str) -> UUID:
    """`UUID(text)`. The store writes 32 hex digits, which this turns into the UUID with
    the very `int(text, 16)` that `UUID` makes of them, without the rest of its parsing
    (a third of the time). Any other text goes through `UUID` itself."""
    if len(text) == 32:
        value = int(text, 16)
        if value >= 0:
            ident = _new(UUID)
            _set(ident, "int", value)
            _set(ident, "is_safe", SafeUUID.unknown)
            return ident
    return UUID(text)


_new, _set = object.__new__, object.__setattr__


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LineItemAsDict(Transcoding):
    type = LineItem
    name = "line_item"

    def encode(self, obj: LineItem) -> dict[str, Any]:
        return {"d": obj.description, "q": str(obj.quantity), "p": str(obj.unit_price)}

    def decode(self, data: dict[str, Any]) -> LineItem:
        return LineItem(data["d"], Decimal(data["q"]), Decimal(data["p"]))


class PaymentAsDict(Transcoding):
    type = Payment
    name = "payment"

    def encode(self, obj: Payment) -> dict[str, Any]:
        return {
            "id": obj.id.hex,
            "amount": str(obj.amount),
            "date": obj.payment_date.isoformat(),
            "method": obj.payment_method,
            "reference": obj.reference,
            "recorded_at": obj.recorded_at,
        }

    def decode(self, data: dict[str, Any]) -> Payment:
        return Payment(
            uuid_from_hex(data["id"]),
            Decimal(data["amount"]),
            date.fromisoformat(data["date"]),
            data["method"],
            data["reference"],
            data["recorded_at"],
        )


class EmailAsDict(Transcoding):
    type = Email
    name = "email"

    def encode(self, obj: Email) -> dict[str, Any]:
        return {
            "id": obj.id.hex,
            "to": obj.to_email,
            "subject": obj.subject,
            "body": obj.body,
            "message_id": obj.message_id,
            "status": obj.status,
            "attempts": obj.attempts,
            "sent_at": obj.sent_at,
            "last_error": obj.last_error,
        }

    def decode(self, data: dict[str, Any]) -> Email:
        return Email(
            uuid_from_hex(data["id"]),
            data["to"],
            data["subject"],
            data["body"],
            data["message_id"],
            data["status"],
            data["attempts"],
            data["sent_at"],
            data["last_error"],
        )


# The library's own value types, turned back by the constructor itself.
_DIRECT: dict[str, Callable[[Any], Any]] = {
    "uuid_hex": uuid_from_hex,
    "decimal_str": Decimal,
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
}


_PLAIN = msgspec.json.Decoder()  # JSON to dicts, lists and scalars, in C
_NESTED = (dict, list)


class EventTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, with the same stored form, whose decoder turns
    each tagged value back with one lookup and one call. Every follower decodes every
    event (a rebuild's two processes both do), and the library's hook (a method per
    object, exceptions as control flow) was most of that.

    The text is parsed by msgspec, about three times as fast as `json`, and the
    tagged objects are then turned back innermost first, as `json`'s object hook
    does. What msgspec refuses and `json` reads (NaN, a lone surrogate) takes the
    `json` decoder, so every stored event decodes as the library decodes it."""

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self.decoder = json.JSONDecoder(object_hook=self._object)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = _DIRECT.get(transcoding.name, transcoding.decode)

    def decode(self, data: bytes) -> Any:
        try:
            value = _PLAIN.decode(data)
        except msgspec.DecodeError:
            return super().decode(data)
        return self._restored(value) if type(value) in _NESTED else value

    def _restored(self, value: Any) -> Any:
        """`value` (a dict or a list) with its tagged objects turned back, in place."""
        if type(value) is list:
            for i, item in enumerate(value):
                if type(item) in _NESTED:
                    value[i] = self._restored(item)
            return value
        decoders = self._decoders
        for key, item in value.items():
            kind = type(item)
            if kind is dict and len(item) == 2 and "_data_" in item:
                # Most nested objects are tagged leaves: turned back without a call.
                decode = decoders.get(item.get("_type_"))
                if decode is not None:
                    data = item["_data_"]
                    value[key] = decode(self._restored(data) if type(data) in _NESTED else data)
                    continue
            if kind in _NESTED:
                value[key] = self._restored(item)  # same keys: the dict keeps its size
        return self._object(value)

    def _object(self, d: dict[str, Any]) -> Any:
        if len(d) == 2 and "_data_" in d:
            decode = self._decoders.get(d.get("_type_"))  # type: ignore[arg-type]
            if decode is not None:
                return decode(d["_data_"])
            return self._decode_obj(d)  # the library's answer, or its error
        return d


def register(transcoder: JSONTranscoder) -> None:
    for transcoding in (DateAsISO(), LineItemAsDict(), PaymentAsDict(), EmailAsDict()):
        transcoder.register(transcoding)
