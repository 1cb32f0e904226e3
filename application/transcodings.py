"""How domain value objects are stored inside events (JSON, exact decimals)."""

from __future__ import annotations

from datetime import date
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


def register(transcoder: JSONTranscoder) -> None:
    for transcoding in (DateAsISO(), LineItemAsDict(), PaymentAsDict(), EmailAsDict()):
        transcoder.register(transcoding)
