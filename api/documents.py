"""The API's JSON for each resource, written into its read-model row with its events
(the `Documents` port): reads return these bytes as they are."""

from __future__ import annotations

from datetime import date
from typing import Any

from api import render
from api.responses import encode


class ApiDocuments:
    def invoice(self, invoice: Any) -> bytes:
        # No day is before date.min, so the stored document says `isOverdue: false`;
        # reads set it for the day they are made.
        return encode(render.invoice(invoice, date.min))

    def client(self, client: Any) -> bytes:
        return encode(render.client(client))

    def recurring(self, template: Any) -> bytes:
        return encode(render.recurring(template))
