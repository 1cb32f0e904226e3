"""Rendered invoice PDFs, kept and shared between requests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from application.lru import SizedLRU
from application.ports import InvoiceDocument


class RenderCache:
    """Rendered invoices by (invoice, seller, client) version, least recently used
    dropped first once they pass `max_bytes`. A 500-line invoice costs over a second
    of CPU to render; an unchanged one is rendered once, and its download and its
    email attachment are the same bytes."""

    def __init__(
        self, renderer: Callable[[], InvoiceDocument], max_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self._make_renderer = renderer
        self._renderer: InvoiceDocument | None = None
        self._documents: SizedLRU[Hashable, bytes] = SizedLRU(max_bytes)
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}

    def render(self, invoice: Any, seller: Any, client: Any) -> bytes:
        key = (invoice.id, invoice.version, seller.id, seller.version, client.id, client.version)
        with self._lock:
            document = self._documents.get(key)
            if document is not None:
                return document
            # Requests for the same new version wait for one render, not one each.
            gate = self._rendering.setdefault(key, threading.Lock())
        try:
            with gate:
                document = self._documents.get(key)
                if document is None:
                    document = self.renderer.render(invoice, seller, client)
                    self._documents.put(key, document, len(document))
        finally:
            with self._lock:
                self._rendering.pop(key, None)
        return document

    @property
    def renderer(self) -> InvoiceDocument:
        """The renderer, made at the first render: a process that renders no PDF (the
        CLI, a rebuild's helper) does not import the PDF library or load its fonts."""
        with self._lock:
            if self._renderer is None:
                self._renderer = self._make_renderer()
            return self._renderer

    @renderer.setter
    def renderer(self, renderer: InvoiceDocument) -> None:
        with self._lock:
            self._renderer = renderer
