"""How domain value objects are stored inside events (JSON, exact decimals)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.values import Email, LineItem, Payment


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
            UUID(data["id"]),
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
            UUID(data["id"]),
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
    "uuid_hex": UUID,
    "decimal_str": Decimal,
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
}


class EventTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, with the same stored form, whose decoder turns
    each tagged value back with one lookup and one call. Every follower decodes every
    event (a rebuild's two processes both do), and the library's hook (a method per
    object, exceptions as control flow) was most of that."""

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self.decoder = json.JSONDecoder(object_hook=self._object)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = _DIRECT.get(transcoding.name, transcoding.decode)

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
