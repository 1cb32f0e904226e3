"""Who did something and from where: carried by every event, read back by the audit log."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Meta(TypedDict):
    """Event metadata: the actor, and the request that caused the change."""

    actorType: str  # "api_key", "user" or "system"
    actorId: str | None
    actorName: str | None
    requestId: str | None
    ip: str | None
    userAgent: str | None
    # Set when the request carried an Idempotency-Key: the ids a command creates derive
    # from it, so a command re-run for the same key finds its own earlier result.
    operationId: NotRequired[str]


def system_meta(name: str = "experi") -> Meta:
    """Metadata for changes made by an operator command or a background job."""
    return Meta(
        actorType="system",
        actorId=None,
        actorName=name,
        requestId=None,
        ip=None,
        userAgent=None,
    )
