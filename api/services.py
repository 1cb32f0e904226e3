"""The composition root as the API's entry points use it: with the API's documents."""

from __future__ import annotations

from api.documents import ApiDocuments
from application.ports import Clock
from infrastructure import bootstrap
from infrastructure.settings import Settings


def build_services(
    settings: Settings, clock: Clock | None = None, *, settle: bool = True
) -> bootstrap.Services:
    return bootstrap.build_services(settings, clock, documents=ApiDocuments(), settle=settle)
