"""Commands on clients."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.base import ExperiBase, operation_id, retry_on_conflict
from domain.client import Client
from domain.meta import Meta


class ClientCommands(ExperiBase):
    @retry_on_conflict
    def create_client(self, account_id: UUID, details: dict[str, Any], meta: Meta) -> Client:
        earlier = self.earlier_result(Client, account_id, meta)
        if earlier is not None:
            return earlier
        client = Client(
            id=operation_id(meta) or uuid4(),
            account_id=account_id,
            details=details,
            at=self.clock.now(),
            meta=meta,
        )
        self.save(client)
        return client

    def get_client(self, account_id: UUID, client_id: UUID) -> Client:
        return self.get_owned(Client, account_id, client_id, "Client")

    @retry_on_conflict
    def update_client(
        self, account_id: UUID, client_id: UUID, changes: dict[str, Any], meta: Meta
    ) -> Client:
        client = self.get_client(account_id, client_id)
        client.update(changes, self.clock.now(), meta)
        self.save(client)
        return client

    @retry_on_conflict
    def archive_client(self, account_id: UUID, client_id: UUID, meta: Meta) -> Client:
        client = self.get_client(account_id, client_id)
        client.archive(self.clock.now(), meta)
        self.save(client)
        return client
